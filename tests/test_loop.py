"""The leverage loop over HTTP: novel question, offer, accept, creator answers, live delivery, reuse."""

from __future__ import annotations

import asyncio
import json

from httpx_sse import aconnect_sse

from tests.utils.api import NOVEL_QUESTION, Api, bearer

PARAPHRASE = "What's your view on putting my retirement savings into crypto?"
ANSWER = "I'm a coach, not a financial adviser: talk to a fiduciary, and never invest money you'll need soon."


async def follow(api: Api, conversation: str, key: str, count: int, last_event_id: str | None = None) -> list:
    """Read `count` live events from /events (optionally resuming after an id)."""
    headers = bearer(key) | ({"Last-Event-ID": last_event_id} if last_event_id else {})
    received = []
    async with aconnect_sse(
        api.client, "GET", f"/messaging/conversations/{conversation}/events", headers=headers
    ) as source:
        assert source.response.status_code == 200
        async for sse in source.aiter_sse():
            received.append((sse.id, sse.event, json.loads(sse.data)))
            if len(received) == count:
                break
    return received


async def test_the_whole_loop(api: Api) -> None:
    world = await api.world()
    follower, follower_key = await api.conversation(world, "follower"), world.users["follower"]
    offer = (await api.stream(follower, follower_key, NOVEL_QUESTION)).first("escalation_offer")

    # The user keeps the conversation open on /events while the question waits for the creator.
    live = asyncio.create_task(follow(api, follower, follower_key, count=2))
    await asyncio.sleep(0.5)
    accepted = await api.call("POST", f"/orchestrator/queue/{offer['escalation_id']}/accept", follower_key)
    assert accepted["escalation"]["status"] == "pending"

    # The user keeps chatting while the question waits.
    assert (await api.ask(follower, follower_key, "How many hours should I sleep?"))["decision"]["path"] == "A"

    queue = await api.call("GET", "/orchestrator/queue", world.creator_key)
    assert [e["id"] for e in queue] == [offer["escalation_id"]]
    answered = await api.call(
        "POST",
        f"/orchestrator/queue/{offer['escalation_id']}/answer",
        world.creator_key,
        json={"answer": ANSWER, "layer": "public"},
    )
    assert answered["escalation"]["status"] == "answered"
    canonical_id = answered["escalation"]["canonical_answer_id"]
    assert canonical_id and answered["message"]["content"] == ANSWER

    events = await asyncio.wait_for(live, timeout=10)
    assert [name for _, name, _ in events] == ["message", "message"]
    assert events[0][2]["path"] == "E"
    assert events[1][2] | {"content": ANSWER, "canonical_answer_id": canonical_id} == events[1][2]

    # Reconnecting with the first event's id replays exactly what came after it.
    replay = await follow(api, follower, follower_key, count=1, last_event_id=events[0][0])
    assert replay[0][0] == events[1][0]

    stored = await api.messages(follower, follower_key)
    assert [m["path"] for m in stored] == [None, "D", "E", None, "A", "C"]
    assert stored[-1]["content"] == ANSWER

    # A paraphrase from another user (of a tier the public layer admits) is served the creator's words.
    free = await api.conversation(world, "free")
    reuse = await api.stream(free, world.users["free"], PARAPHRASE)
    assert reuse.decision["path"] == "C"
    assert reuse.first("message")["content"] == ANSWER
    assert reuse.first("message")["canonical_answer_id"] == canonical_id
    listed = await api.call("GET", f"/agents/{world.agent_id}/canonical-answers", world.creator_key)
    assert [(c["id"], c["times_reused"], c["question"]) for c in listed] == [(canonical_id, 1, NOVEL_QUESTION)]

    metrics = await api.call("GET", f"/orchestrator/metrics/{world.agent_id}?days=7", world.creator_key)
    assert metrics["path_counts"] | {"A": 1, "C": 1, "D": 1, "E": 1} == metrics["path_counts"]
    assert metrics["escalations_today"] == 1 and metrics["answer_reuse_count"] == 1
    assert metrics["total_messages"] == 3 and metrics["auto_answer_rate"] == round(1 / 3, 4)


async def test_decline_tells_the_user_politely(api: Api) -> None:
    world = await api.world()
    conversation, key = await api.conversation(world, "paid"), world.users["paid"]
    offer = (await api.ask(conversation, key, NOVEL_QUESTION))["escalation"]
    await api.call("POST", f"/orchestrator/queue/{offer['escalation_id']}/accept", key)

    declined = await api.call(
        "POST",
        f"/orchestrator/queue/{offer['escalation_id']}/decline",
        world.creator_key,
        json={"reason": "I don't give investment advice"},
    )
    assert declined["escalation"]["status"] == "declined"
    last = (await api.messages(conversation, key))[-1]
    assert last["path"] == "F" and "won't be answering this one: I don't give investment advice" in last["content"]
    assert await api.call("GET", f"/agents/{world.agent_id}/canonical-answers", world.creator_key) == []

    # Nothing more can happen to it: answering or declining again is a conflict and changes nothing.
    for action, body in (("answer", {"answer": "ok then"}), ("decline", {})):
        error = await api.call(
            "POST", f"/orchestrator/queue/{offer['escalation_id']}/{action}", world.creator_key, json=body, expect=409
        )
        assert error["error"]["code"] == "conflict"
    assert len(await api.messages(conversation, key)) == 4


async def test_answering_twice_changes_nothing(api: Api) -> None:
    world = await api.world()
    conversation, key = await api.conversation(world, "follower"), world.users["follower"]
    offer = (await api.ask(conversation, key, NOVEL_QUESTION))["escalation"]
    url = f"/orchestrator/queue/{offer['escalation_id']}"
    await api.call("POST", f"{url}/accept", key)
    first, second = await asyncio.gather(
        api.client.post(f"{url}/answer", json={"answer": "first"}, headers=bearer(world.creator_key)),
        api.client.post(f"{url}/answer", json={"answer": "second"}, headers=bearer(world.creator_key)),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    canonical = await api.call("GET", f"/agents/{world.agent_id}/canonical-answers", world.creator_key)
    assert len(canonical) == 1
    winner = "first" if first.status_code == 200 else "second"
    assert canonical[0]["answer"] == winner
    assert [m["content"] for m in await api.messages(conversation, key)][-1] == winner


async def test_answer_layer_must_admit_the_asker(api: Api) -> None:
    world = await api.world()
    conversation, key = await api.conversation(world, "follower"), world.users["follower"]
    offer = (await api.ask(conversation, key, NOVEL_QUESTION))["escalation"]
    await api.call("POST", f"/orchestrator/queue/{offer['escalation_id']}/accept", key)
    error = await api.call(
        "POST",
        f"/orchestrator/queue/{offer['escalation_id']}/answer",
        world.creator_key,
        json={"answer": "paid members only", "layer": "intimate"},
        expect=422,
    )
    assert error["error"]["code"] == "validation_error" and "layer" in error["error"]["message"]
    # Still pending: a friends answer is fine for a follower.
    ok = await api.call(
        "POST",
        f"/orchestrator/queue/{offer['escalation_id']}/answer",
        world.creator_key,
        json={"answer": "for friends", "layer": "friends"},
    )
    assert ok["escalation"]["answer_layer"] == "friends"
