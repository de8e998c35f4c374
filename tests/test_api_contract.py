"""The API's contract at its edges: error shape, validation, health, config round trip."""

from __future__ import annotations

from tests.utils.api import Api, bearer


async def test_errors_have_one_shape(api: Api) -> None:
    world = await api.world()
    key = world.users["free"]
    conversation = await api.conversation(world, "free")
    cases = [
        ("POST", "/orchestrator/message", {"conversation_id": conversation, "message": ""}, 422),
        ("POST", "/orchestrator/message", {"conversation_id": conversation, "message": "   "}, 422),
        ("POST", "/orchestrator/message", {"conversation_id": conversation, "message": "x" * 4001}, 422),
        ("POST", "/orchestrator/message", {"conversation_id": "not-a-uuid", "message": "hi"}, 422),
        ("POST", "/messaging/conversations", {"agent_id": "00000000-0000-0000-0000-000000000000"}, 404),
        ("POST", "/messaging/conversations", {"agent_id": world.agent_id, "channel": "fax"}, 422),
        ("GET", "/messaging/conversations/nope/messages", None, 422),
        ("GET", "/no/such/route", None, 404),
    ]
    for method, path, body, status in cases:
        response = await api.client.request(method, path, json=body, headers=bearer(key))
        assert response.status_code == status, (method, path, response.text)
        error = response.json()["error"]
        assert error["code"] and error["message"], response.text

    broken = await api.client.post(
        "/orchestrator/message", content=b"{not json", headers=bearer(key) | {"content-type": "application/json"}
    )
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "validation_error"
    # None of the rejected requests stored a message.
    assert await api.messages(conversation, key) == []


async def test_config_round_trip_and_validation(api: Api) -> None:
    world = await api.world()
    url = f"/orchestrator/config/{world.agent_id}"
    config = await api.call("GET", url, world.creator_key)
    assert config["agent_id"] == world.agent_id and config["max_escalations_per_day"] == 10

    updated = await api.call(
        "PUT", url, world.creator_key, json=config | {"blocked_topics": ["steroids"], "agent_id": "ignored"}
    )
    assert updated["blocked_topics"] == ["steroids"] and updated["agent_id"] == world.agent_id

    bad = await api.call("PUT", url, world.creator_key, json=config | {"canonical_similarity_threshold": 3}, expect=422)
    assert "canonical_similarity_threshold" in bad["error"]["message"]
    assert (await api.call("GET", url, world.creator_key))["blocked_topics"] == ["steroids"]


async def test_health_reports_both_stores(api: Api) -> None:
    health = await api.call("GET", "/health", None)
    assert health == health | {"status": "ok", "postgres": True, "redis": True, "llm": "offline"}


async def test_last_event_id_must_be_a_stream_id(api: Api) -> None:
    world = await api.world()
    conversation = await api.conversation(world, "free")
    response = await api.client.get(
        f"/messaging/conversations/{conversation}/events",
        headers=bearer(world.users["free"]) | {"Last-Event-ID": "drop table"},
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"


async def test_handles_are_unique(api: Api) -> None:
    _, creator_key = await api.creator()
    body = {"handle": "dup-agent-handle", "name": "A"}
    first = await api.client.post("/agents", json=body, headers=bearer(creator_key))
    second = await api.client.post("/agents", json=body, headers=bearer(creator_key))
    assert first.status_code in (201, 409) and second.status_code == 409


async def test_canonical_answers_can_be_edited_by_their_owner_only(api: Api) -> None:
    world = await api.world(canonical=[("Do you have an app?", "No app yet.", "public")])
    answer = (await api.call("GET", f"/agents/{world.agent_id}/canonical-answers", world.creator_key))[0]
    url = f"/agents/{world.agent_id}/canonical-answers/{answer['id']}"
    _, other = await api.creator()
    await api.call("PUT", url, other, json={"answer": "hijacked"}, expect=404)
    await api.call("PUT", url, world.users["paid"], json={"answer": "hijacked"}, expect=403)
    await api.call("PUT", url, world.creator_key, json={"layer": "vip"}, expect=422)

    edited = await api.call(
        "PUT",
        url,
        world.creator_key,
        json={"question": "Where can I download your training PDF?", "answer": "From the Resources page."},
    )
    assert (edited["question"], edited["answer"], edited["layer"]) == (
        "Where can I download your training PDF?",
        "From the Resources page.",
        "public",
    )
    # The new question is what paraphrases are matched against now.
    conversation = await api.conversation(world, "free")
    turn = await api.stream(conversation, world.users["free"], "Where do I download your training PDF?")
    assert turn.decision["path"] == "C" and turn.first("message")["content"] == "From the Resources page."


async def test_me_says_who_is_calling(api: Api) -> None:
    world = await api.world()
    me = await api.call("GET", "/me", world.users["paid"])
    assert me["role"] == "user" and me["tier"] == "paid"
    assert (await api.call("GET", "/me", world.creator_key))["role"] == "creator"
    await api.call("GET", "/me", "orch_u_nope", expect=401)


async def test_pages_are_served_without_secrets_in_urls(api: Api) -> None:
    for path in ("/", "/chat/coachmia", "/creator", "/creator/agents/x", "/static/api.js"):
        response = await api.client.get(path)
        assert response.status_code == 200, path
    page = (await api.client.get("/")).text
    assert 'type="password"' in page and "http" not in page.split("<body>")[1].split("</body>")[0]
