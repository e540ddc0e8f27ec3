"""The shared conformance suite (tests/conformance/*.json) in Python, with
spans checked in code points against Python slicing."""

from __future__ import annotations

import json
import pathlib

import pytest

import promptsieve

CASES_DIR = pathlib.Path(__file__).resolve().parents[3] / "tests" / "conformance"
# Stateful cases (vaults, message lists, streams): tests/test_conversations.py.
CONVERSATIONS = "conversations.json"


def _cases():
    for path in sorted(CASES_DIR.glob("*.json")):
        if path.name == CONVERSATIONS:
            continue
        for case in json.loads(path.read_text(encoding="utf-8")):
            yield pytest.param(case, id=f"{path.name}/{case['name']}")


def code_points(text: str, byte: int) -> int:
    """UTF-8 byte offset -> code-point index in the same string."""
    return len(text.encode("utf-8")[:byte].decode("utf-8"))


def matches(want: dict, got: promptsieve.Finding, text: str) -> bool:
    if want["category"] != got.category:
        return False
    if want.get("rule") and want["rule"] != got.rule:
        return False
    if "span" in want:
        s, e = (code_points(text, b) for b in want["span"])
        if (s, e) != (got.start, got.end):
            return False
        assert text[s:e] == want["match"]
    return True


def test_the_suite_is_there():
    assert len(list(_cases())) >= 20


@pytest.mark.parametrize("case", list(_cases()))
def test_case(case: dict, scanner: promptsieve.Scanner) -> None:
    text = case["text"]
    report = scanner.report(text)
    for f in report.findings:
        assert text[f.start : f.end] == f.text, f"slice of {f.rule}"
    if isinstance(case.get("flagged"), bool):
        assert report.flagged == case["flagged"]
    for want in case["findings"]:
        assert any(matches(want, g, text) for g in report.findings), f"missing {want} in {report.findings}"
    if case.get("exact"):
        for g in report.findings:
            assert any(matches(w, g, text) for w in case["findings"]), f"unexpected {g}"
    if isinstance(case.get("redacted"), str):
        r = scanner.redact(text)
        assert r.text == case["redacted"]
        assert r.restore(r.text) == text
        for x in r.replacements:
            assert text[x.start : x.end] == x.original
