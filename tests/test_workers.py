"""Past one process: two servers on two ports share the stores; nothing that matters lives in one process.

The second server itself runs `serve` with two worker processes behind its port.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.test_loop import ANSWER, follow
from tests.utils.api import NOVEL_QUESTION, Api
from tests.utils.servers import ServerProcess


@pytest.fixture(scope="module")
def second_server(server_env: dict, data_dir: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(server_env | {"ORCH_WORKERS": "2"}, data_dir / "second-server.log").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
async def api_two(second_server: ServerProcess, admin_key: str) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=second_server.url, timeout=60) as client:
        yield Api(client, admin_key)


async def test_a_turn_on_one_worker_is_answered_through_another(api: Api, api_two: Api) -> None:
    world = await api.world()
    key = world.users["follower"]
    conversation = await api.conversation(world, "follower")
    offer = (await api.ask(conversation, key, NOVEL_QUESTION))["escalation"]

    # The user holds /events on worker 1; the offer is accepted there too.
    live = asyncio.create_task(follow(api, conversation, key, count=2))
    await asyncio.sleep(0.5)
    await api.call("POST", f"/orchestrator/queue/{offer['escalation_id']}/accept", key)

    # The creator answers through worker 2: the answer reaches the stream held on worker 1.
    queued = await api_two.call("GET", "/orchestrator/queue", world.creator_key)
    assert [e["id"] for e in queued] == [offer["escalation_id"]]
    await api_two.call(
        "POST", f"/orchestrator/queue/{offer['escalation_id']}/answer", world.creator_key, json={"answer": ANSWER}
    )
    events = await asyncio.wait_for(live, timeout=10)
    assert [data.get("path") for _, _, data in events] == ["E", "C"]
    assert events[1][2]["content"] == ANSWER

    # A client that dropped after the first event reconnects to worker 2 with Last-Event-ID and misses nothing.
    replay = await follow(api_two, conversation, key, count=1, last_event_id=events[0][0])
    assert replay[0][0] == events[1][0] and replay[0][2]["content"] == ANSWER

    # Both workers see the same conversation, and a paraphrase on worker 2 is served from the answer.
    assert await api_two.messages(conversation, key) == await api.messages(conversation, key)
    other = await api_two.conversation(world, "paid")
    turn = await api_two.stream(
        other, world.users["paid"], "What's your view on putting my retirement savings into crypto?"
    )
    assert turn.decision["path"] == "C" and turn.first("message")["content"] == ANSWER
