"""Who may do what: users see only their conversations, creators only their agents and escalations."""

from __future__ import annotations

from tests.utils.api import NOVEL_QUESTION, Api, bearer


async def pending_escalation(api: Api, world, tier: str = "follower") -> tuple[str, str]:  # noqa: ANN001
    conversation = await api.conversation(world, tier)
    offer = (await api.ask(conversation, world.users[tier], NOVEL_QUESTION))["escalation"]
    return conversation, offer["escalation_id"]


async def test_a_user_cannot_touch_another_users_conversation_or_offer(api: Api) -> None:
    world = await api.world()
    conversation, escalation = await pending_escalation(api, world)
    intruder = world.users["paid"]

    for method, path, body in (
        ("GET", f"/messaging/conversations/{conversation}/messages", None),
        ("POST", "/orchestrator/message", {"conversation_id": conversation, "message": "hi"}),
        ("GET", f"/messaging/conversations/{conversation}/events", None),
        ("POST", f"/orchestrator/queue/{escalation}/accept", None),
        ("POST", f"/orchestrator/queue/{escalation}/dismiss", None),
    ):
        response = await api.client.request(method, path, json=body, headers=bearer(intruder))
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    response = await api.client.post(
        f"/messaging/conversations/{conversation}/stream", json={"content": "hi"}, headers=bearer(intruder)
    )
    assert response.status_code == 404

    # Nothing was written by the attempts, and the offer is still the owner's to accept.
    assert len(await api.messages(conversation, world.users["follower"])) == 2
    await api.call("POST", f"/orchestrator/queue/{escalation}/accept", world.users["follower"])


async def test_a_creator_cannot_touch_another_creators_agent_or_escalations(api: Api) -> None:
    world = await api.world()
    _, escalation = await pending_escalation(api, world)
    await api.call("POST", f"/orchestrator/queue/{escalation}/accept", world.users["follower"])
    _, other = await api.creator()

    assert await api.call("GET", "/orchestrator/queue?status=all", other) == []
    for method, path, body in (
        ("POST", f"/orchestrator/queue/{escalation}/answer", {"answer": "hijacked"}),
        ("POST", f"/orchestrator/queue/{escalation}/decline", {"reason": "no"}),
        ("GET", f"/orchestrator/config/{world.agent_id}", None),
        ("PUT", f"/orchestrator/config/{world.agent_id}", {"escalation_enabled": False}),
        ("GET", f"/orchestrator/metrics/{world.agent_id}", None),
        ("POST", f"/agents/{world.agent_id}/knowledge", {"title": "x", "text": "y"}),
        ("POST", f"/agents/{world.agent_id}/canonical-answers", {"question": "q", "answer": "a"}),
        ("GET", f"/agents/{world.agent_id}/canonical-answers", None),
    ):
        response = await api.client.request(method, path, json=body, headers=bearer(other))
        assert response.status_code == 404, (method, path, response.text)

    # The owner's view is untouched: still pending, config unchanged.
    queue = await api.call("GET", "/orchestrator/queue", world.creator_key)
    assert [e["id"] for e in queue] == [escalation]
    config = await api.call("GET", f"/orchestrator/config/{world.agent_id}", world.creator_key)
    assert config["escalation_enabled"] is True


async def test_roles_are_enforced(api: Api) -> None:
    world = await api.world()
    user, creator = world.users["paid"], world.creator_key
    checks = [
        ("POST", "/admin/creators", user, {"handle": "sneaky", "display_name": "x"}, 403),
        ("POST", "/admin/users", creator, {"handle": "sneaky", "tier": "paid"}, 403),
        ("POST", "/agents", user, {"handle": "sneaky", "name": "x"}, 403),
        ("GET", "/orchestrator/queue", user, None, 403),
        ("POST", "/messaging/conversations", creator, {"agent_id": world.agent_id}, 403),
        ("GET", "/orchestrator/queue", None, None, 401),
        ("GET", "/orchestrator/queue", "orch_c_not-a-real-key", None, 401),
    ]
    for method, path, key, body, status in checks:
        headers = bearer(key) if key else {}
        response = await api.client.request(method, path, json=body, headers=headers)
        assert response.status_code == status, (method, path, response.text)
        assert set(response.json()["error"]) >= {"code", "message"}


async def test_layers_never_reach_a_tier_they_do_not_admit(api: Api) -> None:
    friends = ("Which protein powder do you use?", "An unflavoured whey isolate, mixed into oats.", "friends")
    intimate = ("What does your own weekly training split look like?", "Upper, lower, rest, upper, lower.", "intimate")
    world = await api.world(canonical=[friends, intimate])

    served = {}
    for tier in ("free", "follower", "paid"):
        conversation = await api.conversation(world, tier)
        for question, answer, _ in (friends, intimate):
            turn = await api.stream(conversation, world.users[tier], question)
            served[(tier, question)] = turn.decision["path"] == "C"
            texts = [data.get("content", "") + data.get("text", "") for _, data in turn.events]
            if not served[(tier, question)]:
                assert all(answer not in text for text in texts)
            # The similarity signal itself reveals nothing about answers the tier cannot see.
            if tier == "free":
                assert turn.decision["signals"]["similarity"] < 0.99

    assert served == {
        ("free", friends[0]): False,
        ("free", intimate[0]): False,
        ("follower", friends[0]): True,
        ("follower", intimate[0]): False,
        ("paid", friends[0]): True,
        ("paid", intimate[0]): True,
    }


async def test_api_keys_are_stored_hashed(api: Api, database_url: str) -> None:
    import psycopg

    world = await api.world()
    key = world.users["free"]
    with psycopg.connect(database_url) as conn:
        stored = [row[0] for row in conn.execute("SELECT key_hash FROM api_keys")]
    assert key not in stored and all(len(value) == 64 for value in stored)
