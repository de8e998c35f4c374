"""The baseline for the overhead benchmark: a minimal FastAPI + sse-starlette endpoint streaming ChatOpenAI.

python -m bench.bare_endpoint PORT OPENAI_BASE_URL
"""

from __future__ import annotations

import json
import sys

import uvicorn
from fastapi import FastAPI
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel
from sse_starlette import EventSourceResponse


class TurnIn(BaseModel):
    content: str


def create_app(base_url: str) -> FastAPI:
    app = FastAPI()
    model = ChatOpenAI(model="stub", api_key="sk-bench", base_url=base_url, streaming=True)  # type: ignore[arg-type]

    async def tokens(content: str):  # noqa: ANN202
        async for chunk in model.astream([SystemMessage("You are a helpful agent."), HumanMessage(content)]):
            if chunk.content:
                yield {"event": "token", "data": json.dumps({"text": chunk.content})}
        yield {"event": "done", "data": "{}"}

    @app.post("/stream")
    async def stream(body: TurnIn) -> EventSourceResponse:
        return EventSourceResponse(tokens(body.content))

    return app


if __name__ == "__main__":
    uvicorn.run(create_app(sys.argv[2]), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
