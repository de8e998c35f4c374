"""Conversations: create, read, stream a turn, and follow live events."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header
from pydantic import BaseModel
from sse_starlette import EventSourceResponse

from api.deps import ConversationDep, PrincipalDep, ServicesDep, UserDep
from api.errors import not_found
from api.schemas import Text, message_json
from api.sse import live_response, sse_response, take_stream_slot, turn_stream
from api.turns import IDEMPOTENCY_KEY_DOC, begin_turn
from stores.events import conversation_stream

router = APIRouter(prefix="/messaging/conversations", tags=["messaging"])

Channel = Literal["web", "api", "telegram", "whatsapp", "messenger", "instagram"]


class ConversationIn(BaseModel):
    agent_id: uuid.UUID
    channel: Channel = "web"


class TurnIn(BaseModel):
    content: Text


def conversation_json(row: dict) -> dict:
    return {
        "id": str(row["id"]),
        "agent_id": str(row["agent_id"]),
        "user_id": str(row["user_id"]),
        "channel": row["channel"],
        "status": row["status"],
        "contact_name": row["external_contact_name"],
        "message_count": row["message_count"],
        "last_message_preview": row["last_message_preview"],
        "summary": row["summary"],
        "topics": row["topics"],
        "created_at": row["created_at"].isoformat(),
        "last_message_at": row["last_message_at"].isoformat() if row["last_message_at"] else None,
    }


@router.post("", status_code=201)
async def create_conversation(body: ConversationIn, user: UserDep, services: ServicesDep) -> dict:
    """Open a conversation with an agent."""
    agent = await services.context.agents.get(body.agent_id)
    if agent is None:
        raise not_found("agent")
    row = await services.context.conversations.create(agent["id"], user.id, body.channel)  # type: ignore[arg-type]
    return conversation_json(row) | {"agent_handle": agent["handle"], "agent_name": agent["name"]}


@router.get("")
async def list_conversations(user: UserDep, services: ServicesDep) -> list[dict]:
    """The caller's conversations, most recent first."""
    return [conversation_json(row) for row in await services.context.conversations.list_for_user(user.id)]  # type: ignore[arg-type]


@router.get("/{conversation_id}/messages")
async def list_messages(conversation_id: uuid.UUID, principal: PrincipalDep, services: ServicesDep) -> list[dict]:
    """The stored messages, oldest first: for the conversation's user, or the agent's creator."""
    conversation = await services.context.conversations.get(conversation_id)
    allowed = conversation is not None and (
        (principal.role == "user" and conversation["user_id"] == principal.id)
        or (principal.role == "creator" and conversation["creator_id"] == principal.id)
    )
    if not allowed:
        raise not_found("conversation")
    return [message_json(row) for row in await services.context.conversations.messages(conversation_id)]


@router.post("/{conversation_id}/stream", response_class=EventSourceResponse)
async def stream_turn(
    body: TurnIn,
    conversation: ConversationDep,
    user: UserDep,
    services: ServicesDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", description=IDEMPOTENCY_KEY_DOC)] = None,
) -> EventSourceResponse:
    """Send a message and stream the turn: decision, tokens, message or escalation_offer, done."""
    slot = await take_stream_slot(services, user)
    try:
        message, events = await begin_turn(services, conversation, user, body.content, idempotency_key)
    except BaseException:
        await slot.release()
        raise
    return sse_response(services, turn_stream(str(message["id"]), events), slot)


@router.get("/{conversation_id}/events", response_class=EventSourceResponse)
async def follow_events(
    conversation: ConversationDep,
    principal: PrincipalDep,
    services: ServicesDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> EventSourceResponse:
    """Live events of the conversation (creator answers, queue updates); resumes after Last-Event-ID."""
    return await live_response(services, principal, conversation_stream(conversation["id"]), last_event_id)
