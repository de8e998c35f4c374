"""A small OpenAI-compatible chat server on 127.0.0.1, so ChatOpenAI streams over real HTTP in tests."""

from __future__ import annotations

import asyncio
import json
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from tests.utils.servers import InThreadServer

STUB_ANSWER = "Stub model here: aim for 1.6 to 2.2 grams of protein per kilogram of bodyweight each day."
STUB_TRAILER = "\n[[confidence: 0.92 | the knowledge states the amount]]"


class OpenAIStub(InThreadServer):
    """Serves /v1/chat/completions (streaming and not) with a fixed answer; records every request."""

    def __init__(
        self, answer: str = STUB_ANSWER + STUB_TRAILER, token_delay_s: float = 0.0, first_token_delay_s: float = 0.0
    ) -> None:
        self.default_answer = self.answer = answer
        self.token_delay_s = token_delay_s
        """Seconds per generated chunk: lets benchmarks model a real server's generation speed."""
        self.first_token_delay_s = first_token_delay_s
        """Seconds before the first chunk of every request (queueing, prefill): a hosted API's per-request cost."""
        self.rating = '{"score": 0.9, "reason": "supported"}'
        """What a non-streamed request (the second-call self-assessment) gets back."""
        self.requests: list[dict] = []
        super().__init__(
            routes=[
                Route("/v1/chat/completions", self._completions, methods=["POST"]),
                Route("/v1/embeddings", self._embeddings, methods=["POST"]),
            ]
        )

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    async def _embeddings(self, request: Request) -> JSONResponse:
        """Deterministic 8-dimensional vectors derived from each text's bytes."""
        body = await request.json()
        self.requests.append(body)
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {
                "object": "embedding",
                "index": i,
                "embedding": [((sum(str(t).encode()) * (k + 1)) % 97) / 97 for k in range(8)],
            }
            for i, t in enumerate(texts)
        ]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "model": body.get("model"),
                "usage": {"prompt_tokens": 0, "total_tokens": 0},
            }
        )

    async def _completions(self, request: Request) -> JSONResponse | StreamingResponse:
        body = await request.json()
        self.requests.append(body)
        created, model = int(time.time()), body.get("model", "stub")
        content = self.rating if "reply with JSON only" in body["messages"][0]["content"] else self.answer
        await asyncio.sleep(self.first_token_delay_s)
        if not body.get("stream"):
            await asyncio.sleep(self.token_delay_s * len(content.split(" ")))
            return JSONResponse(
                {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                    ],
                }
            )

        async def chunks():  # noqa: ANN202
            words = content.split(" ")
            for i, word in enumerate(words):
                delta = {"content": word + (" " if i < len(words) - 1 else "")}
                if i == 0:
                    delta["role"] = "assistant"
                if self.token_delay_s:
                    await asyncio.sleep(self.token_delay_s)
                yield _chunk(created, model, delta, None)
            yield _chunk(created, model, {}, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")


def _chunk(created: int, model: str, delta: dict, finish: str | None) -> str:
    payload = {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(payload)}\n\n"
