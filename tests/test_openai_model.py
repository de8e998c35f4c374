"""Path A through langchain-openai's ChatOpenAI, streaming over real HTTP from a local OpenAI-compatible stub."""

from __future__ import annotations

import httpx

from tests.utils.api import KNOWN_QUESTION, Api
from tests.utils.openai_stub import STUB_ANSWER, OpenAIStub


async def test_path_a_streams_from_an_openai_compatible_server(
    api: Api, openai_server, openai_stub: OpenAIStub
) -> None:  # noqa: ANN001
    world = await api.world()
    async with httpx.AsyncClient(base_url=openai_server.url, timeout=60) as client:
        remote = Api(client, api.admin_key)
        conversation = await remote.conversation(world, "free")
        seen = len(openai_stub.requests)
        turn = await remote.stream(conversation, world.users["free"], KNOWN_QUESTION)
        health = await remote.call("GET", "/health", None)

    assert health["llm"] == "openai"
    assert turn.decision["path"] == "A"
    tokens = [data["text"] for name, data in turn.events if name == "token"]
    assert len(tokens) == len(STUB_ANSWER.split(" "))  # one event per streamed chunk
    assert turn.first("message")["content"] == STUB_ANSWER == "".join(tokens)

    request = openai_stub.requests[seen]
    assert request["stream"] is True and request["model"] == "stub"
    system = request["messages"][0]["content"]
    assert "Coach Mia" in system and "Warm, direct strength coach." in system
    assert "1.6 to 2.2 grams of protein" in system  # retrieved knowledge reached the model
    assert request["messages"][-1] == {"role": "user", "content": KNOWN_QUESTION}
