"""What every adapter test shares: the two-turn conversation, the reply the
fake models stream, its splits into chunks, and the checks the acceptance
criteria ask for. The tests here show that the checks catch what a naive
per-chunk restore gets wrong, so a pass elsewhere means something.

The other ``test_adapter_*`` modules import this one by name (pytest puts
this directory on ``sys.path``, as ``conftest.py`` sits in it).
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from typing import Iterable, Iterator, List, Sequence

import pytest

import promptsieve

# Turn 1 and turn 2 of the conversation, as the user typed them.
TURN1 = "I am Alice Martin, please write to alice@example.org"
TURN2 = "Also copy bob@example.org, and sign it Alice Martin"
# The real values: none may reach a model, in any turn.
SECRETS = ("Alice Martin", "alice@example.org", "bob@example.org")

# What the model answers, in placeholders (it saw only those): placeholders
# back to back, at both ends, next to non-ASCII text and a bracket that is
# not one.
REPLY = "[PERSON_1], I wrote to [EMAIL_1][EMAIL_2] 😀 (cc [EMAIL_2]). Bye [PERSON_1]"
RESTORED = "Alice Martin, I wrote to alice@example.orgbob@example.org 😀 (cc bob@example.org). Bye Alice Martin"

# Any bracketed upper-case run: a placeholder or the start of one.
_PLACEHOLDERISH = re.compile(r"\[[A-Z_0-9]*\]?")


def conversation_vault() -> promptsieve.Vault:
    """A vault holding both turns' values, numbered as the adapters number them."""
    vault = promptsieve.Vault()
    scanner = promptsieve.default_scanner()
    scanner.redact(TURN1, vault=vault)
    scanner.redact(TURN2, vault=vault)
    assert vault.restore(REPLY) == RESTORED
    return vault


def every_split(text: str, *, random_splits: int = 60, seed: int = 16) -> Iterator[List[str]]:
    """Every two-chunk split of ``text`` (empty first or last chunk
    included), then ``random_splits`` random splits into 3 to 14 chunks."""
    for i in range(len(text) + 1):
        yield [text[:i], text[i:]]
    rng = random.Random(seed)
    for _ in range(random_splits):
        cuts = sorted(rng.randrange(len(text) + 1) for _ in range(rng.randrange(2, 14)))
        yield [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]


def assert_clean_stream(delivered: Sequence[str], expected: str = RESTORED, chunks: object = None) -> None:
    """What the consumer got, chunk by chunk, was always a prefix of the
    restored reply (so no placeholder, whole or partial, ever showed), and
    all of it adds up to the restored reply."""
    seen = ""
    for piece in delivered:
        assert not _PLACEHOLDERISH.search(piece), (piece, delivered, chunks)
        seen += piece
        assert expected.startswith(seen), (seen, delivered, chunks)
    assert seen == expected, (delivered, chunks)


def assert_nothing_real(sent: Iterable[str]) -> None:
    """None of the real values is in what the model was sent."""
    for text in sent:
        for value in SECRETS:
            assert value not in text, (value, text)


# ------------------------------------------------------------------ tests


def test_the_reply_and_the_conversation_fit_together() -> None:
    vault = conversation_vault()
    assert [p for _, _, p in vault.entries()] == ["[PERSON_1]", "[EMAIL_1]", "[EMAIL_2]"]


def test_the_splits_cover_every_cut() -> None:
    splits = list(every_split("abc", random_splits=5))
    assert splits[:4] == [["", "abc"], ["a", "bc"], ["ab", "c"], ["abc", ""]]
    assert all("".join(s) == "abc" for s in splits)


def test_the_check_catches_a_per_chunk_restore() -> None:
    # What adapters written by hand do: restore each chunk on its own. Some
    # split leaves a partial placeholder in front of the consumer.
    vault = conversation_vault()
    failures = 0
    for chunks in every_split(REPLY):
        try:
            assert_clean_stream([vault.restore(c) for c in chunks])
        except AssertionError:
            failures += 1
    assert failures > len(REPLY) // 2


def test_the_check_passes_the_stream_restorer() -> None:
    vault = conversation_vault()
    for chunks in every_split(REPLY):
        assert_clean_stream(list(vault.restore_stream(chunks)), chunks=chunks)


def test_the_check_catches_a_leaked_value() -> None:
    with pytest.raises(AssertionError):
        assert_nothing_real(["Hello [PERSON_1]", "cc bob@example.org"])


@pytest.mark.parametrize("module", ["langchain", "litellm", "fastapi", "openai"])
def test_importing_promptsieve_imports_no_framework(module: str) -> None:
    # Each adapter is optional: the package itself never imports a framework.
    frameworks = {"langchain": "langchain_core", "litellm": "litellm", "fastapi": "fastapi", "openai": "openai"}
    code = f"import sys, promptsieve; assert {frameworks[module]!r} not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("module", "package"),
    [("langchain", "langchain-core"), ("litellm", "litellm"), ("fastapi", "fastapi"), ("openai", "openai")],
)
def test_a_missing_framework_is_a_clear_import_error(module: str, package: str) -> None:
    # sys.modules[name] = None makes `import name` fail, as if not installed.
    hidden = {"langchain": "langchain_core", "litellm": "litellm", "fastapi": "starlette", "openai": "openai"}[module]
    code = (
        f"import sys; sys.modules[{hidden!r}] = None\n"
        "try:\n"
        f"    import promptsieve.{module}\n"
        "except ImportError as e:\n"
        f"    assert 'pip install {package}' in str(e), e\n"
        "else:\n"
        "    raise SystemExit('imported without the framework')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
