"""Faults in the stores, each on a Postgres or Redis of the test's own, with a server pointed at it.

- Postgres restarted under load: requests during the outage get a clear 503 quickly (no hang, no 500), the pool
  recovers by itself (same process), and no turn that was answered is missing afterwards.
- Redis stopped: chat turns still work, whole escalations included (quotas are counted in Postgres); only the live
  event streams answer 503, and they deliver again once Redis is back.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from httpx_sse import aconnect_sse

from stores import embedded
from tests.utils.api import KNOWN_QUESTION, NOVEL_QUESTION, Api, bearer
from tests.utils.servers import ServerProcess

OUTAGE_S, POOL_WAIT_S = 8, 5
ANSWER = "Index funds, and a fiduciary adviser before you move retirement money."


def _start_postgres(pg_dir: Path) -> str:
    """Start (or restart) the embedded Postgres from another process, so nothing here caches its state."""
    code = f"import pgserver; print(pgserver.get_server({str(pg_dir)!r}, cleanup_mode=None).get_uri())"
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def _postmaster_pid(pg_dir: Path) -> int:
    return int((pg_dir / "postmaster.pid").read_text().split()[0])


@pytest.fixture
def own_postgres(data_dir: Path) -> Iterator[tuple[Path, str]]:
    pg_dir = data_dir / f"faults-pg-{time.monotonic_ns()}"
    url = _start_postgres(pg_dir)
    yield pg_dir, url
    import pgserver

    pgserver.get_server(pg_dir, cleanup_mode="delete").cleanup()


async def test_postgres_restart_under_load_gives_503s_then_recovers_without_a_restart(
    own_postgres: tuple[Path, str], server_env: dict, admin_key: str, data_dir: Path
) -> None:
    pg_dir, database_url = own_postgres
    server = ServerProcess(server_env | {"DATABASE_URL": database_url}, data_dir / "pg-restart-server.log").start()
    pid = server.process.pid  # type: ignore[union-attr]
    outcomes: list[tuple[float, str, int, float]] = []  # (started, kind, status, seconds)
    answered: list[str] = []
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            api = Api(client, admin_key)
            world = await api.world()
            conversation = await api.conversation(world, "paid")
            stop = asyncio.Event()

            async def load(kind: str) -> None:
                while not stop.is_set():
                    started = time.monotonic()
                    try:
                        if kind == "turn":
                            response = await client.post(
                                "/orchestrator/message",
                                json={"conversation_id": conversation, "message": KNOWN_QUESTION},
                                headers=bearer(world.users["paid"]),
                            )
                            if response.status_code == 200:
                                answered.append(response.json()["message"]["id"])
                        else:
                            response = await client.get("/orchestrator/queue", headers=bearer(world.creator_key))
                        status = response.status_code
                    except httpx.HTTPError:
                        status = -1  # no answer at all: what must not happen
                    outcomes.append((started, kind, status, time.monotonic() - started))
                    await asyncio.sleep(0.05)

            workers = [asyncio.create_task(load(kind)) for kind in ("turn", "turn", "read", "read")]
            await asyncio.sleep(2)
            down_at = time.monotonic()
            os.kill(_postmaster_pid(pg_dir), signal.SIGINT)  # Postgres "fast" shutdown: every connection cut
            await asyncio.sleep(OUTAGE_S)  # longer than the pool's 5 s wait for a connection
            restarting_at = time.monotonic()
            await asyncio.to_thread(_start_postgres, pg_dir)
            up_at = time.monotonic()
            await asyncio.sleep(6)
            stop.set()
            await asyncio.gather(*workers)
            assert server.process.poll() is None and server.process.pid == pid  # type: ignore[union-attr]
    finally:
        server.stop()

    # Started and finished while Postgres was down.
    during = [o for o in outcomes if o[0] > down_at and o[0] + o[3] < restarting_at]
    after = [o for o in outcomes if o[0] > up_at + 1.5]
    statuses = {status for _, _, status, _ in outcomes}
    assert during and {status for _, _, status, _ in during} == {503}, during
    # Never a hang: a turn can meet the pool's wait twice (its own pool, then the checkpointer's), no more.
    assert max(seconds for _, _, _, seconds in outcomes) < 2 * POOL_WAIT_S + 1
    assert after and {status for _, _, status, _ in after} == {200}, after  # recovered in the same process
    assert statuses <= {200, 503}, statuses
    with psycopg.connect(database_url) as conn:
        stored = {str(row[0]) for row in conn.execute("SELECT id FROM messages WHERE role = 'agent'")}
    assert set(answered) <= stored  # every answer a client got is stored: nothing lost
    print(
        f"\npostgres restart: {len(outcomes)} requests, {len(during)} during the outage (all 503), "
        f"max latency {max(s for *_, s in outcomes):.2f} s, {len(after)} after recovery (all 200), "
        f"lost answers {len(set(answered) - stored)}; statuses {sorted(statuses)}"
    )


async def test_with_redis_down_chat_works_and_live_events_resume_after(
    server_env: dict, admin_key: str, data_dir: Path
) -> None:
    redis_dir = data_dir / "faults-redis"
    redis_url = embedded.start_redis(redis_dir)
    env = server_env | {"REDIS_URL": redis_url, "ORCH_RATE_LIMIT_TURNS": "1000", "ORCH_MAX_STREAMS": "10"}
    server = ServerProcess(env, data_dir / "redis-down-server.log").start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            api = Api(client, admin_key)
            world = await api.world()
            key = world.users["paid"]
            conversation = await api.conversation(world, "paid")

            embedded.stop_redis(redis_dir)
            health = await api.client.get("/health")
            assert health.status_code == 200 and health.json()["status"] == "degraded"
            # Degraded, not down: answers, and a whole escalation from offer to delivered answer.
            assert (await api.ask(conversation, key, KNOWN_QUESTION))["decision"]["path"] == "A"
            offer = (await api.ask(conversation, key, NOVEL_QUESTION))["escalation"]
            await api.call("POST", f"/orchestrator/queue/{offer['escalation_id']}/accept", key)
            answered = await api.call(
                "POST",
                f"/orchestrator/queue/{offer['escalation_id']}/answer",
                world.creator_key,
                json={"answer": ANSWER},
            )
            assert answered["escalation"]["status"] == "answered"
            turn = await api.stream(conversation, key, NOVEL_QUESTION)  # the same question: served from the answer
            assert turn.decision["path"] == "C" and turn.first("message")["content"] == ANSWER
            metrics = await api.call("GET", f"/orchestrator/metrics/{world.agent_id}", world.creator_key)
            assert metrics["escalations_today"] == 1  # the quota counted in Postgres
            events = await api.client.get(f"/messaging/conversations/{conversation}/events", headers=bearer(key))
            assert events.status_code == 503 and events.json()["error"]["code"] == "unavailable"
            paths = [m["path"] for m in await api.messages(conversation, key)]
            assert paths == [None, "A", None, "D", "E", "C", None, "C"]  # nothing lost while Redis was away

            embedded.start_redis(redis_dir)
            deadline = time.monotonic() + 10
            while (await api.client.get("/health")).json()["status"] != "ok":
                assert time.monotonic() < deadline, "redis never came back"
                await asyncio.sleep(0.2)

            # Live events flow again: a creator's answer arrives on the user's open stream.
            second = (await api.ask(conversation, key, "Should I buy a house or keep renting for now?"))["escalation"]
            await api.call("POST", f"/orchestrator/queue/{second['escalation_id']}/accept", key)
            received: list[str] = []

            async def follow() -> None:
                async with aconnect_sse(
                    api.client, "GET", f"/messaging/conversations/{conversation}/events", headers=bearer(key)
                ) as source:
                    assert source.response.status_code == 200
                    async for event in source.aiter_sse():
                        received.append(event.event)
                        if event.event == "message":
                            return

            follower = asyncio.create_task(follow())
            await asyncio.sleep(0.5)
            await api.call(
                "POST",
                f"/orchestrator/queue/{second['escalation_id']}/answer",
                world.creator_key,
                json={"answer": "Rent until you have a deposit and a five-year plan."},
            )
            await asyncio.wait_for(follower, 15)
            assert "message" in received
    finally:
        server.stop()
        embedded.stop_redis(redis_dir)
