"""Paths D and E: offer to ask the creator, queue the question, deliver the creator's answer or decline.

Each human gate is its own node that does nothing but `interrupt()`, because a resumed node runs again from
its start. Everything written after a gate is keyed by the thread (step ids, compare-and-set statuses), so a
step that runs twice after a crash writes once.
"""

from __future__ import annotations

import time
import uuid

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from graphs.config import AgentConfig
from graphs.context import Context
from graphs.state import State
from nodes.reply import announce_decision, offer_event, send_reply, step_id
from stores.events import inbox_stream


def context_summary(state: State) -> str:
    """What the creator needs next to the question: who asks and the last few turns."""
    lines = [f"{state['user_tier'].capitalize()} member asked: {state['text']}"]
    for message in state.get("history", [])[-4:]:
        speaker = "User" if message["role"] == "user" else "Agent"
        lines.append(f"{speaker}: {message['content'][:200]}")
    return "\n".join(lines)


async def open_offer(state: State, runtime: Runtime[Context], reason: str) -> tuple[uuid.UUID, int]:
    """Record an escalation offer (with the AI's draft and its confidence, if any) and the hand-off request."""
    ctx = runtime.context
    config = AgentConfig.model_validate(state["agent"]["config"])
    escalation_id = step_id(state, "escalation")
    await ctx.escalations.create_offer(
        escalation_id=escalation_id,
        agent_id=uuid.UUID(state["agent_id"]),
        conversation_id=uuid.UUID(state["conversation_id"]),
        user_id=uuid.UUID(state["user_id"]),
        message_id=uuid.UUID(state["message_id"]),
        question=state["text"],
        reason=reason,
        context_summary=context_summary(state),
        signals=state["signals"],
        user_tier=state["user_tier"],
        ai_draft=state.get("draft"),
        ai_confidence=state.get("analysis"),
    )
    await ctx.event_log.record(
        "human_handoff.requested",
        agent_id=uuid.UUID(state["agent_id"]),
        conversation_id=uuid.UUID(state["conversation_id"]),
        message_id=uuid.UUID(state["message_id"]),
        escalation_id=escalation_id,
        payload={"reason": reason, "confidence": (state.get("analysis") or {}).get("score")},
    )
    return escalation_id, config.expected_response_hours


async def offer_escalation(state: State, runtime: Runtime[Context]) -> dict:
    """Record the offer and ask the user whether to send the question to the creator."""
    escalation_id, hours = await open_offer(state, runtime, state["reason"])
    content = (
        f"This is new to me and I'd rather not guess. Shall I send it to {state['agent']['creator_name']}? "
        f"Expected reply within {hours} h."
    )
    offer = {"escalation_id": str(escalation_id), "reason": state["reason"], "expected_response_hours": hours}
    if state.get("analysis"):
        offer["confidence"] = state["analysis"]
    reply = await send_reply(
        state,
        runtime,
        step="reply",
        content=content,
        path="D",
        metadata=offer,
        event="escalation_offer",
        event_data=offer_event(offer, step_id(state, "reply"), content),
    )
    return {"escalation_id": str(escalation_id), "reply": reply}


async def await_offer_reply(state: State, runtime: Runtime[Context]) -> dict:
    """Wait, as long as it takes, for the user to accept or dismiss the offer."""
    answer = interrupt({"gate": "offer", "escalation_id": state["escalation_id"]})
    return {"offer_reply": answer, "phase": "offer_reply", "started_at": time.time()}


async def queue_for_creator(state: State, runtime: Runtime[Context]) -> dict:
    """Queue the accepted question if today's and this week's quotas still allow it (else path F)."""
    ctx = runtime.context
    config = AgentConfig.model_validate(state["agent"]["config"])
    escalation_id = uuid.UUID(state["escalation_id"])  # type: ignore[arg-type]
    verdict = await ctx.escalations.queue(
        escalation_id,
        uuid.UUID(state["agent_id"]),
        config.timezone,
        config.max_escalations_per_day,
        config.max_escalations_per_week,
        ctx.clock(),
    )
    path, reason = ("E", "accepted") if verdict == "queued" else ("F", verdict)
    announce_decision(state, runtime, path, reason)
    if path == "F":
        return {"path": path, "reason": reason}
    creator = state["agent"]["creator_name"]
    reply = await send_reply(
        state,
        runtime,
        step="queued",
        content=f"Sent to {creator}. Their answer will appear right here, usually within "
        f"{config.expected_response_hours} h.",
        path="E",
        metadata={"escalation_id": state["escalation_id"]},
    )
    await ctx.events.publish(
        inbox_stream(state["agent"]["creator_id"]),
        "escalation",
        {"escalation_id": state["escalation_id"], "agent_id": state["agent_id"], "question": state["text"]},
    )
    return {"path": "E", "reason": "accepted", "reply": reply}


async def await_creator(state: State, runtime: Runtime[Context]) -> dict:
    """Wait, for days if need be, for the creator to answer or decline."""
    decision = interrupt({"gate": "creator", "escalation_id": state["escalation_id"]})
    return {"creator_reply": decision, "phase": "creator_reply", "started_at": time.time()}


async def deliver_creator_reply(state: State, runtime: Runtime[Context]) -> dict:
    """Store the creator's answer as a canonical answer (or teach the existing answer they linked this question to)
    and deliver it, or tell the user it was declined."""
    ctx = runtime.context
    decision = state["creator_reply"]
    escalation_id = uuid.UUID(state["escalation_id"])  # type: ignore[arg-type]
    creator = state["agent"]["creator_name"]
    if decision["action"] in ("answer", "link"):
        embedding = await ctx.embedder.embed_one(state["text"])
        if decision["action"] == "link":  # an existing answer: it learns this phrasing, the user gets its words
            answer = await ctx.canonical.get(uuid.UUID(decision["answer_id"]))
            if answer is None:
                raise LookupError("the linked canonical answer was deleted before delivery")
            await ctx.variants.add(
                answer["id"], state["text"], embedding, "linked", message_id=uuid.UUID(state["message_id"])
            )
            await ctx.canonical.count_reuse(answer["id"], uuid.UUID(state["message_id"]))
        else:
            answer = await ctx.canonical.create(
                uuid.UUID(state["agent_id"]),
                state["text"],
                decision["answer"],
                decision["layer"],
                embedding,
                answer_id=step_id(state, "canonical"),
                escalation_id=escalation_id,
            )
        reply = await send_reply(
            state,
            runtime,
            step="creator_reply",
            content=answer["answer"],
            path="C",
            metadata={
                "canonical_answer_id": str(answer["id"]),
                "escalation_id": str(escalation_id),
                "attribution": f"Answered by {creator}",
                "from_creator": True,
            },
        )
        await ctx.escalations.mark_delivered(escalation_id, answer["id"])
        return {"reply": reply}
    reason = (decision.get("reason") or "").strip()
    content = (
        f"{creator} won't be answering this one{': ' + reason if reason else '.'} "
        "Feel free to ask something else or put the question another way."
    )
    reply = await send_reply(
        state,
        runtime,
        step="creator_reply",
        content=content,
        path="F",
        metadata={"escalation_id": str(escalation_id), "reason": "declined"},
    )
    await ctx.escalations.mark_delivered(escalation_id, None)
    return {"reply": reply}
