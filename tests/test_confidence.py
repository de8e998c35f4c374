"""Confidence-based escalation of path A answers: analysis, modes and actions, visible everywhere."""

from __future__ import annotations

import psycopg
import pytest
from langchain_openai import ChatOpenAI

from graphs.config import ConfidenceEscalation
from llm.self_assessment import SelfAssessment, TrailerFilter, parse_rating, parse_trailer, rate_answer
from nodes.confidence import Analysis, analyse_answer, choose_action, high_stakes_matches
from tests.utils.api import KNOWN_QUESTION, Api
from tests.utils.openai_stub import OpenAIStub

BARELY_TOUCHED = "How do I fix my squat form?"  # looks unsupported before answering: drafted unseen
PARTLY_COVERED = "Do eggs and yogurt help me build muscle?"  # answered from the knowledge, confidence ~0.77
UNCOVERED = "What should I eat for breakfast?"
KNEE_PAIN = "I have sharp pain when I lift, should I keep training?"  # high stakes, and the knowledge covers it


def decision_rows(database_url: str, message_id: str) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT path, reason, confidence_score, confidence_level, confidence_action FROM decisions"
            " WHERE message_id = %s ORDER BY id",
            (message_id,),
        ).fetchall()


async def test_covered_question_is_high_and_answered_plainly(api: Api, database_url: str) -> None:
    world = await api.world()
    conversation = await api.conversation(world, "free")
    turn = await api.stream(conversation, world.users["free"], KNOWN_QUESTION)

    message = turn.first("message")
    confidence = message["confidence"]
    assert (confidence["level"], confidence["action"]) == ("HIGH", "answer")
    assert 0.75 <= confidence["score"] <= 1.0
    assert {f["name"] for f in confidence["factors"]} >= {"support", "retrieval"}
    assert "not fully sure" not in message["content"] and "escalation_id" not in message
    stored = (await api.messages(conversation, world.users["free"]))[-1]
    assert stored["metadata"]["confidence"] == confidence
    assert decision_rows(database_url, turn.decision["message_id"]) == [
        ("A", "confident", pytest.approx(confidence["score"]), "HIGH", "answer")
    ]


async def test_below_the_review_threshold_the_answer_gets_a_disclaimer_and_an_offer(
    api: Api, database_url: str
) -> None:
    world = await api.world(config={"confidence_escalation": {"review_threshold": 0.8}})
    conversation, key = await api.conversation(world, "paid"), world.users["paid"]
    turn = await api.stream(conversation, key, PARTLY_COVERED)

    assert turn.decision["path"] == "A"
    message = turn.first("message")
    assert (message["confidence"]["level"], message["confidence"]["action"]) == ("LOW", "review")
    assert "not fully sure" in message["content"] and message["content"] == turn.text.strip()
    # "Ask the creator": the offer rides on the answer and can be accepted like any other.
    accepted = await api.call("POST", f"/orchestrator/queue/{message['escalation_id']}/accept", key)
    assert accepted["escalation"]["status"] == "pending" and accepted["escalation"]["reason"] == "low_confidence"
    queued = (await api.call("GET", "/orchestrator/queue", world.creator_key))[0]
    assert queued["ai_draft"] and queued["ai_draft"] in message["content"]
    assert queued["ai_confidence"]["level"] == "LOW"
    with psycopg.connect(database_url) as conn:
        handoff = conn.execute(
            "SELECT payload->>'reason' FROM event_log WHERE type = 'human_handoff.requested' AND message_id = %s",
            (turn.decision["message_id"],),
        ).fetchall()
    assert handoff == [("low_confidence",)]


async def test_an_uncovered_question_is_held_back_and_offered_to_the_creator(api: Api) -> None:
    world = await api.world()
    conversation, key = await api.conversation(world, "paid"), world.users["paid"]
    turn = await api.stream(conversation, key, UNCOVERED)

    # The draft was never shown: no tokens, the first event is the decision to escalate.
    assert turn.names == ["decision", "escalation_offer", "done"]
    assert (turn.decision["path"], turn.decision["reason"]) == ("D", "low_confidence")
    offer = turn.first("escalation_offer")
    assert offer["confidence"]["level"] == "LOW" and offer["confidence"]["action"] == "escalate"
    await api.call("POST", f"/orchestrator/queue/{offer['escalation_id']}/accept", key)
    queued = (await api.call("GET", "/orchestrator/queue", world.creator_key))[0]
    assert queued["ai_draft"] and queued["ai_confidence"]["action"] == "escalate"


async def test_high_stakes_question_in_strict_mode_escalates(api: Api) -> None:
    world = await api.world(config={"confidence_escalation": {"mode": "strict"}})
    conversation = await api.conversation(world, "follower")
    turn = await api.stream(conversation, world.users["follower"], KNEE_PAIN)
    assert (turn.decision["path"], turn.decision["reason"]) == ("D", "low_confidence")
    assert "token" not in turn.names
    factors = {f["name"]: f for f in turn.first("escalation_offer")["confidence"]["factors"]}
    assert factors["high_stakes"]["detail"] == "medical"


async def test_high_stakes_question_with_escalation_disabled_gets_the_answer_with_a_disclaimer(api: Api) -> None:
    world = await api.world(config={"escalation_enabled": False, "confidence_escalation": {"mode": "strict"}})
    conversation = await api.conversation(world, "follower")
    turn = await api.stream(conversation, world.users["follower"], KNEE_PAIN)
    assert turn.decision["path"] == "A"
    message = turn.first("message")
    assert message["confidence"]["action"] == "disclaimer"
    assert "sharp pain, stop the set" in message["content"] and "not fully sure" in message["content"]


async def test_never_auto_answer_topics_are_refused_when_the_creator_cannot_be_asked(api: Api) -> None:
    config = {"escalation_enabled": False, "confidence_escalation": {"never_auto_answer": ["medical"]}}
    world = await api.world(config=config)
    conversation = await api.conversation(world, "follower")
    turn = await api.stream(conversation, world.users["follower"], KNEE_PAIN)
    assert (turn.decision["path"], turn.decision["reason"]) == ("F", "never_auto_answer")
    assert "sharp pain" not in turn.first("message")["content"]


async def test_metrics_report_escalation_rate_and_low_confidence_escalations(api: Api) -> None:
    world = await api.world()
    conversation, key = await api.conversation(world, "paid"), world.users["paid"]
    await api.stream(conversation, key, KNOWN_QUESTION)
    offer = (await api.stream(conversation, key, UNCOVERED)).first("escalation_offer")
    await api.call("POST", f"/orchestrator/queue/{offer['escalation_id']}/accept", key)
    metrics = await api.call("GET", f"/orchestrator/metrics/{world.agent_id}", world.creator_key)
    assert metrics["escalation_rate"] == 0.5 and metrics["escalations_offered"] == 1
    assert metrics["escalations_low_confidence"] == 1 and metrics["escalations_low_confidence_queued"] == 1
    assert metrics["answer_confidence"]["levels"]["HIGH"] == 1
    assert metrics["answer_confidence"]["actions"]["escalate"] == 1


async def test_modes_set_the_immediate_threshold_over_the_api(api: Api) -> None:
    world = await api.world()
    url = f"/orchestrator/config/{world.agent_id}"
    for mode, expected in (("lenient", 0.2), ("standard", 0.3), ("strict", 0.5)):
        config = await api.call("GET", url, world.creator_key)
        config["confidence_escalation"]["mode"] = mode
        updated = await api.call("PUT", url, world.creator_key, json=config)
        assert updated["confidence_escalation"]["effective_immediate_threshold"] == expected
        assert updated["confidence_escalation"]["immediate_threshold"] is None  # follows the mode
    bad = await api.call(
        "PUT",
        url,
        world.creator_key,
        json=config | {"confidence_escalation": {"immediate_threshold": 0.7, "review_threshold": 0.6}},
        expect=422,
    )
    assert "immediate_threshold" in bad["error"]["message"]


async def test_the_models_self_assessment_drives_the_action_per_mode(
    api: Api, openai_server, openai_stub: OpenAIStub
) -> None:  # noqa: ANN001
    """A held draft whose only support is the model's own score: each mode acts on its own threshold."""
    import httpx

    world = await api.world()
    async with httpx.AsyncClient(base_url=openai_server.url, timeout=60) as client:
        remote = Api(client, api.admin_key)
        key = world.users["paid"]
        openai_stub.answer = "Keep the bar over mid-foot.\n[[confidence: 1.0 | probe]]"
        try:
            probe = await remote.stream(await remote.conversation(world, "paid"), key, BARELY_TOUCHED)
            factors = {f["name"]: f["value"] for f in probe.first("message")["confidence"]["factors"]}
            base = 0.45 * factors["support"] + 0.25 * factors["retrieval"]

            async def act(mode: str, target: float) -> str:
                config = await remote.call("GET", f"/orchestrator/config/{world.agent_id}", world.creator_key)
                config["confidence_escalation"]["mode"] = mode
                await remote.call("PUT", f"/orchestrator/config/{world.agent_id}", world.creator_key, json=config)
                openai_stub.answer = f"Keep the bar over mid-foot.\n[[confidence: {(target - base) / 0.3:.4f} | x]]"
                turn = await remote.stream(await remote.conversation(world, "paid"), key, BARELY_TOUCHED)
                final = turn.events[-2][1]
                assert final["confidence"]["score"] == pytest.approx(target, abs=0.002)
                return final["confidence"]["action"]

            assert [await act(mode, 0.40) for mode in ("lenient", "standard", "strict")] == [
                "review",
                "review",
                "escalate",
            ]
            assert [await act(mode, 0.25) for mode in ("lenient", "standard", "strict")] == [
                "review",
                "escalate",
                "escalate",
            ]

            # Malformed self-assessment: the other factors decide, nothing errors, the trailer is never shown.
            openai_stub.answer = "Keep the bar over mid-foot.\n[[confidence: very high, trust me]]"
            turn = await remote.stream(await remote.conversation(world, "paid"), key, BARELY_TOUCHED)
            final = turn.events[-2][1]
            assert "error" not in turn.names
            assert "self_assessment" not in {f["name"] for f in final["confidence"]["factors"]}
            assert all("[[" not in data.get("text", "") + data.get("content", "") for _, data in turn.events)
        finally:
            openai_stub.answer = openai_stub.default_answer


def test_trailer_filter_and_parsing() -> None:
    streamed = TrailerFilter()
    pieces = ["Eat ", "protein.", "\n[", "[confid", "ence: 0.8 | covered]]"]
    shown = "".join(streamed.feed(p) for p in pieces) + streamed.flush()
    assert shown == "Eat protein.\n"
    assert parse_trailer("".join(pieces)) == ("Eat protein.", SelfAssessment(0.8, "covered"))
    assert parse_trailer("Eat protein. [[confidence: 7 | nope]]") == ("Eat protein.", None)
    assert parse_trailer("Plain answer [with brackets].") == ("Plain answer [with brackets].", None)
    assert parse_rating('Sure! {"score": 0.4, "reason": "thin"}') == SelfAssessment(0.4, "thin")
    assert parse_rating("score: high") is None and parse_rating('{"score": "abc"}') is None


async def test_second_call_self_assessment_against_the_stub(openai_stub: OpenAIStub) -> None:
    model = ChatOpenAI(model="stub", api_key="sk-test", base_url=openai_stub.base_url)  # type: ignore[arg-type]
    openai_stub.rating = '{"score": 0.35, "reason": "only partly covered"}'
    assert await rate_answer(model, "[1] text", "q?", "a.") == SelfAssessment(0.35, "only partly covered")
    openai_stub.rating = "I think it is pretty good!"
    assert await rate_answer(model, "[1] text", "q?", "a.") is None
    openai_stub.rating = '{"score": 0.9, "reason": "supported"}'


def test_analysis_factors_and_action_table() -> None:
    config = ConfidenceEscalation()
    hedged = analyse_answer(
        question="How much protein?",
        answer="It depends, I'm not sure, maybe 2 grams of protein.",
        passages=["Eat 2 grams of protein."],
        retrieval_confidence=0.9,
        self_assessment=None,
        config=config,
    )
    plain = analyse_answer(
        question="How much protein?",
        answer="Eat 2 grams of protein.",
        passages=["Eat 2 grams of protein."],
        retrieval_confidence=0.9,
        self_assessment=None,
        config=config,
    )
    assert hedged.score < plain.score and "uncertainty_markers" in {f["name"] for f in hedged.factors}
    assert high_stakes_matches("Should I sue my gym over the injury?", config) == ["medical", "legal"]
    assert high_stakes_matches("my deadlift form", ConfidenceEscalation(high_stakes_keywords=["deadlift"])) == [
        "custom"
    ]

    def act(score: float, **kw) -> str:  # noqa: ANN003
        options = {"held": True, "can_escalate": True, "never_auto": False} | kw
        return choose_action(Analysis(score, "", [], kw.pop("stakes", [])), config, **options)

    assert [act(s) for s in (0.9, 0.5, 0.2)] == ["answer", "review", "escalate"]
    assert act(0.2, held=False) == "review"  # already streamed: cannot be held back
    assert act(0.2, can_escalate=False) == "disclaimer" and act(0.5, can_escalate=False) == "disclaimer"
    assert act(0.9, never_auto=True) == "escalate" and act(0.9, never_auto=True, can_escalate=False) == "refuse"
    assert (
        choose_action(Analysis(0.5, "", [], ["medical"]), config, held=True, can_escalate=True, never_auto=False)
        == "escalate"
    )


async def test_global_switch_turns_the_analysis_off(api: Api, server_env: dict, data_dir) -> None:  # noqa: ANN001
    import httpx

    from tests.utils.servers import ServerProcess

    world = await api.world()
    process = ServerProcess(server_env | {"ENABLE_CONFIDENCE_ESCALATION": "false"}, data_dir / "no-confidence.log")
    process.start()
    try:
        async with httpx.AsyncClient(base_url=process.url, timeout=60) as client:
            remote = Api(client, api.admin_key)
            conversation, key = await remote.conversation(world, "paid"), world.users["paid"]
            covered = await remote.stream(conversation, key, KNOWN_QUESTION)
            barely = await remote.stream(conversation, key, BARELY_TOUCHED)
    finally:
        process.stop()
    assert covered.decision["path"] == "A" and "confidence" not in covered.first("message")
    # Without the analysis, a low-confidence question goes to the creator before any answer is drafted.
    assert (barely.decision["path"], barely.decision["reason"]) == ("D", "low_confidence")
    assert "confidence" not in barely.first("escalation_offer")
