from __future__ import annotations

import importlib.util
import pathlib
from typing import Any, Callable

import pytest

import promptsieve

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def scanner() -> promptsieve.Scanner:
    return promptsieve.Scanner()


@pytest.fixture(scope="session")
def repo_root() -> pathlib.Path:
    return ROOT


@pytest.fixture(scope="session")
def load_example() -> Callable[[str], Any]:
    """Imports one of bindings/python/examples/*.py by file name."""

    def load(name: str) -> Any:
        path = pathlib.Path(__file__).resolve().parents[1] / "examples" / name
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
