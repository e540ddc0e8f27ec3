"""Where the web adapters (Flask, FastAPI, LiteLLM) send an Audit record."""

import json
import logging
from typing import Any, Callable, Union

from . import Audit

#: A logger name, a logger, or a callable that takes the record.
Sink = Union[str, logging.Logger, Callable[[Audit], Any]]


def emit_audit(record: Audit, sink: Sink) -> None:
    """Logs ``record`` as one JSON line (the record itself in the log
    record's ``promptsieve_audit`` attribute), or hands it to ``sink``.

    >>> seen = []
    >>> emit_audit(Audit(bytes=2, chars=2, input_hmac="00", risk=0.0, flagged=False), seen.append)
    >>> seen[0].chars
    2
    """
    if isinstance(sink, str):
        sink = logging.getLogger(sink)
    if isinstance(sink, logging.Logger):
        sink.info(json.dumps(record.to_dict()), extra={"promptsieve_audit": record})
    else:
        sink(record)
