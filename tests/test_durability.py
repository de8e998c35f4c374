"""Crashes lose nothing: a question waiting for the creator survives kill -9 (restart, answer, delivered once),
and a turn killed mid-stream is retried under its Idempotency-Key without a duplicate."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import httpx
from httpx_sse import aconnect_sse

from tests.utils.api import KNOWN_QUESTION, NOVEL_QUESTION, Api, bearer
from tests.utils.servers import ServerProcess

ANSWER = "Keep it boring: index funds, and ask a fiduciary adviser before you move retirement money."


async def test_escalation_survives_a_killed_server(api: Api, server_env: dict, data_dir: Path) -> None:
    world = await api.world()
    key = world.users["follower"]
    crashing = ServerProcess(server_env, data_dir / "crash-server.log").start()
    async with httpx.AsyncClient(base_url=crashing.url, timeout=60) as client:
        doomed = Api(client, api.admin_key)
        conversation = await doomed.conversation(world, "follower")
        offer = (await doomed.ask(conversation, key, NOVEL_QUESTION))["escalation"]
        await doomed.call("POST", f"/orchestrator/queue/{offer['escalation_id']}/accept", key)
        before = await doomed.messages(conversation, key)

    crashing.kill()  # no shutdown, no flush: the graph waits only in its Postgres checkpoint

    restarted = ServerProcess(server_env, data_dir / "crash-server.log", port=crashing.port).start()
    try:
        async with httpx.AsyncClient(base_url=restarted.url, timeout=60) as client:
            after_restart = Api(client, api.admin_key)
            assert await after_restart.messages(conversation, key) == before
            queue = await after_restart.call("GET", "/orchestrator/queue", world.creator_key)
            assert [e["id"] for e in queue] == [offer["escalation_id"]]

            answered = await after_restart.call(
                "POST",
                f"/orchestrator/queue/{offer['escalation_id']}/answer",
                world.creator_key,
                json={"answer": ANSWER},
            )
            assert answered["escalation"]["status"] == "answered"
            assert answered["escalation"]["delivered_at"] is not None

            messages = await after_restart.messages(conversation, key)
            assert messages[: len(before)] == before
            assert [m["path"] for m in messages] == [None, "D", "E", "C"]
            assert messages[-1]["content"] == ANSWER
            canonical = await after_restart.call(
                "GET", f"/agents/{world.agent_id}/canonical-answers", world.creator_key
            )
            assert [c["answer"] for c in canonical] == [ANSWER]
    finally:
        restarted.stop()


async def test_an_answer_stored_before_a_crash_is_delivered_after_restart(
    api: Api, server_env: dict, data_dir: Path, database_url: str
) -> None:
    """The process died after storing the creator's answer but before resuming the graph."""
    import psycopg

    world = await api.world()
    key = world.users["paid"]
    conversation = await api.conversation(world, "paid")
    offer = (await api.ask(conversation, key, NOVEL_QUESTION))["escalation"]
    await api.call("POST", f"/orchestrator/queue/{offer['escalation_id']}/accept", key)
    with psycopg.connect(database_url) as conn:  # exactly what the answer route stores before it resumes
        conn.execute(
            "UPDATE escalations SET status = 'answered', answer = %s, answer_layer = 'public', resolved_at = now(),"
            " updated_at = now() - interval '1 minute' WHERE id = %s",
            (ANSWER, offer["escalation_id"]),
        )

    # A newly started worker's recovery sweep finishes the thread.
    worker = ServerProcess(server_env, data_dir / "recovery-server.log").start()
    try:
        for _ in range(100):
            messages = await api.messages(conversation, key)
            if messages[-1]["content"] == ANSWER:
                break
            await asyncio.sleep(0.1)
    finally:
        worker.stop()
    assert [m["path"] for m in messages] == [None, "D", "E", "C"]
    escalation = (await api.call("GET", "/orchestrator/queue?status=answered", world.creator_key))[0]
    assert escalation["delivered_at"] is not None and escalation["canonical_answer_id"] is not None
    # Answering again is still refused: the stored answer was the one.
    await api.call(
        "POST",
        f"/orchestrator/queue/{offer['escalation_id']}/answer",
        world.creator_key,
        json={"answer": "again"},
        expect=409,
    )


async def test_a_turn_killed_mid_stream_is_retried_without_a_duplicate(
    api: Api, server_env: dict, data_dir: Path
) -> None:
    """kill -9 while the answer streams; the client sends the same message again under its Idempotency-Key."""
    world = await api.world()
    key = world.users["paid"]
    crashing = ServerProcess(server_env, data_dir / "midstream-server.log").start()
    headers = bearer(key) | {"Idempotency-Key": "msg-1"}
    body = {"content": KNOWN_QUESTION}
    async with httpx.AsyncClient(base_url=crashing.url, timeout=60) as client:
        conversation = await Api(client, api.admin_key).conversation(world, "paid")
        seen = []
        with contextlib.suppress(httpx.HTTPError):
            async with aconnect_sse(
                client, "POST", f"/messaging/conversations/{conversation}/stream", json=body, headers=headers
            ) as source:
                async for event in source.aiter_sse():
                    seen.append(event.event)
                    if event.event == "decision":
                        crashing.kill()  # mid-stream: the answer has not been sent
    assert seen[:1] == ["decision"] and "done" not in seen

    stored = await api.messages(conversation, key)
    assert [m["role"] for m in stored][:1] == ["user"]  # stored before the first event

    async def retry() -> list[tuple[str, dict]]:
        async with aconnect_sse(
            api.client, "POST", f"/messaging/conversations/{conversation}/stream", json=body, headers=headers
        ) as source:
            assert source.response.status_code == 200
            return [(e.event, json.loads(e.data)) async for e in source.aiter_sse()]

    first, second = await retry(), await retry()  # on another server; then once more
    for events in (first, second):
        names = [name for name, _ in events]
        assert names[0] == "decision" and "message" in names and names[-1] == "done", names
    answer = next(data for name, data in first if name == "message")
    assert next(data for name, data in second if name == "message") == answer
    messages = await api.messages(conversation, key)
    assert [(m["role"], m["content"]) for m in messages] == [("user", KNOWN_QUESTION), ("agent", answer["content"])]

    response = await api.client.post(
        f"/messaging/conversations/{conversation}/stream", json={"content": "something else"}, headers=headers
    )
    assert response.status_code == 409  # the key names one message only
