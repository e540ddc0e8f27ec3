"""Exception classes raised by promptsieve (defined in Python so that
``RuleError`` can be both a ``PromptsieveError`` and a ``ValueError``)."""

from __future__ import annotations

from typing import Optional

__all__ = ["PromptsieveError", "RuleError", "OptionError"]


class PromptsieveError(Exception):
    """Base class of every error promptsieve raises.

    ``pack``, ``rule`` and ``reason`` say what was refused, when known.
    """

    def __init__(
        self,
        message: str,
        pack: Optional[str] = None,
        rule: Optional[str] = None,
        reason: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.pack = pack
        self.rule = rule
        self.reason = reason


class RuleError(PromptsieveError, ValueError):
    """A rule pack or one of its rules was refused.

    >>> import promptsieve
    >>> try:
    ...     promptsieve.Scanner(rules=["[[rule]]\\nid = 'x'"])
    ... except promptsieve.RuleError as e:
    ...     print(e.pack, isinstance(e, ValueError))
    rules[0] True
    """


class OptionError(PromptsieveError, ValueError):
    """An option had an invalid value (unknown category, strategy, key…).

    >>> import promptsieve
    >>> try:
    ...     promptsieve.Scanner(categories=["pi"])
    ... except promptsieve.OptionError as e:
    ...     print(e)
    invalid scanner options: unknown variant `pi`, expected one of `injection`, `invisible`, `exfiltration`, `pii`, `secret`
    """
