"""A chat backend guarded by promptsieve, in the usual shape:

1. authenticate the user (bearer token);
2. check the message: length, hidden/control characters, prompt injection
   (rejected with 400, or 413 when too long, and a JSON error);
3. redact personal data and secrets before they leave for the LLM;
4. call the LLM through an OpenAI-compatible HTTP API;
5. scan the reply (canary and system-prompt leaks, links to unknown hosts)
   and withhold it if it leaks;
6. restore the placeholders in the reply and return it.

Run it against any OpenAI-compatible server::

    LLM_BASE_URL=http://127.0.0.1:8000 CHAT_TOKENS=secret-token:alice \\
        flask --app examples/chat_app.py run

    curl -H 'Authorization: Bearer secret-token' -H 'content-type: application/json' \\
        -d '{"message": "Write to a.b@example.com"}' http://127.0.0.1:5000/chat
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.error
import urllib.request
from functools import wraps
from typing import Any, Callable, Dict, Optional

from flask import Flask, g, jsonify, request

from promptsieve.flask import Promptsieve, guard

SYSTEM_PROMPT = "You are a helpful assistant for ACME Corp. Answer briefly."


def create_app(config: Optional[Dict[str, Any]] = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        LLM_BASE_URL=os.environ.get("LLM_BASE_URL", "http://127.0.0.1:8000"),
        LLM_MODEL=os.environ.get("LLM_MODEL", "gpt-4o-mini"),
        LLM_API_KEY=os.environ.get("LLM_API_KEY", ""),
        LLM_TIMEOUT=30,
        # token -> user name, e.g. CHAT_TOKENS="tok1:alice,tok2:bob"
        CHAT_TOKENS=dict(p.split(":", 1) for p in os.environ.get("CHAT_TOKENS", "").split(",") if ":" in p),
        # A secret marker placed in the system prompt: if it ever shows up in
        # a reply, the model was talked into leaking its instructions.
        CANARY=f"canary-{secrets.token_hex(8)}",
        ALLOWED_LINK_HOSTS=["acme.example"],
        # promptsieve policy: short messages, no hidden/control characters.
        PROMPTSIEVE_MAX_BYTES=8_000,
        PROMPTSIEVE_BLOCK_CATEGORIES=["invisible"],
    )
    app.config.update(config or {})
    Promptsieve(app)

    def authenticated(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            token = header[7:] if header.startswith("Bearer ") else ""
            user = app.config["CHAT_TOKENS"].get(token) if token else None
            if user is None:
                return jsonify(error={"code": "unauthorized", "message": "a valid bearer token is required"}), 401
            g.user = user
            return view(*args, **kwargs)

        return wrapper

    @app.post("/chat")
    @authenticated
    @guard(field="message", action="redact")
    def chat() -> Any:
        message = request.get_json()["message"]  # personal data already replaced
        system = f"{SYSTEM_PROMPT} [{app.config['CANARY']}]"
        try:
            reply = call_llm(app, system, message, user=g.user)
        except (urllib.error.URLError, TimeoutError, ValueError, KeyError) as e:
            app.logger.warning("LLM call failed: %s", e)
            return jsonify(error={"code": "llm-unavailable", "message": "the model could not be reached"}), 502

        leaks = [
            f
            for f in Promptsieve.scanner().scan_output(
                reply,
                canaries=[app.config["CANARY"]],
                system_prompt=SYSTEM_PROMPT,
                allowed_hosts=app.config["ALLOWED_LINK_HOSTS"],
            )
            if f.category == "exfiltration"
        ]
        if leaks:
            app.logger.warning("reply withheld: %s", [f.rule for f in leaks])
            return jsonify(error={"code": "unsafe-reply", "message": "the reply was withheld", "rules": [f.rule for f in leaks]}), 502

        return jsonify(
            reply=g.promptsieve.restore(reply),
            redacted=[r.entity_type for r in (g.promptsieve.redacted.replacements if g.promptsieve.redacted else [])],
        )

    return app


def call_llm(app: Flask, system: str, message: str, *, user: str) -> str:
    """One chat completion from an OpenAI-compatible endpoint."""
    body = {
        "model": app.config["LLM_MODEL"],
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": message}],
        "user": user,
    }
    req = urllib.request.Request(
        app.config["LLM_BASE_URL"].rstrip("/") + "/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {app.config['LLM_API_KEY']}"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=app.config["LLM_TIMEOUT"]) as res:
        payload = json.load(res)
    return str(payload["choices"][0]["message"]["content"])


if __name__ == "__main__":  # pragma: no cover
    create_app().run(host="127.0.0.1")
