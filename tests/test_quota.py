"""Escalation quotas hold exactly under concurrency, across two server processes on the same stores."""

from __future__ import annotations

import asyncio

import httpx

from tests.utils.api import NOVEL_QUESTION, Api, bearer


async def test_twenty_simultaneous_accepts_queue_exactly_the_daily_quota(api: Api, openai_server) -> None:  # noqa: ANN001
    world = await api.world(config={"max_escalations_per_day": 3})
    key = world.users["follower"]
    conversations = [await api.conversation(world, "follower") for _ in range(20)]
    offers = await asyncio.gather(*(api.ask(c, key, NOVEL_QUESTION) for c in conversations))
    assert all(offer["decision"]["path"] == "D" for offer in offers)

    # Half the accepts go to a second server process: the quota must hold across workers too.
    async with httpx.AsyncClient(base_url=openai_server.url, timeout=60) as other:
        clients = [api.client, other]
        responses = await asyncio.gather(
            *(
                clients[i % 2].post(
                    f"/orchestrator/queue/{o['escalation']['escalation_id']}/accept", headers=bearer(key)
                )
                for i, o in enumerate(offers)
            )
        )
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200]
    results = [r.json() for r in responses]
    queued = [r for r in results if r["escalation"]["status"] == "pending"]
    refused = [r for r in results if r["escalation"]["status"] == "refused"]
    assert len(queued) == 3 and len(refused) == 17
    assert {(r["decision"]["path"], r["decision"]["reason"]) for r in refused} == {("F", "quota_day")}
    assert all("today" in r["message"]["content"] for r in refused)

    pending = await api.call("GET", "/orchestrator/queue?status=pending", world.creator_key)
    assert len(pending) == 3
    metrics = await api.call("GET", f"/orchestrator/metrics/{world.agent_id}", world.creator_key)
    assert metrics["escalations_today"] == 3

    # Once the quota is spent, new questions are refused up front with the quota reason.
    turn = await api.stream(conversations[0], key, NOVEL_QUESTION)
    assert (turn.decision["path"], turn.decision["reason"]) == ("F", "quota_day")
