"""Storing and announcing the agent's messages, idempotently per thread."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from langgraph.runtime import Runtime

from graphs.context import Context
from graphs.state import State
from stores.events import conversation_stream

SIGNAL_KEYS = ("similarity", "novelty", "complexity", "confidence")
_NAMESPACE = uuid.UUID("6f1c1c57-6d52-4c1e-9a87-2f0f5d0e4a11")


def step_id(state: State, step: str) -> uuid.UUID:
    """A stable id for what one step of this thread writes: a re-run step writes the same row again."""
    return uuid.uuid5(_NAMESPACE, f"{state['message_id']}:{step}")


def message_event(message: dict[str, Any]) -> dict[str, Any]:
    """The `message` event body of a stored agent message."""
    body = {"id": str(message["id"]), "role": "agent", "content": message["content"], "path": message["path"]}
    body.update({k: v for k, v in message["metadata"].items() if v is not None})
    return body


async def send_reply(
    state: State,
    runtime: Runtime[Context],
    *,
    step: str,
    content: str,
    path: str,
    metadata: dict[str, Any] | None = None,
    event: str = "message",
    event_data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Store the agent's message, then stream it; in a resumed run also publish it to the live stream.

    In a messaging contact's conversation the message is stored as pending delivery and a delivery job is queued:
    a channel worker sends it (again after a crash, never twice).
    """
    ctx = runtime.context
    deliver = bool(state.get("deliver")) and ctx.channel_queue is not None
    stored = await ctx.conversations.add_message(
        uuid.UUID(state["conversation_id"]),
        "agent",
        content,
        message_id=step_id(state, step),
        path=path,
        reply_to=uuid.UUID(state["message_id"]),
        metadata=metadata,
        sender_type="creator" if (metadata or {}).get("from_creator") else "agent",
        delivery_status="pending" if deliver else None,
        rag_context=rag_context(state),
    )
    if deliver:
        await ctx.channel_queue.enqueue_delivery(str(stored["id"]))  # type: ignore[union-attr]
    data = event_data if event_data is not None else message_event(stored)
    runtime.stream_writer({"event": event, "data": data})
    if state.get("phase", "turn") != "turn":
        await ctx.events.publish(conversation_stream(state["conversation_id"]), event, data)
    return {"id": str(stored["id"]), "content": content, "path": path, **(metadata or {})}


def rag_context(state: State) -> dict[str, Any]:
    """The retrieval a reply stood on: knowledge sources and the canonical answer, with their similarity."""
    context: dict[str, Any] = {
        "sources": [{"title": k["title"], "similarity": k["similarity"]} for k in state.get("knowledge", [])]
    }
    if match := state.get("canonical_match"):
        context["canonical"] = {"id": match["id"], "similarity": round(match["similarity"], 4)}
    return context


def decision_event(message_id: str, path: str, reason: str, signals: Mapping[str, Any]) -> dict[str, Any]:
    """The `decision` event body: path, reason and the four signals."""
    return {
        "message_id": message_id,
        "path": path,
        "reason": reason,
        "signals": {key: signals[key] for key in SIGNAL_KEYS},
    }


def offer_event(offer: Mapping[str, Any], message_id: uuid.UUID | str, content: str) -> dict[str, Any]:
    """The `escalation_offer` event body: the offer stored with the message, the message's id and text."""
    return {**offer, "message_id": str(message_id), "content": content}


def announce_decision(state: State, runtime: Runtime[Context], path: str, reason: str) -> None:
    """Stream the `decision` event."""
    runtime.stream_writer(
        {"event": "decision", "data": decision_event(state["message_id"], path, reason, state["signals"])}
    )
