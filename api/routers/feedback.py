"""Feedback on answers: `POST /messaging/conversations/{id}/messages/{message_id}/feedback` {answered}."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import ConversationDep, ServicesDep, UserDep
from api.errors import ApiError, not_found
from api.routers.orchestrator import turn_result
from graphs.feedback import FeedbackRejected, give_feedback

router = APIRouter(prefix="/messaging/conversations", tags=["messaging"])


class FeedbackIn(BaseModel):
    answered: bool


@router.post("/{conversation_id}/messages/{message_id}/feedback")
async def answer_feedback(
    message_id: uuid.UUID, body: FeedbackIn, conversation: ConversationDep, user: UserDep, services: ServicesDep
) -> dict:
    """Did this answer answer your question? "yes" teaches the answer the question; "no" never serves it for this
    question again and offers the creator: `{feedback, decision?, message?, escalation?}`."""
    message = await services.context.conversations.message_for_delivery(message_id)
    if message is None or message["conversation_id"] != conversation["id"]:
        raise not_found("message")
    try:
        feedback, events = await give_feedback(services.runner, conversation, user.id, message, body.answered)  # type: ignore[arg-type]
    except FeedbackRejected as exc:
        raise ApiError(409 if exc.code == "already_given" else 422, exc.code, str(exc)) from exc
    return {"feedback": feedback} | (turn_result(events) if events else {})
