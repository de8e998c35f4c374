"""Past one process: two servers on two ports share the stores; nothing that matters lives in one process.

The second server itself runs `serve` with two worker processes behind its port.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg.rows import dict_row

from stores.database import migrate, migration_files, migration_lock
from tests.test_loop import ANSWER, follow
from tests.utils.api import NOVEL_QUESTION, Api
from tests.utils.servers import ServerProcess, scratch_database


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


async def test_workers_starting_at_once_on_a_fresh_database_all_migrate(database_url: str) -> None:
    """Four processes' worth of migrate + checkpointer setup at once: no duplicate-type race, no deadlock between
    a waiter and langgraph's CREATE INDEX CONCURRENTLY (both happened when two workers started together)."""
    with scratch_database(database_url, "orch_fresh") as fresh_url:

        async def start_one() -> None:
            await migrate(fresh_url, embedding_dim=384)
            async with (
                migration_lock(fresh_url),
                await psycopg.AsyncConnection.connect(
                    fresh_url, autocommit=True, prepare_threshold=0, row_factory=dict_row
                ) as conn,
            ):
                await AsyncPostgresSaver(conn).setup()  # type: ignore[arg-type]

        await asyncio.wait_for(asyncio.gather(*(start_one() for _ in range(4))), timeout=60)
        async with await psycopg.AsyncConnection.connect(fresh_url) as conn:
            cur = await conn.execute("SELECT count(*) FROM schema_migrations")
            assert (await cur.fetchone())[0] == len(migration_files())
            cur = await conn.execute("SELECT count(*) FROM checkpoint_migrations")
            assert (await cur.fetchone())[0] > 0
