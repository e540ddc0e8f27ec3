"""A FastAPI chat backend guarded by promptsieve: the dependency on /chat
(with a streamed reply), the middleware on /v1/echo. Run it with
``uvicorn fastapi_app:app``; ``fake_model`` stands in for the LLM call."""

from typing import Any, AsyncIterator, Dict, List

from fastapi import Depends, FastAPI
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from promptsieve.fastapi import GuardResult, Promptsieve, PromptsieveMiddleware, guard

app = FastAPI()
Promptsieve(app, {"PROMPTSIEVE_MAX_CHARS": 4000, "PROMPTSIEVE_OUTPUT_CONTEXT": {"canaries": ["cnry-7f3a"]}})
app.add_middleware(PromptsieveMiddleware, paths=["/v1/echo"], reply_field="reply")


async def fake_model(messages: List[Dict[str, Any]]) -> AsyncIterator[str]:
    for piece in ["Hello [PERS", "ON_1], I will write to [EMA", "IL_1]."]:
        yield piece


@app.post("/chat")
async def chat(ps: GuardResult = Depends(guard())) -> StreamingResponse:
    # ps.body["messages"] is redacted; the stream is scanned and restored.
    return StreamingResponse(ps.restore_stream(fake_model(ps.body["messages"])), media_type="text/plain")


class Echo(BaseModel):
    message: str


@app.post("/v1/echo")
async def echo(body: Echo) -> Dict[str, str]:
    # The middleware rewrote the body: body.message has placeholders.
    return {"reply": f"You wrote: {body.message}"}
