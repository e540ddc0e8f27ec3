"""Runs the README's code blocks that follow a `<!-- run -->` line, so the
documentation cannot drift from the API."""

from __future__ import annotations

import pathlib
import re

import pytest

README = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"<!-- run -->\n```python\n(.*?)```", README, flags=re.S)


def test_there_are_blocks_to_run() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block(code: str) -> None:
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
