"""Precise reuse over HTTP: answers gather variants, feedback teaches them both ways, creators link and review."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from llm.answer_classifier import AnswerClassifier, AnswerModels, Example, TrainingData
from nodes.verify import Candidate, verify
from tests.utils.api import Api

ANSWER = "Log out, tap 'Forgot password' on the sign-in page and follow the link we email you within a minute."
QUESTION = "How do I reset my password?"


def answers_path(world) -> str:  # noqa: ANN001 - tests.utils.api.World
    return f"/agents/{world.agent_id}/canonical-answers"


async def test_creator_adds_reviews_and_removes_variants(api: Api) -> None:
    world = await api.world(canonical=[(QUESTION, ANSWER, "public")])
    answer = (await api.call("GET", answers_path(world), world.creator_key))[0]
    variants_path = f"{answers_path(world)}/{answer['id']}/variants"

    added = await api.call(
        "POST", variants_path, world.creator_key, expect=201, json={"question": "I forgot my login, what now?"}
    )
    assert added["source"] == "creator"
    duplicate = await api.call(
        "POST", variants_path, world.creator_key, expect=409, json={"question": "  i forgot my LOGIN, what now "}
    )
    assert duplicate["error"]["code"] == "duplicate"
    listed = await api.call("GET", variants_path, world.creator_key)
    assert [(v["question"], v["source"]) for v in listed["variants"]] == [
        (QUESTION, "original"),
        ("I forgot my login, what now?", "creator"),
    ]
    assert (await api.call("GET", answers_path(world), world.creator_key))[0]["variants"] == 2

    # The learned phrasing is served: a paraphrase of the variant, far from the original question.
    conversation = await api.conversation(world, "free")
    served = await api.ask(conversation, world.users["free"], "I forgot my login, what do I do now?")
    assert served["decision"]["path"] == "C" and served["message"]["content"] == ANSWER

    original = listed["variants"][0]["id"]
    kept = await api.call("DELETE", f"{variants_path}/{original}", world.creator_key, expect=409)
    assert kept["error"]["code"] == "original_question"
    await api.call("DELETE", f"{variants_path}/{added['id']}", world.creator_key, expect=204)
    assert len((await api.call("GET", variants_path, world.creator_key))["variants"]) == 1
    again = await api.ask(conversation, world.users["free"], "I forgot my login, what do I do now?")
    assert again["decision"]["path"] != "C"  # the removed phrasing no longer nominates the answer

    # Another creator, and a user, see nothing of it.
    stranger = await api.world()
    await api.call("GET", variants_path, stranger.creator_key, expect=404)
    await api.call("POST", variants_path, world.users["paid"], expect=403, json={"question": "x y z"})


async def test_yes_teaches_the_answer_and_no_stops_it_and_offers_the_creator(api: Api) -> None:
    world = await api.world(canonical=[(QUESTION, ANSWER, "public")])
    conversation = await api.conversation(world, "paid")
    user = world.users["paid"]
    feedback_path = f"/messaging/conversations/{conversation}/messages"

    served = await api.ask(conversation, user, "How can I reset my password?")
    assert served["decision"]["path"] == "C"
    yes = await api.call("POST", f"{feedback_path}/{served['message']['id']}/feedback", user, json={"answered": True})
    assert yes["feedback"] == {
        "message_id": served["message"]["id"],
        "answered": True,
        "learned": "variant",
        "duplicate": False,
    }
    repeated = await api.call(
        "POST", f"{feedback_path}/{served['message']['id']}/feedback", user, json={"answered": True}
    )
    assert repeated["feedback"]["duplicate"] is True and repeated["feedback"]["learned"] == "already_known"
    flipped = await api.call(
        "POST", f"{feedback_path}/{served['message']['id']}/feedback", user, expect=409, json={"answered": False}
    )
    assert flipped["error"]["code"] == "already_given"
    answer_id = served["message"]["canonical_answer_id"]
    variants = await api.call("GET", f"{answers_path(world)}/{answer_id}/variants", world.creator_key)
    assert ("How can I reset my password?", "feedback") in [(v["question"], v["source"]) for v in variants["variants"]]

    # "No": a negative pair, the creator is offered, and the answer is never served for that question again.
    asked = "How do I reset my password quickly?"
    missed = await api.ask(conversation, user, asked)
    assert missed["decision"]["path"] == "C"
    no = await api.call("POST", f"{feedback_path}/{missed['message']['id']}/feedback", user, json={"answered": False})
    assert no["feedback"]["learned"] == "negative"
    assert no["decision"]["path"] == "D" and no["decision"]["reason"] == "not_answered"
    assert no["escalation"]["escalation_id"]
    variants = await api.call("GET", f"{answers_path(world)}/{answer_id}/variants", world.creator_key)
    assert [n["question"] for n in variants["negatives"]] == [asked]
    again = await api.ask(conversation, user, asked)
    assert again["decision"]["path"] != "C"
    repeated_no = await api.call(
        "POST", f"{feedback_path}/{missed['message']['id']}/feedback", user, json={"answered": False}
    )
    assert repeated_no["feedback"]["duplicate"] is True and "decision" not in repeated_no  # no second offer
    queue_offers = await api.call("GET", "/orchestrator/queue?status=offered", world.creator_key)
    assert len([e for e in queue_offers if e["question"] == asked]) == 2  # the "no" offer and the re-asked one

    # Only answers take feedback, and only the conversation's user gives it.
    messages = await api.messages(conversation, user)
    question_id = next(m["id"] for m in messages if m["role"] == "user")
    rejected = await api.call(
        "POST", f"{feedback_path}/{question_id}/feedback", user, expect=422, json={"answered": True}
    )
    assert rejected["error"]["code"] == "not_an_answer"
    other = await api.conversation(world, "free")
    await api.call(
        "POST",
        f"/messaging/conversations/{other}/messages/{served['message']['id']}/feedback",
        world.users["free"],
        expect=404,
        json={"answered": True},
    )
    await api.call(
        "POST",
        f"{feedback_path}/{served['message']['id']}/feedback",
        world.users["free"],
        expect=404,
        json={"answered": True},
    )


async def test_ai_answer_no_offers_the_creator(api: Api) -> None:
    world = await api.world()
    conversation = await api.conversation(world, "follower")
    user = world.users["follower"]
    answered = await api.ask(conversation, user, "How much protein should I eat per day?")
    assert answered["decision"]["path"] == "A"
    no = await api.call(
        "POST",
        f"/messaging/conversations/{conversation}/messages/{answered['message']['id']}/feedback",
        user,
        json={"answered": False},
    )
    assert no["feedback"]["learned"] is None
    assert no["decision"]["path"] == "D" and no["escalation"]["escalation_id"]
    stored = await api.messages(conversation, user)
    assert stored[-2]["role"] == "user" and stored[-2]["metadata"]["reason"] == "not_answered"


async def test_creator_links_an_escalation_to_an_existing_answer(api: Api) -> None:
    world = await api.world(
        canonical=[(QUESTION, ANSWER, "public"), ("What do paid members get?", "Weekly live Q&A.", "intimate")]
    )
    conversation = await api.conversation(world, "follower")
    user = world.users["follower"]
    asked = "My account is locked after too many attempts, how do I get back in?"
    offer = (await api.ask(conversation, user, asked))["escalation"]
    await api.call("POST", f"/orchestrator/queue/{offer['escalation_id']}/accept", user)
    queue_path = f"/orchestrator/queue/{offer['escalation_id']}"

    suggestions = await api.call("GET", f"{queue_path}/suggestions", world.creator_key)
    assert suggestions and suggestions[0]["answer"] == ANSWER
    assert all(s["layer"] != "intimate" for s in suggestions)  # the follower may not see it: never suggested
    await api.call("GET", f"{queue_path}/suggestions", (await api.world()).creator_key, expect=404)

    listed = await api.call("GET", answers_path(world), world.creator_key)
    by_question = {a["question"]: a["id"] for a in listed}
    hidden = await api.call(
        "POST",
        f"{queue_path}/answer",
        world.creator_key,
        expect=422,
        json={"link_to": by_question["What do paid members get?"]},
    )
    assert "hidden" in hidden["error"]["message"]
    both = await api.call(
        "POST",
        f"{queue_path}/answer",
        world.creator_key,
        expect=422,
        json={"link_to": by_question[QUESTION], "answer": "words"},
    )
    assert both["error"]["code"] == "validation_error"
    foreign = await api.world(canonical=[(QUESTION, "someone else's", "public")])
    foreign_id = (await api.call("GET", answers_path(foreign), foreign.creator_key))[0]["id"]
    await api.call("POST", f"{queue_path}/answer", world.creator_key, expect=404, json={"link_to": foreign_id})

    linked = await api.call("POST", f"{queue_path}/answer", world.creator_key, json={"link_to": by_question[QUESTION]})
    assert linked["escalation"]["status"] == "answered"
    assert linked["message"]["content"] == ANSWER and linked["message"]["canonical_answer_id"] == by_question[QUESTION]
    variants = await api.call("GET", f"{answers_path(world)}/{by_question[QUESTION]}/variants", world.creator_key)
    assert (asked, "linked") in [(v["question"], v["source"]) for v in variants["variants"]]
    assert len(await api.call("GET", answers_path(world), world.creator_key)) == 2  # no new answer was written

    # The linked phrasing now serves the next user who asks it that way.
    other = await api.conversation(world, "free")
    served = await api.ask(
        other, world.users["free"], "My account is locked after too many attempts. How do I get back in?"
    )
    assert served["decision"]["path"] == "C" and served["message"]["content"] == ANSWER


async def test_a_stale_answer_model_serves_answers_it_knows_and_waits_for_changed_ones(monkeypatch) -> None:  # noqa: ANN001
    """A creator answering escalation after escalation must not hold up turns about the other answers, nor keep the
    workers refitting."""
    import llm.answer_classifier

    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(12, 16)).astype(np.float32)
    data = TrainingData([f"a{i % 6}" for i in range(12)], vectors, [], np.empty((0, 16), dtype=np.float32))
    loads: list[int] = []
    release = asyncio.Event()

    async def load(agent_id: object) -> TrainingData:
        loads.append(len(loads))
        if len(loads) == 2:  # the first retrain waits until the test lets it go
            await release.wait()
        return data

    monkeypatch.setattr(llm.answer_classifier, "BACKGROUND_DUTY", 1.0)  # no rest between retrains, for now
    models = AnswerModels(load)
    first = await models.get("agent", 1)  # no model yet: the turn waits for it
    assert first.version == 1

    # Version 2 changed answers the turn does not ask about: the version 1 model serves at once.
    served = await asyncio.wait_for(models.get("agent", 2, changed=1), 1)
    assert served is first and len(loads) == 2  # ...while its successor trains

    # An asked-about answer changed at version 2: the turn waits for the retrain, and gets it.
    waiting = asyncio.create_task(models.get("agent", 2, changed=2))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    release.set()
    assert (await waiting).version == 2 and len(loads) == 2

    # After a retrain, background retrains rest (here: for ages); a turn that needs the new model still gets it.
    monkeypatch.setattr(llm.answer_classifier, "BACKGROUND_DUTY", 1e-9)
    assert (await models.get("agent", 3, changed=3)).version == 3 and len(loads) == 3
    assert (await models.get("agent", 4, changed=1)).version == 3 and len(loads) == 3
    assert (await models.get("agent", 4, changed=4)).version == 4 and len(loads) == 4


def test_verification_vetoes() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(12, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    classifier = AnswerClassifier([Example(f"a{i % 6}", v) for i, v in enumerate(vectors)])
    question = vectors[0]
    candidate = Candidate("a0", "Is the 5k plan good for beginners?", 0.95, 2)
    assert verify("Is the 10k plan good for beginners?", question, candidate, classifier, [], 0.85).reason == (
        "number_mismatch"
    )
    rejected = verify("Is the 5k plan fine for beginners?", question, candidate, classifier, [question], 0.85)
    assert (rejected.serve, rejected.reason) == (False, "rejected_before")
    wrong_answer = Candidate("a1", "Is the 5k plan good for beginners?", 0.95, 2)
    assert verify("Is the 5k plan fine for beginners?", question, wrong_answer, classifier, [], 0.85).reason == (
        "not_first"
    )
    assert verify("Is the 5k plan fine for beginners?", question, candidate, classifier, [], 0.85).serve


def test_an_answers_own_phrasing_is_served_however_many_answers_share_the_probability() -> None:
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(400, 24)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    classifier = AnswerClassifier([Example(f"a{i}", v) for i, v in enumerate(vectors)])
    probability, first = classifier.probability(vectors[0], "a0")
    assert first and probability < 0.30  # 400 one-phrasing answers: even a stored phrasing is "unsure"
    stored = Candidate("a0", "Can I pause my membership?", 0.99, 1)
    verdict = verify("can i pause my membership", vectors[0], stored, classifier, [], 0.85)
    assert (verdict.serve, verdict.reason) == (True, "exact_phrasing")
    assert verify("Could I pause my membership?", vectors[0], stored, classifier, [], 0.85).reason == "unverified"
    assert verify("can i pause my membership", vectors[0], stored, classifier, [vectors[0]], 0.85).reason == (
        "rejected_before"
    )


def test_eval_reuse_command_writes_tables_plots_and_the_feedback_curve(tmp_path: Path) -> None:
    out = tmp_path / "reuse"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "eval",
            "reuse",
            "--dataset",
            "clinc150",
            "--known",
            "6",
            "--unknown",
            "6",
            "--oos",
            "40",
            "--k",
            "1,3",
            "--days",
            "2",
            "--questions-per-day",
            "40",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "ORCH_DATA_DIR": str(tmp_path)},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "| k | threshold |" in run.stdout and "feedback simulation" in run.stdout
    report = json.loads((out / "report.json").read_text())
    methods = {(r["k"], r["method"]) for r in report["rows"]}
    assert methods == {(1, "cosine"), (1, "verified"), (3, "cosine"), (3, "verified")}
    assert all(0 <= r["precision"] <= 1 and 0 <= r["recall"] <= 1 for r in report["rows"])
    assert all(r["wrong"] == 0 for r in report["near_miss"] if r["method"] == "verified")
    assert any(r["wrong"] > 0 for r in report["near_miss"] if r["method"] == "cosine")  # the traps are real
    assert [d["day"] for d in report["feedback"]["by_day"]] == [0, 1, 2]
    assert (out / "reuse.png").stat().st_size > 10_000 and (out / "feedback.png").stat().st_size > 10_000
