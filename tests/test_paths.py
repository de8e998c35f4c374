"""Each path A-F reached through the HTTP API, with its SSE events in the contract's order."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from graphs.config import WEEKDAYS
from tests.utils.api import KNOWN_QUESTION, NOVEL_QUESTION, VAGUE_QUESTION, Api, bearer

SIGNALS = {"similarity", "novelty", "complexity", "confidence"}


def assert_turn_shape(names: list[str], last_before_done: str) -> None:
    """decision first, then tokens only, then the final event, then done."""
    assert names[0] == "decision"
    assert names[-1] == "done"
    assert names[-2] == last_before_done
    assert set(names[1:-2]) <= {"token"}


async def test_path_a_streams_tokens_from_the_knowledge(api: Api) -> None:
    world = await api.world()
    conversation = await api.conversation(world, "free")
    turn = await api.stream(conversation, world.users["free"], KNOWN_QUESTION)

    assert_turn_shape(turn.names, "message")
    decision = turn.decision
    assert decision["path"] == "A" and decision["reason"] == "confident"
    assert set(decision["signals"]) == SIGNALS
    assert abs(decision["signals"]["novelty"] - (1 - decision["signals"]["similarity"])) < 1e-3
    assert turn.names.count("token") > 5
    message = turn.first("message")
    assert message["role"] == "agent" and message["path"] == "A"
    assert message["content"] == turn.text.strip()
    assert "1.6 to 2.2 grams of protein" in message["content"]  # grounded in the creator's knowledge

    stored = await api.messages(conversation, world.users["free"])
    assert [(m["role"], m["path"]) for m in stored] == [("user", None), ("agent", "A")]
    assert stored[0]["content"] == KNOWN_QUESTION and stored[0]["id"] == decision["message_id"]
    assert stored[1]["id"] == message["id"] and stored[1]["content"] == message["content"]


async def test_path_b_clarifies_once(api: Api) -> None:
    world = await api.world()
    conversation = await api.conversation(world, "follower")
    turn = await api.stream(conversation, world.users["follower"], VAGUE_QUESTION)

    assert_turn_shape(turn.names, "message")
    assert turn.decision["path"] == "B" and turn.decision["reason"] == "vague_question"
    assert "?" in turn.first("message")["content"]

    # The last turn was a clarification: a second vague message is not clarified again.
    again = await api.stream(conversation, world.users["follower"], "sleep?")
    assert again.decision["path"] != "B"


async def test_clarification_can_be_switched_off(api: Api) -> None:
    world = await api.world(config={"clarification_enabled": False})
    conversation = await api.conversation(world, "free")
    turn = await api.stream(conversation, world.users["free"], VAGUE_QUESTION)
    assert turn.decision["path"] != "B"


async def test_path_c_serves_the_creators_words_and_counts_reuse(api: Api) -> None:
    answer = "Not right now. My small-group program opens twice a year; join the newsletter to hear first."
    world = await api.world(canonical=[("Do you offer one-on-one coaching?", answer, "public")])
    conversation = await api.conversation(world, "free")
    turn = await api.stream(conversation, world.users["free"], "Do you offer 1-on-1 coaching?")

    assert_turn_shape(turn.names, "message")
    assert "token" not in turn.names
    assert turn.decision["path"] == "C"
    message = turn.first("message")
    assert message["content"] == answer
    assert message["attribution"] == "Answered by Mia Chen"
    listed = await api.call("GET", f"/agents/{world.agent_id}/canonical-answers", world.creator_key)
    assert listed[0]["id"] == message["canonical_answer_id"] and listed[0]["times_reused"] == 1


async def test_path_c_is_not_fooled_by_a_negation(api: Api) -> None:
    answer = "Yes: send a photo of the damage within 14 days and you get a full refund."
    world = await api.world(canonical=[("Can I get a refund for a damaged order?", answer, "public")])
    conversation = await api.conversation(world, "free")
    turn = await api.stream(conversation, world.users["free"], "Can I get a refund for an undamaged order?")

    assert turn.decision["signals"]["similarity"] >= 0.85  # the embedding alone would have served it
    assert turn.decision["path"] != "C"
    assert all(data.get("content") != answer for _, data in turn.events)


async def test_path_d_offers_escalation_and_e_queues_it(api: Api) -> None:
    world = await api.world()
    conversation = await api.conversation(world, "follower")
    turn = await api.stream(conversation, world.users["follower"], NOVEL_QUESTION)

    assert_turn_shape(turn.names, "escalation_offer")
    assert turn.decision["path"] == "D" and turn.decision["reason"] == "novel"
    offer = turn.first("escalation_offer")
    assert offer["reason"] == "novel" and offer["expected_response_hours"] == 24

    accepted = await api.call("POST", f"/orchestrator/queue/{offer['escalation_id']}/accept", world.users["follower"])
    assert accepted["decision"]["path"] == "E"
    assert accepted["escalation"]["status"] == "pending"
    assert accepted["message"]["path"] == "E"
    queue = await api.call("GET", "/orchestrator/queue?status=pending", world.creator_key)
    assert [e["id"] for e in queue] == [offer["escalation_id"]]
    assert queue[0]["question"] == NOVEL_QUESTION and NOVEL_QUESTION in queue[0]["context_summary"]


async def test_dismissed_offer_is_not_queued(api: Api) -> None:
    world = await api.world()
    conversation = await api.conversation(world, "paid")
    offer = (await api.ask(conversation, world.users["paid"], NOVEL_QUESTION))["escalation"]
    dismissed = await api.call("POST", f"/orchestrator/queue/{offer['escalation_id']}/dismiss", world.users["paid"])
    assert dismissed["escalation"]["status"] == "dismissed"
    assert await api.call("GET", "/orchestrator/queue", world.creator_key) == []
    again = await api.call(
        "POST", f"/orchestrator/queue/{offer['escalation_id']}/accept", world.users["paid"], expect=409
    )
    assert again["error"]["code"] == "conflict"


async def test_path_f_refusals_say_why_and_what_to_do(api: Api) -> None:
    world = await api.world(
        config={"blocked_topics": ["steroids", "weight loss pills"], "allowed_user_tiers": ["follower", "paid"]}
    )
    follower = await api.conversation(world, "follower")

    blocked = await api.stream(follower, world.users["follower"], "Where can I buy WEIGHT  LOSS pills?")
    assert_turn_shape(blocked.names, "message")
    assert blocked.decision == blocked.decision | {"path": "F", "reason": "blocked_topic"}
    assert (
        "weight loss pills" in blocked.first("message")["content"]
        and "something else" in blocked.first("message")["content"]
    )

    # Whole words only: "steroidsfree" is not the blocked topic "steroids".
    unblocked = await api.stream(follower, world.users["follower"], "Is steroidsfree a brand?")
    assert unblocked.decision["reason"] != "blocked_topic"

    free = await api.conversation(world, "free")
    tier = await api.stream(free, world.users["free"], KNOWN_QUESTION)
    assert (tier.decision["path"], tier.decision["reason"]) == ("F", "tier_not_allowed")
    assert "Upgrading" in tier.first("message")["content"]


async def test_novel_question_from_a_tier_that_cannot_escalate_is_refused(api: Api) -> None:
    world = await api.world()
    conversation = await api.conversation(world, "free")
    turn = await api.stream(conversation, world.users["free"], NOVEL_QUESTION)
    assert (turn.decision["path"], turn.decision["reason"]) == ("F", "tier_not_eligible")
    assert "follower or paid" in turn.first("message")["content"]


async def test_disabled_agent_and_disabled_escalation(api: Api) -> None:
    world = await api.world(config={"escalation_enabled": False})
    conversation = await api.conversation(world, "paid")
    turn = await api.stream(conversation, world.users["paid"], NOVEL_QUESTION)
    assert (turn.decision["path"], turn.decision["reason"]) == ("F", "escalation_disabled")

    config = await api.call("GET", f"/orchestrator/config/{world.agent_id}", world.creator_key)
    await api.call("PUT", f"/orchestrator/config/{world.agent_id}", world.creator_key, json=config | {"enabled": False})
    off = await api.stream(conversation, world.users["paid"], KNOWN_QUESTION)
    assert (off.decision["path"], off.decision["reason"]) == ("F", "agent_disabled")


async def test_availability_windows_gate_escalation(api: Api) -> None:
    tz = ZoneInfo("America/New_York")
    today = WEEKDAYS[datetime.now(tz).weekday()]
    other_day = WEEKDAYS[(datetime.now(tz).weekday() + 3) % 7]
    closed = {"timezone": "America/New_York", "hours": {other_day: [["09:00", "17:00"]]}}
    world = await api.world(config={"availability_windows": closed})
    conversation = await api.conversation(world, "paid")
    turn = await api.stream(conversation, world.users["paid"], NOVEL_QUESTION)
    assert (turn.decision["path"], turn.decision["reason"]) == ("F", "outside_availability")
    assert "during those hours" in turn.first("message")["content"]

    open_now = {"timezone": "America/New_York", "hours": {today: [["00:00", "24:00"]]}}
    world = await api.world(config={"availability_windows": open_now})
    conversation = await api.conversation(world, "paid")
    assert (await api.stream(conversation, world.users["paid"], NOVEL_QUESTION)).decision["path"] == "D"


async def test_config_takes_effect_on_the_next_message(api: Api) -> None:
    world = await api.world()
    conversation = await api.conversation(world, "follower")
    assert (await api.stream(conversation, world.users["follower"], KNOWN_QUESTION)).decision["path"] == "A"
    config = await api.call("GET", f"/orchestrator/config/{world.agent_id}", world.creator_key)
    await api.call(
        "PUT",
        f"/orchestrator/config/{world.agent_id}",
        world.creator_key,
        json=config | {"auto_answer_confidence_threshold": 0.99},
    )
    turn = await api.stream(conversation, world.users["follower"], KNOWN_QUESTION)
    # No longer "confident" before answering: the answer is drafted and checked before anyone sees it.
    assert turn.decision["reason"] == "low_confidence"
    assert turn.names.index("decision") == 0 and "confidence" in turn.events[-2][1]


async def test_a_client_that_disconnects_mid_answer_still_gets_it_stored(api: Api) -> None:
    world = await api.world()
    conversation, key = await api.conversation(world, "free"), world.users["free"]
    async with api.client.stream(
        "POST", f"/messaging/conversations/{conversation}/stream", json={"content": KNOWN_QUESTION}, headers=bearer(key)
    ) as response:
        async for line in response.aiter_lines():
            if line.startswith("event: decision"):
                break  # leave after the first event
    for _ in range(50):
        stored = await api.messages(conversation, key)
        if len(stored) == 2:
            break
        await asyncio.sleep(0.1)
    assert [(m["role"], m["path"]) for m in stored] == [("user", None), ("agent", "A")]
    assert "1.6 to 2.2 grams of protein" in stored[1]["content"]
