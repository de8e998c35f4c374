"""The orchestrator's own routes: a non-streaming turn, the escalation queue and the metrics."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, Field, model_validator
from sse_starlette import EventSourceResponse

from api.deps import CreatorDep, OwnedAgentDep, ServicesDep, UserDep, participant_conversation
from api.errors import ApiError, not_found, turn_error
from api.schemas import AnswerText, LayerField, StorableText, Text, escalation_json
from api.services import Services
from api.sse import live_response
from api.turns import IDEMPOTENCY_KEY_DOC, begin_turn
from graphs import gates
from graphs.config import LAYER_TIERS, AgentConfig, layers_for_tier
from graphs.gates import GateConflict
from graphs.runner import TurnEvent
from stores.accounts import Principal
from stores.events import inbox_stream
from stores.metrics import MetricsStore

router = APIRouter(prefix="/orchestrator", tags=["orchestrator"])

SUGGESTION_FLOOR = 0.5  # below this, an answer is too far off to be worth showing the creator
StatusFilter = Literal["offered", "dismissed", "accepted", "pending", "answered", "declined", "refused", "all"]


class MessageIn(BaseModel):
    conversation_id: uuid.UUID
    message: Text


class AnswerIn(BaseModel):
    """A new answer in the creator's words, or `link_to` an existing answer that already says it."""

    answer: AnswerText | None = None
    layer: LayerField = "public"
    link_to: uuid.UUID | None = None

    @model_validator(mode="after")
    def _one_of(self) -> AnswerIn:
        if (self.answer is None) == (self.link_to is None):
            raise ValueError("give either answer (new words) or link_to (an existing answer's id)")
        return self


class DeclineIn(BaseModel):
    reason: StorableText | None = Field(None, max_length=1000)


def turn_result(events: list[TurnEvent]) -> dict:
    """The JSON form of a turn's events: {decision, message, escalation?}."""
    result: dict = {"decision": None, "message": None}
    for event in events:
        if event.event == "decision":
            result["decision"] = event.data
        elif event.event == "message":
            result["message"] = event.data
        elif event.event == "escalation_offer":
            result["escalation"] = event.data
            result["message"] = {
                "id": event.data["message_id"],
                "role": "agent",
                "content": event.data["content"],
                "path": "D",
                "escalation_id": event.data["escalation_id"],
            }
    return result


@router.post("/message")
async def send_message(
    body: MessageIn,
    user: UserDep,
    services: ServicesDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", description=IDEMPOTENCY_KEY_DOC)] = None,
) -> dict:
    """Run one turn without streaming."""
    conversation = await participant_conversation(body.conversation_id, user, services)
    _, events = await begin_turn(services, conversation, user, body.message, idempotency_key)
    try:
        collected = await services.runner.collect(events)
    except Exception as exc:
        raise turn_error(exc) from exc
    return turn_result(collected)


async def _users_escalation(escalation_id: uuid.UUID, user: Principal, services: Services) -> dict:
    escalation = await services.context.escalations.get(escalation_id)
    if escalation is None or escalation["user_id"] != user.id:
        raise not_found("escalation")
    return escalation


async def _creators_escalation(escalation_id: uuid.UUID, creator: Principal, services: Services) -> dict:
    escalation = await services.context.escalations.get(escalation_id)
    if escalation is None or escalation["creator_id"] != creator.id:
        raise not_found("escalation")
    return escalation


async def _decide(services: Services, escalation: dict, decision: Awaitable[list[TurnEvent]]) -> dict:
    """Store the human decision and resume the thread; answer with the escalation as it now stands."""
    try:
        events = await decision
    except GateConflict as exc:
        raise ApiError(409, "conflict", str(exc)) from exc
    except Exception as exc:
        # The decision is stored; the recovery sweep will finish acting on it.
        raise ApiError(502, "resume_failed", "saved, but not yet delivered; it will be retried") from exc
    updated = await services.context.escalations.get(escalation["id"])
    result = turn_result(events)
    return {"escalation": escalation_json(updated), "decision": result["decision"], "message": result["message"]}


@router.post("/queue/{escalation_id}/accept")
async def accept_offer(escalation_id: uuid.UUID, user: UserDep, services: ServicesDep) -> dict:
    """Path E: send the offered question to the creator's queue (if the quota allows)."""
    escalation = await _users_escalation(escalation_id, user, services)
    return await _decide(services, escalation, gates.accept_offer(services.runner, escalation))


@router.post("/queue/{escalation_id}/dismiss")
async def dismiss_offer(escalation_id: uuid.UUID, user: UserDep, services: ServicesDep) -> dict:
    """Drop the offer: the question is not sent."""
    escalation = await _users_escalation(escalation_id, user, services)
    return await _decide(services, escalation, gates.dismiss_offer(services.runner, escalation))


@router.get("/queue")
async def list_queue(
    creator: CreatorDep, services: ServicesDep, status: Annotated[StatusFilter, Query()] = "pending"
) -> list[dict]:
    """Escalations of the caller's agents, newest first."""
    rows = await services.context.escalations.list_for_creator(creator.id, None if status == "all" else status)  # type: ignore[arg-type]
    return [escalation_json(row) for row in rows]


@router.get("/queue/events", response_class=EventSourceResponse)
async def follow_queue(
    creator: CreatorDep,
    services: ServicesDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> EventSourceResponse:
    """Live events of the caller's inbox (a question was queued); resumes after Last-Event-ID."""
    return await live_response(services, creator, inbox_stream(creator.id), last_event_id)  # type: ignore[arg-type]


@router.post("/queue/{escalation_id}/answer")
async def answer_escalation(
    escalation_id: uuid.UUID, body: AnswerIn, creator: CreatorDep, services: ServicesDep
) -> dict:
    """Answer: the graph resumes, stores a canonical answer (or teaches the linked one this question) and delivers
    it to the user."""
    escalation = await _creators_escalation(escalation_id, creator, services)
    if body.link_to is not None:
        linked = await services.context.canonical.get(body.link_to)
        if linked is None or linked["agent_id"] != escalation["agent_id"]:
            raise not_found("canonical answer")
        _check_layer(linked["layer"], escalation)
        return await _decide(services, escalation, gates.link_escalation(services.runner, escalation, linked))
    _check_layer(body.layer, escalation)
    return await _decide(
        services,
        escalation,
        gates.answer_escalation(services.runner, escalation, body.answer, body.layer),  # type: ignore[arg-type]
    )


@router.get("/queue/{escalation_id}/suggestions")
async def suggest_answers(escalation_id: uuid.UUID, creator: CreatorDep, services: ServicesDep) -> list[dict]:
    """Existing answers that may already answer this question (nearest phrasing first), only those whose layer the
    asking user may see: the inbox offers to link one instead of writing the answer again."""
    escalation = await _creators_escalation(escalation_id, creator, services)
    ctx = services.context
    embedding = await ctx.embedder.embed_one(escalation["question"])
    hits = await ctx.canonical.search(escalation["agent_id"], embedding, layers_for_tier(escalation["user_tier"]))
    return [
        {
            "answer_id": str(hit.id),
            "matched_question": hit.question,
            "answer": hit.answer,
            "layer": hit.layer,
            "similarity": round(hit.similarity, 4),
        }
        for hit in hits
        if hit.similarity >= SUGGESTION_FLOOR
    ]


def _check_layer(layer: str, escalation: dict) -> None:
    if escalation["user_tier"] not in LAYER_TIERS[layer]:
        raise ApiError(
            422,
            "validation_error",
            f"layer: a {layer} answer would be hidden from the {escalation['user_tier']} member who asked",
        )


@router.post("/queue/{escalation_id}/decline")
async def decline_escalation(
    escalation_id: uuid.UUID, creator: CreatorDep, services: ServicesDep, body: DeclineIn | None = None
) -> dict:
    """Decline: the graph resumes and tells the user politely."""
    escalation = await _creators_escalation(escalation_id, creator, services)
    reason = (body.reason if body else None) or None
    return await _decide(services, escalation, gates.decline_escalation(services.runner, escalation, reason))


@router.get("/metrics/{agent_id}")
async def agent_metrics(
    agent: OwnedAgentDep, services: ServicesDep, days: Annotated[int, Query(ge=1, le=365)] = 7
) -> dict:
    """Paths, auto-answer rate, escalations against quota, reuse and per-channel counts over the last `days` days."""
    config = AgentConfig.model_validate(agent["config"])
    metrics = await MetricsStore(services.pool).for_agent(agent["id"], days, config.timezone)
    return (
        {"agent_id": str(agent["id"])}
        | metrics
        | {"quota": {"per_day": config.max_escalations_per_day, "per_week": config.max_escalations_per_week}}
        | {"channels": await services.channels.counts(agent["id"], days)}
    )
