from __future__ import annotations

import pathlib

import pytest

import promptsieve

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def scanner() -> promptsieve.Scanner:
    return promptsieve.Scanner()


@pytest.fixture(scope="session")
def repo_root() -> pathlib.Path:
    return ROOT
