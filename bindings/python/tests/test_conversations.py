"""The shared conversation and stream cases (tests/conformance/conversations.json):
one vault across turns with a JSON round trip, an OpenAI message list, and
stream restoring over every split of a reply."""

from __future__ import annotations

import json
import pathlib
import random
from typing import Any, Dict, List

import pytest

import promptsieve

CASES = json.loads(
    (pathlib.Path(__file__).resolve().parents[3] / "tests" / "conformance" / "conversations.json").read_text(
        encoding="utf-8"
    )
)


@pytest.fixture(scope="module")
def scanner() -> promptsieve.Scanner:
    return promptsieve.Scanner()


def test_every_kind_has_a_case() -> None:
    assert {c["kind"] for c in CASES} == {"conversation", "messages", "stream"}


def _run(vault: promptsieve.Vault, reply: str, cuts: List[int], max_held: int) -> str:
    r = vault.restorer()
    out, last = [], 0
    for c in cuts + [len(reply)]:
        out.append(r.push(reply[last:c]))
        assert r.held <= max_held
        last = c
    out.append(r.finish())
    return "".join(out)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(scanner: promptsieve.Scanner, case: Dict[str, Any]) -> None:
    vault = promptsieve.Vault()
    reply, restored = case["reply"], case["restored"]
    if case["kind"] == "conversation":
        for turn, want in zip(case["turns"], case["redacted"]):
            assert scanner.redact(turn, vault=vault).text == want
        again = promptsieve.Vault.from_json(vault.to_json())
        assert again.restore(reply) == restored
    elif case["kind"] == "messages":
        r = scanner.redact_messages(case["messages"], vault=vault)
        assert r.messages == case["redacted"]
        assert scanner.check_messages(case["messages"]).action == case["action"]
        assert vault.restore(reply) == restored
    else:
        for turn in case["turns"]:
            scanner.redact(turn, vault=vault)
        for i in range(len(reply) + 1):
            assert _run(vault, reply, [i], case["max_held"]) == restored, i
        rng = random.Random(7)
        for _ in range(200):
            cuts = sorted(rng.randrange(len(reply) + 1) for _ in range(8))
            assert _run(vault, reply, cuts, case["max_held"]) == restored, cuts
        # The generator form gives the same text.
        pieces = [reply[i : i + 3] for i in range(0, len(reply), 3)]
        assert "".join(vault.restore_stream(pieces)) == restored
