"""A user's verdict on an answer: did it answer the question? Answers learn from it both ways.

"Yes" on a creator's answer adds the question as one of its variants (deduplicated), so its paraphrases are
served more generously; "no" records a negative pair, so that answer is never served for that question again, and
the question goes back through the graph with `not_answered`, which offers the creator (or says clearly why not).
"""

from __future__ import annotations

import uuid

from graphs.runner import TurnEvent, TurnRunner

FEEDBACK_PATHS = ("A", "C")
_NAMESPACE = uuid.UUID("2f6b1c4e-8a57-4bb1-9a43-6d1f0e1b7c55")


class FeedbackRejected(Exception):
    """Feedback that cannot apply: not an answer, or a different verdict was already given."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


async def give_feedback(
    runner: TurnRunner, conversation: dict, user_id: uuid.UUID, message: dict, answered: bool
) -> tuple[dict, list[TurnEvent]]:
    """Store the verdict once, learn from it, and on "no" run the question again towards the creator."""
    ctx = runner.context
    if message["role"] != "agent" or message["path"] not in FEEDBACK_PATHS or message["reply_to"] is None:
        raise FeedbackRejected("not_an_answer", "feedback applies to answers (paths A and C) only")
    question = await ctx.conversations.message_for_delivery(message["reply_to"])
    if question is None or question["conversation_id"] != conversation["id"]:
        raise FeedbackRejected("not_an_answer", "the question this answer replied to is gone")
    answer_id = message["metadata"].get("canonical_answer_id")
    canonical = uuid.UUID(answer_id) if answer_id and message["path"] == "C" else None
    stored, fresh = await ctx.variants.record_feedback(message["id"], user_id, answered, canonical)
    if stored["answered"] != answered:
        raise FeedbackRejected("already_given", "this answer already has the other verdict")
    # Learning and the second run are idempotent, so a repeated call (or one after a crash half-way) completes
    # what the first started instead of doing it twice.
    result = {"message_id": str(message["id"]), "answered": answered, "learned": None, "duplicate": not fresh}
    if canonical is not None:
        embedding = await ctx.embedder.embed_one(question["content"])
        if answered:
            added = await ctx.variants.add(
                canonical, question["content"], embedding, "feedback", message_id=question["id"]
            )
            result["learned"] = "variant" if added else "already_known"
        else:
            await ctx.variants.add_negative(canonical, question["content"], embedding, message_id=question["id"])
            result["learned"] = "negative"
    again = uuid.uuid5(_NAMESPACE, str(message["id"]))
    if answered or await runner.thread_exists(again):
        return result, []
    _, events = await runner.start(
        conversation,
        user_id,
        question["content"],
        message_id=again,
        not_answered=True,
        metadata={"asked_again": str(question["id"]), "reason": "not_answered"},
    )
    return result, await runner.collect(events)
