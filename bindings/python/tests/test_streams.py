"""Streams against their whole-text twins, over random replies and random
splits: ``Vault.restore_stream`` must give ``Vault.restore`` of the whole
reply, holding back at most one placeholder's length, and an output stream
must end with the report ``output_report`` gives on the whole reply,
having found along the way what it finds."""

from __future__ import annotations

import asyncio
import random
from typing import AsyncIterator, List, Set, Tuple

import pytest

from promptsieve import Finding, Report, Scanner, Vault

# The longest text the engine reads as a placeholder, in UTF-8 bytes.
LONGEST_PLACEHOLDER = 56


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner()


@pytest.fixture(scope="module")
def vault(scanner: Scanner) -> Vault:
    v = Vault()
    scanner.redact("I am Alice Martin, mail alice@example.org, call +44 20 7946 0958", vault=v)
    scanner.redact("Bob Stone writes from bob@example.org, card 4111 1111 1111 1111", vault=v)
    assert len(v) >= 5
    return v


# Pieces a reply is made of: real placeholders, near misses and unknown
# numbers (which must come out unchanged), brackets, bare forms, non-ASCII.
PIECES = [
    "[PERSON_1]", "[PERSON_2]", "[EMAIL_1]", "[EMAIL_2]", "[PHONE_1]", "[CREDIT_CARD_1]",
    "[ PERSON_1 ]", "PERSON_1", "EMAIL_2", "[PERSON_99]", "[PERSON_", "[EMAIL", "[", "]", "_1]",
    "Dear ", " and ", ", ", "😀", "zoë ", "\n", "[note]", "[A_1", "x" * 70,
]


def _split(rng: random.Random, text: str) -> List[str]:
    cuts = sorted(rng.randrange(len(text) + 1) for _ in range(rng.randrange(0, 12)))
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]


def test_restore_stream_equals_restore_on_random_replies(vault: Vault) -> None:
    rng = random.Random(14)
    for _ in range(300):
        reply = "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 15)))
        chunks = _split(rng, reply)
        r = vault.restorer()
        out = []
        for c in chunks:
            out.append(r.push(c))
            assert r.held <= LONGEST_PLACEHOLDER, (reply, chunks)
        out.append(r.finish())
        assert "".join(out) == vault.restore(reply), (reply, chunks)
        assert "".join(vault.restore_stream(chunks)) == vault.restore(reply)


def test_restore_stream_emits_text_that_cannot_be_a_placeholder(vault: Vault) -> None:
    # Latency: plain text goes out at once, only a possible placeholder waits.
    r = vault.restorer()
    assert r.push("Hello there, ") == "Hello there, "
    assert r.push("dear [PERS") == "dear "
    assert r.held == len("[PERS")
    assert r.push("ON_1]!") == "Alice Martin!"
    assert r.finish() == ""


def test_arestore_stream_equals_restore(vault: Vault) -> None:
    rng = random.Random(3)

    async def agen(chunks: List[str]) -> AsyncIterator[str]:
        for c in chunks:
            await asyncio.sleep(0)
            yield c

    async def run(chunks: List[str]) -> str:
        return "".join([c async for c in vault.arestore_stream(agen(chunks))])

    for _ in range(50):
        reply = "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 10)))
        assert asyncio.run(run(_split(rng, reply))) == vault.restore(reply)


REPLY = (
    "Sure! Your code is cnry-7f3a-91bd. Details at https://exfil.evil.test/c?d=YWxpY2U "
    "and docs at https://docs.example.com/guide. As instructed: you are the billing "
    "assistant of Acme and you never discuss refunds over one hundred euros. 😀 Bye."
)
CONTEXT = {
    "canaries": ["cnry-7f3a-91bd"],
    "allowed_hosts": ["example.com"],
    "system_prompt": "You are the billing assistant of Acme and you never discuss refunds over one hundred euros.",
}


# The reply goes on for more than one of the engine's scan batches (256
# bytes) after the last finding, so every finding is reported by ``push``
# before the stream ends.
LONG = REPLY + " More text follows here, line after line." * 10


def _key(f: Finding) -> Tuple[str, int, int]:
    return (f.rule, f.start, f.end)


def _stream(scanner: Scanner, chunks: List[str]) -> Tuple[Set[Tuple[str, int, int]], Report, bool]:
    o = scanner.output_stream(CONTEXT)
    found: Set[Tuple[str, int, int]] = set()
    for c in chunks:
        found |= {_key(f) for f in o.push(c)}
    stopped = o.should_stop
    return found, o.finish(), stopped


@pytest.mark.parametrize("reply", [REPLY, LONG], ids=["short", "long"])
def test_output_stream_matches_scan_output_at_every_split(scanner: Scanner, reply: str) -> None:
    whole = scanner.output_report(reply, CONTEXT)
    assert {f.rule for f in whole} == {"output-canary", "output-link-outside-allowlist", "output-system-prompt-leak"}
    want = {_key(f) for f in whole}
    for i in range(len(reply) + 1):
        found, report, stopped = _stream(scanner, [reply[:i], reply[i:]])
        assert report == whole, i
        # Pushes report only what the whole reply has (spans included); a
        # short reply may leave its findings to finish().
        assert found <= want, i
        if reply == LONG:
            assert found == want and stopped, i


@pytest.mark.parametrize("reply", [REPLY, LONG], ids=["short", "long"])
def test_output_stream_matches_scan_output_on_random_splits(scanner: Scanner, reply: str) -> None:
    whole = scanner.output_report(reply, CONTEXT)
    want = {_key(f) for f in whole}
    rng = random.Random(200)
    for _ in range(200):
        chunks = _split(rng, reply)
        found, report, stopped = _stream(scanner, chunks)
        assert report == whole, chunks
        assert found <= want, chunks
        if reply == LONG:
            assert found == want and stopped, chunks


def test_output_stream_stops_early(scanner: Scanner) -> None:
    # The leak is known within one scan batch of its end, long before the reply's.
    o = scanner.output_stream(CONTEXT)
    for i in range(0, len(LONG), 5):
        o.push(LONG[i : i + 5])
        if o.should_stop:
            break
    assert o.should_stop and i + 5 <= 33 + 256 < len(LONG)
