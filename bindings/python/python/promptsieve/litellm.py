"""A guardrail for the LiteLLM proxy: check and redact before the model,
scan and restore after it, streams included.

Install with ``pip install litellm`` (the proxy's own install has it). In the
proxy's ``config.yaml``::

    guardrails:
      - guardrail_name: promptsieve
        litellm_params:
          guardrail: promptsieve.litellm.PromptsieveGuardrail
          mode: [pre_call, post_call]
          default_on: true
          promptsieve:                      # all optional
            block_categories: [invisible]
            max_chars: 8000
            output_context: {canaries: [cnry-7f3a], allowed_hosts: [example.com]}

``guardrail`` is the class's import path (LiteLLM imports it as a module
path when no file of that name sits next to the config). ``mode`` says which
hooks run:

``pre_call``
    :meth:`~PromptsieveGuardrail.async_pre_call_hook`: the request's
    ``messages`` are checked as one conversation (attacks, hidden
    characters, blocked categories, length) and rejected with
    :class:`PromptBlocked` (a ``GuardrailRaisedException``: HTTP 400, or 413
    for an over-long prompt); otherwise personal data and secrets are
    replaced by placeholders, through one vault per call
    (``litellm_call_id``), and hidden characters removed.
``post_call``
    :meth:`~PromptsieveGuardrail.async_post_call_success_hook` and
    :meth:`~PromptsieveGuardrail.async_post_call_streaming_iterator_hook`:
    the reply is scanned (``output_context``: canaries, system-prompt
    leaks, exfiltration links; a flagged reply raises :class:`ReplyBlocked`,
    HTTP 400, mid-stream as soon as it is flagged) and the call's
    placeholders are restored, in streams chunk by chunk with only a
    possibly unfinished placeholder held back.
``during_call``
    :meth:`~PromptsieveGuardrail.async_moderation_hook`: the check alone,
    run while the model works (it cannot redact).

Use ``[pre_call, post_call]`` for reversible redaction: with ``pre_call``
alone the user sees placeholders. The ``promptsieve`` keys are the Flask
extension's configuration keys without their ``PROMPTSIEVE_`` prefix, in
lower case, plus ``action`` (``"redact"``, or ``"block"`` to refuse personal
data) and ``max_calls`` (calls whose vault is kept while they run). Only
chat completions (``messages``) are guarded; other routes pass through.

>>> from promptsieve.litellm import PromptsieveGuardrail
>>> g = PromptsieveGuardrail(guardrail_name="promptsieve", event_hook=["pre_call", "post_call"], default_on=True)
>>> g.settings["max_bytes"], g.settings["redact_categories"]
(1048576, ['pii', 'secret'])
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, AsyncGenerator, Dict, List, Mapping, Optional, Set, Tuple, Union

try:
    from litellm.caching.dual_cache import DualCache
    from litellm.exceptions import GuardrailRaisedException
    from litellm.integrations.custom_guardrail import CustomGuardrail
    from litellm.proxy._types import UserAPIKeyAuth
    from litellm.secret_managers.main import get_secret_str
    from litellm.types.guardrails import GuardrailEventHooks
    from litellm.types.utils import (
        CallTypesLiteral,
        Choices,
        Delta,
        LLMResponseTypes,
        ModelResponse,
        ModelResponseStream,
        StreamingChoices,
    )
except ImportError:  # pragma: no cover - exercised by a test that hides the package
    # (Raised while handling the first, which stays attached as its context.)
    raise ImportError("promptsieve.litellm needs the litellm package: pip install litellm")

from . import Audit, MessagesDecision, OutputStream, Reason, Report, Scanner, Vault
from ._audit import emit_audit
from ._errors import PromptsieveError

if TYPE_CHECKING:
    from ._native import StreamRestorer

__all__ = ["PromptBlocked", "PromptsieveGuardrail", "ReplyBlocked"]

# The settings and their defaults: the Flask extension's keys, without the
# prefix, in lower case.
_DEFAULTS: Dict[str, Any] = {
    "rules": [],
    "default_rules": True,
    "categories": None,
    "disable": [],
    "threshold": None,
    "max_bytes": 1 << 20,
    "max_chars": None,
    "block_categories": [],
    "redact_categories": ["pii", "secret"],
    "sanitize": True,
    "output_context": {},
    "audit_key": None,
    "audit_logger": "promptsieve.audit",
    "action": "redact",
    "max_calls": 10_000,
}

_HOOKS = [GuardrailEventHooks.pre_call, GuardrailEventHooks.during_call, GuardrailEventHooks.post_call]


class PromptBlocked(GuardrailRaisedException, PromptsieveError):
    """The request was rejected (the proxy answers ``status_code``: 400, or
    413 for an over-long prompt); ``reasons`` say why."""

    def __init__(self, guardrail_name: Optional[str], reasons: Tuple[Reason, ...]) -> None:
        code = reasons[0].code if reasons else "blocked"
        message = "the prompt was rejected: " + "; ".join(r.message for r in reasons)
        super().__init__(guardrail_name, message, status_code=413 if code == "max-length" else 400, blocked_content=True)
        self.reasons = reasons
        self.reason = code
        self.rule = reasons[0].rule if reasons else None


class ReplyBlocked(GuardrailRaisedException, PromptsieveError):
    """The model's reply leaked (a canary, the system prompt, an
    exfiltration link): withheld with HTTP 400, or cut off mid-stream."""

    def __init__(self, guardrail_name: Optional[str], report: Report) -> None:
        rules = sorted({f.rule for f in report.findings})
        super().__init__(guardrail_name, "the model's reply was withheld: " + ", ".join(rules), status_code=400, blocked_content=True)
        self.report = report
        self.rule = rules[0] if rules else None


class PromptsieveGuardrail(CustomGuardrail):
    """The LiteLLM guardrail (see the module's documentation for the YAML).

    ``promptsieve`` is the settings mapping; ``scanner`` replaces the one
    built from it (from Python, not YAML). The other keywords are
    ``CustomGuardrail``'s (``guardrail_name``, ``event_hook``, ``default_on``…).
    An invalid setting, rule pack or output context fails here, when the
    proxy starts, not on the first request.
    """

    def __init__(self, *, promptsieve: Optional[Mapping[str, Any]] = None, scanner: Optional[Scanner] = None, **kwargs: Any) -> None:
        kwargs.setdefault("supported_event_hooks", list(_HOOKS))
        super().__init__(**kwargs)
        given = dict(promptsieve or {})
        unknown = sorted(set(given) - set(_DEFAULTS))
        if unknown:
            raise ValueError(f"unknown promptsieve settings {unknown}; known: {sorted(_DEFAULTS)}")
        #: The settings in force (defaults filled in).
        self.settings: Dict[str, Any] = {**_DEFAULTS, **given}
        s = self.settings
        if isinstance(s["audit_key"], str) and s["audit_key"].startswith("os.environ/"):
            # LiteLLM's way to name a secret in the YAML.
            s["audit_key"] = get_secret_str(s["audit_key"])
        if s["action"] not in ("redact", "block"):
            raise ValueError(f"promptsieve action must be 'redact' or 'block', not {s['action']!r}")
        self.scanner = scanner or Scanner(
            s["rules"],
            s["categories"],
            default_rules=s["default_rules"],
            threshold=s["threshold"],
            disable=s["disable"],
            policy={
                "max_bytes": s["max_bytes"],
                "max_chars": s["max_chars"],
                "block": s["block_categories"],
                "redact": s["redact_categories"],
            },
        )
        self.scanner.output_report("", s["output_context"])
        # Vaults of the calls in flight, by litellm_call_id; the oldest go
        # first when a call never reaches a post-call hook.
        self._vaults: "OrderedDict[str, Vault]" = OrderedDict()

    @classmethod
    def get_supported_event_hooks(cls) -> List[GuardrailEventHooks]:
        return list(_HOOKS)

    # ------------------------------------------------------------ vaults

    @staticmethod
    def call_id(data: Mapping[str, Any]) -> Optional[str]:
        """The call's ``litellm_call_id`` (in the request or its metadata)."""
        metadata = data.get("metadata")
        found = data.get("litellm_call_id") or (metadata.get("litellm_call_id") if isinstance(metadata, Mapping) else None)
        return str(found) if found else None

    def vault(self, data: Mapping[str, Any]) -> Optional[Vault]:
        """The vault of the call ``data`` belongs to, if its request was redacted."""
        key = self.call_id(data)
        return self._vaults.get(key) if key is not None else None

    def _new_vault(self, data: Dict[str, Any]) -> Vault:
        key = self.call_id(data)
        if key is None:
            key = data["litellm_call_id"] = str(uuid.uuid4())
        v = self._vaults[key] = Vault()
        while len(self._vaults) > self.settings["max_calls"]:
            self._vaults.popitem(last=False)
        return v

    def _forget(self, data: Mapping[str, Any]) -> None:
        key = self.call_id(data)
        if key is not None:
            self._vaults.pop(key, None)

    # ------------------------------------------------------------- input

    def _check(self, messages: List[Any], vault: Optional[Vault]) -> MessagesDecision:
        self._audit(messages)
        d = self.scanner.check_messages(messages, vault=vault)
        if d.action == "block":
            raise PromptBlocked(self.guardrail_name, d.reasons)
        if d.action == "redact" and self.settings["action"] == "block":
            kinds = sorted({r.entity_type for r in d.replacements})
            raise PromptBlocked(
                self.guardrail_name, (Reason("personal-data", "the prompt contains personal data or secrets: " + ", ".join(kinds)),)
            )
        return d

    async def async_pre_call_hook(
        self, user_api_key_dict: UserAPIKeyAuth, cache: DualCache, data: Dict[str, Any], call_type: CallTypesLiteral
    ) -> Optional[Union[Exception, str, Dict[str, Any]]]:
        """Checks ``data["messages"]``; replaces it with the redacted,
        sanitized messages. Raises :class:`PromptBlocked`."""
        messages = data.get("messages")
        if not isinstance(messages, list) or self.should_run_guardrail(data=data, event_type=GuardrailEventHooks.pre_call) is not True:
            return data
        try:
            d = self._check(messages, self._new_vault(data))
        except PromptBlocked:
            self._forget(data)
            raise
        data["messages"] = self._sanitized(d.messages if d.action == "redact" else messages)
        return data

    async def async_post_call_failure_hook(
        self,
        request_data: Dict[str, Any],
        original_exception: Exception,
        user_api_key_dict: UserAPIKeyAuth,
        traceback_str: Optional[str] = None,
    ) -> Any:
        """A failed call has no reply to restore: its vault goes."""
        self._forget(request_data)
        return None

    async def async_moderation_hook(self, data: Dict[str, Any], user_api_key_dict: UserAPIKeyAuth, call_type: CallTypesLiteral) -> Any:
        """``during_call``: the check alone (the request has left already)."""
        messages = data.get("messages")
        if isinstance(messages, list) and self.should_run_guardrail(data=data, event_type=GuardrailEventHooks.during_call) is True:
            self._check(messages, None)
        return None

    def _sanitized(self, messages: List[Any]) -> List[Any]:
        if not self.settings["sanitize"]:
            return messages
        clean = self.scanner.sanitize
        for m in messages:
            c = m.get("content") if isinstance(m, dict) else None
            if isinstance(c, str):
                m["content"] = clean(c)
            elif isinstance(c, list):
                for p in c:
                    if isinstance(p, dict) and isinstance(p.get("text"), str):
                        p["text"] = clean(p["text"])
        return messages

    def _audit(self, messages: List[Any]) -> None:
        key = self.settings["audit_key"]
        if not key:
            return
        texts = [m.get("content") for m in messages if isinstance(m, dict)]
        parts = [c for c in texts if isinstance(c, str)]
        parts += [p["text"] for c in texts if isinstance(c, list) for p in c if isinstance(p, dict) and isinstance(p.get("text"), str)]
        record: Audit = self.scanner.audit("\n".join(parts), key=key)
        emit_audit(record, self.settings["audit_logger"])

    # ------------------------------------------------------------ output

    def _scan_reply(self, text: str) -> None:
        report = self.scanner.output_report(text, self.settings["output_context"])
        if report.flagged:
            raise ReplyBlocked(self.guardrail_name, report)

    async def async_post_call_success_hook(self, data: Dict[str, Any], user_api_key_dict: UserAPIKeyAuth, response: LLMResponseTypes) -> Any:
        """Scans and restores a whole reply (``ModelResponse``)."""
        if self.should_run_guardrail(data=data, event_type=GuardrailEventHooks.post_call) is not True:
            return response
        if not isinstance(response, ModelResponse):
            return response
        vault = self.vault(data)
        for choice in response.choices:
            if isinstance(choice, Choices) and isinstance(choice.message.content, str):
                self._scan_reply(choice.message.content)
                if vault is not None:
                    choice.message.content = vault.restore(choice.message.content)
        if not data.get("stream"):
            self._forget(data)
        return response

    async def async_post_call_streaming_iterator_hook(
        self, user_api_key_dict: UserAPIKeyAuth, response: Any, request_data: Dict[str, Any]
    ) -> AsyncGenerator[Any, None]:
        """Scans and restores a streamed reply chunk by chunk
        (``ModelResponseStream``; other items pass as they are)."""
        if self.should_run_guardrail(data=request_data, event_type=GuardrailEventHooks.post_call) is not True:
            async for item in response:
                yield item
            return
        streams = _ChoiceStreams(self, self.vault(request_data))
        try:
            async for item in response:
                if isinstance(item, ModelResponseStream):
                    streams.restore(item)
                yield item
            for extra in streams.finish():
                yield extra
        finally:
            self._forget(request_data)


class _ChoiceStreams:
    """One streamed reply: per choice index, a stream restorer and an
    output scanner."""

    def __init__(self, guard: PromptsieveGuardrail, vault: Optional[Vault]) -> None:
        self.guard = guard
        self.vault = vault
        self.open: Dict[int, Tuple[Optional[StreamRestorer], OutputStream]] = {}
        self.closed: Set[int] = set()
        self.last: Optional[ModelResponseStream] = None

    def _state(self, index: int) -> Tuple[Optional[StreamRestorer], OutputStream]:
        if index not in self.open:
            restorer = self.vault.restorer() if self.vault is not None else None
            self.open[index] = (restorer, self.guard.scanner.output_stream(self.guard.settings["output_context"]))
        return self.open[index]

    def _push(self, index: int, text: str) -> str:
        restorer, watch = self._state(index)
        watch.push(text)
        if watch.should_stop:
            raise ReplyBlocked(self.guard.guardrail_name, watch.finish())
        return restorer.push(text) if restorer is not None else text

    def _close(self, index: int) -> str:
        restorer, watch = self._state(index)
        self.closed.add(index)
        report = watch.finish()
        if report.flagged:
            raise ReplyBlocked(self.guard.guardrail_name, report)
        return restorer.finish() if restorer is not None else ""

    def restore(self, chunk: ModelResponseStream) -> None:
        self.last = chunk
        for choice in chunk.choices:
            text = choice.delta.content
            if isinstance(text, str) and text:
                choice.delta.content = self._push(choice.index, text)
            if choice.finish_reason is not None and choice.index not in self.closed:
                # The text held back goes out with the choice's last chunk.
                choice.delta.content = (choice.delta.content or "") + self._close(choice.index)

    def finish(self) -> List[ModelResponseStream]:
        """Chunks for what is still held when the stream ends without a
        finish reason (a cut stream)."""
        out: List[ModelResponseStream] = []
        for index in sorted(set(self.open) - self.closed):
            rest = self._close(index)
            if rest and self.last is not None:
                out.append(
                    ModelResponseStream(
                        id=self.last.id,
                        model=self.last.model,
                        created=self.last.created,
                        choices=[StreamingChoices(index=index, delta=Delta(content=rest))],
                    )
                )
        return out
