"""Checkpoint retention: finished old threads lose their checkpoints, waiting ones keep them and still resume.

The thread ages are set by moving their checkpoints' timestamps back in the real checkpoint tables; the pruning is
done by the `orchestrator prune-checkpoints` command and by the job the API runs, against real Postgres.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.utils.api import KNOWN_QUESTION, NOVEL_QUESTION, Api, World, bearer
from tests.utils.servers import ROOT, ServerProcess, scratch_database

CANONICAL = ("Do you offer one-on-one coaching?", "Not right now; the group program opens twice a year.", "public")
PARAPHRASE = "Do you offer 1-on-1 coaching?"
TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")


def checkpoint_rows(database_url: str, thread_id: str) -> dict[str, int]:
    with psycopg.connect(database_url) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table} WHERE thread_id = %s", (thread_id,)).fetchone()[0]
            for table in TABLES
        }


def age_threads(database_url: str, thread_ids: list[str], days: int) -> None:
    """Move every checkpoint of the threads `days` into the past, as if they had last run then."""
    with psycopg.connect(database_url) as conn:
        updated = conn.execute(
            "UPDATE checkpoints SET checkpoint = jsonb_set(checkpoint, '{ts}',"
            " to_jsonb(((checkpoint ->> 'ts')::timestamptz - make_interval(days => %s))::text))"
            " WHERE thread_id = ANY(%s)",
            (days, thread_ids),
        ).rowcount
    assert updated >= len(thread_ids)


def prune_command(server_env: dict[str, str], days: float) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "prune-checkpoints", "--days", str(days)],
        cwd=ROOT,
        env=os.environ | server_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


async def offer(api: Api, world: World) -> tuple[str, str, str]:
    """A path D turn in a conversation of its own: (thread id, escalation id, conversation id)."""
    conversation = await api.conversation(world, "paid")
    turn = await api.ask(conversation, world.users["paid"], NOVEL_QUESTION)
    assert turn["decision"]["path"] == "D", turn
    return turn["decision"]["message_id"], turn["escalation"]["escalation_id"], conversation


async def ask_once(api: Api, key: str, body: dict) -> dict:
    """A turn sent under an Idempotency-Key."""
    response = await api.client.post(
        "/orchestrator/message", json=body, headers=bearer(key) | {"Idempotency-Key": "retention-1"}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_finished_old_threads_are_pruned_and_waiting_ones_still_resume(
    api: Api, server_env: dict[str, str], database_url: str
) -> None:
    world = await api.world(canonical=[CANONICAL])
    key = world.users["paid"]
    conversation = await api.conversation(world, "paid")

    retried = {"conversation_id": conversation, "message": PARAPHRASE}
    served = await ask_once(api, key, retried)
    assert served["decision"]["path"] == "C"
    answered_ai = (await api.ask(conversation, key, KNOWN_QUESTION))["decision"]
    assert answered_ai["path"] == "A"
    offered, offered_escalation, _ = await offer(api, world)
    queued, queued_escalation, queued_conversation = await offer(api, world)
    delivered, delivered_escalation, _ = await offer(api, world)
    for escalation in (queued_escalation, delivered_escalation):
        await api.call("POST", f"/orchestrator/queue/{escalation}/accept", key)
    await api.call(
        "POST", f"/orchestrator/queue/{delivered_escalation}/answer", world.creator_key, json={"answer": "Index funds."}
    )
    recent = (await api.ask(conversation, key, KNOWN_QUESTION))["decision"]["message_id"]

    finished = [served["decision"]["message_id"], answered_ai["message_id"], delivered]
    waiting = [offered, queued]
    assert all(checkpoint_rows(database_url, thread)["checkpoints"] > 0 for thread in [*finished, *waiting, recent])
    age_threads(database_url, [*finished, *waiting], days=40)
    messages_before = await api.messages(conversation, key)

    output = prune_command(server_env, days=30)
    assert "pruned 3 finished thread(s) older than 30 day(s)" in output, output
    for thread in finished:
        assert checkpoint_rows(database_url, thread) == dict.fromkeys(TABLES, 0), thread
    for thread in [*waiting, recent]:
        assert checkpoint_rows(database_url, thread)["checkpoints"] > 0, thread

    # What users and creators see is untouched, and a retry of a pruned turn replays it without a second reply.
    assert await api.messages(conversation, key) == messages_before
    again = await ask_once(api, key, retried)
    assert again["decision"]["replayed"] is True and again["decision"]["path"] == "C"
    assert again["message"]["id"] == served["message"]["id"]
    assert await api.messages(conversation, key) == messages_before

    # The waiting threads still resume from their gates.
    accepted = await api.call("POST", f"/orchestrator/queue/{offered_escalation}/accept", key)
    assert accepted["escalation"]["status"] == "pending"
    answered = await api.call(
        "POST", f"/orchestrator/queue/{queued_escalation}/answer", world.creator_key, json={"answer": "Bonds, mostly."}
    )
    assert answered["escalation"]["status"] == "answered"
    assert any(m["content"].startswith("Bonds, mostly.") for m in await api.messages(queued_conversation, key))

    # Resumed threads ran just now: not old any more, so a second pass leaves them.
    assert "pruned 0 finished thread(s)" in prune_command(server_env, days=30)


@pytest.fixture
def fresh_database(database_url: str) -> Iterator[str]:
    """A database of its own on the session's Postgres, for a server whose retention job must not touch the
    threads other tests keep."""
    with scratch_database(database_url, "orch_retention") as url:
        yield url


async def test_the_api_prunes_on_its_own(
    server_env: dict[str, str], fresh_database: str, admin_key: str, data_dir: Path
) -> None:
    env = server_env | {
        "DATABASE_URL": fresh_database,
        "ORCH_CHECKPOINT_RETENTION_DAYS": str(2 / 86400),  # two seconds
        "ORCH_CHECKPOINT_PRUNE_EVERY_S": "0.5",
    }
    server = ServerProcess(env, data_dir / "retention-server.log").start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            api = Api(client, admin_key)
            world = await api.world()
            conversation = await api.conversation(world, "paid")
            finished = (await api.ask(conversation, world.users["paid"], KNOWN_QUESTION))["decision"]["message_id"]
            waiting, escalation, _ = await offer(api, world)

            for _ in range(100):  # up to 20 s; two seconds of age and a pass every half second should take ~3
                if checkpoint_rows(fresh_database, finished)["checkpoints"] == 0:
                    break
                await asyncio.sleep(0.2)
            assert checkpoint_rows(fresh_database, finished) == dict.fromkeys(TABLES, 0)
            assert checkpoint_rows(fresh_database, waiting)["checkpoints"] > 0

            response = await client.post(
                f"/orchestrator/queue/{escalation}/accept", headers=bearer(world.users["paid"])
            )
            assert response.status_code == 200 and response.json()["escalation"]["status"] == "pending"
    finally:
        server.stop()
