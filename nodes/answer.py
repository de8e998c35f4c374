"""Path A: an answer from the creator's knowledge, in the agent's persona, streamed token by token.

draft_answer writes it (streaming live unless the draft is held for its confidence check); send_answer delivers
what the check let through, with a disclaimer and an "ask the creator" offer when it calls for one.
"""

from __future__ import annotations

import contextlib
import re

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from graphs.config import AgentConfig
from graphs.context import Context
from graphs.state import State
from llm.self_assessment import INLINE_INSTRUCTION, TrailerFilter, parse_trailer, rate_answer
from nodes.escalation import open_offer
from nodes.reply import send_reply

DISCLAIMER = "\n\n(I'm not fully sure about this one: {creator} hasn't confirmed it. You can ask them directly.)"
BEST_EFFORT_NOTE = "\n\n(This is my best answer from what the creator has shared; it may not cover everything.)"


def knowledge_passages(state: State) -> str:
    return "\n".join(f"[{i}] ({c['title']}) {c['text']}" for i, c in enumerate(state.get("knowledge", []), 1))


def build_prompt(state: State, *, inline_assessment: bool = False) -> list[BaseMessage]:
    """Persona, the retrieved knowledge as numbered passages, recent turns, then the question."""
    agent = state["agent"]
    system = (
        f"You are {agent['name']}, the AI agent of {agent['creator_name']}. {agent['persona']}\n"
        "Answer only from the creator's knowledge below. If it does not cover the question, say so briefly "
        "instead of guessing. Keep to a few sentences.\n"
        + (INLINE_INSTRUCTION + "\n" if inline_assessment else "")
        + f"\nKnowledge:\n{knowledge_passages(state) or '(none)'}"
    )
    history: list[BaseMessage] = [
        HumanMessage(m["content"]) if m["role"] == "user" else AIMessage(m["content"])
        for m in state.get("history", [])[-4:]
    ]
    return [SystemMessage(system), *history, HumanMessage(state["text"])]


async def draft_answer(state: State, runtime: Runtime[Context]) -> dict:
    """Write the answer; stream it as `token` events unless it is held for the confidence check."""
    ctx = runtime.context
    live = not state.get("hold", False)
    mode = ctx.self_assessment if state.get("analyse_answers") else "off"
    trailer = TrailerFilter()
    raw: list[str] = []

    def show(text: str) -> None:
        if text and live:
            runtime.stream_writer({"event": "token", "data": {"text": text}})

    async for chunk in ctx.chat_model.astream(build_prompt(state, inline_assessment=mode == "inline")):
        text = chunk.content if isinstance(chunk.content, str) else ""
        raw.append(text)
        show(trailer.feed(text))
    show(trailer.flush())
    draft, assessment = parse_trailer("".join(raw))
    if mode == "second_call":
        # A rating that fails for any reason is just a missing factor; the answer itself is fine.
        with contextlib.suppress(Exception):
            assessment = await rate_answer(ctx.chat_model, knowledge_passages(state), state["text"], draft)
    if mode == "off":
        assessment = None
    return {
        "draft": draft.strip(),
        "self_assessment": {"score": assessment.score, "reason": assessment.reason} if assessment else None,
    }


async def send_answer(state: State, runtime: Runtime[Context]) -> dict:
    """Store and send the answer, with what the analysis asked for (disclaimer, 'ask the creator' offer)."""
    config = AgentConfig.model_validate(state["agent"]["config"])
    analysis = state.get("analysis")
    action = analysis["action"] if analysis else "answer"
    note = ""
    if action in ("review", "disclaimer") and config.confidence_escalation.add_disclaimer:
        note = DISCLAIMER.format(creator=state["agent"]["creator_name"])
    elif state["reason"] == "best_effort" and not analysis:
        note = BEST_EFFORT_NOTE
    if state.get("hold"):
        for token in re.findall(r"\S+\s*", state["draft"]):  # checked and let through: stream it now
            runtime.stream_writer({"event": "token", "data": {"text": token}})
    if note:
        runtime.stream_writer({"event": "token", "data": {"text": note}})

    metadata: dict = {"sources": [k["title"] for k in state.get("knowledge", [])[:3]]}
    update: dict = {}
    if analysis:
        metadata["confidence"] = analysis
    if action == "review":
        escalation_id, hours = await open_offer(state, runtime, "low_confidence")
        metadata |= {"escalation_id": str(escalation_id), "expected_response_hours": hours}
        update["escalation_id"] = str(escalation_id)
    reply = await send_reply(state, runtime, step="reply", content=state["draft"] + note, path="A", metadata=metadata)
    return update | {"reply": reply}
