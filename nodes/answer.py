"""Path A: an answer from the creator's knowledge, in the agent's persona, streamed token by token."""

from __future__ import annotations

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from graphs.context import Context
from graphs.state import State
from nodes.reply import send_reply

BEST_EFFORT_NOTE = "\n\n(This is my best answer from what the creator has shared; it may not cover everything.)"


def build_prompt(state: State) -> list[BaseMessage]:
    """Persona, the retrieved knowledge as numbered passages, recent turns, then the question."""
    agent = state["agent"]
    passages = "\n".join(
        f"[{i}] ({chunk['title']}) {chunk['text']}" for i, chunk in enumerate(state.get("knowledge", []), 1)
    )
    system = (
        f"You are {agent['name']}, the AI agent of {agent['creator_name']}. {agent['persona']}\n"
        "Answer only from the creator's knowledge below. If it does not cover the question, say so briefly "
        "instead of guessing. Keep to a few sentences.\n\n"
        f"Knowledge:\n{passages or '(none)'}"
    )
    history: list[BaseMessage] = [
        HumanMessage(m["content"]) if m["role"] == "user" else AIMessage(m["content"])
        for m in state.get("history", [])[-4:]
    ]
    return [SystemMessage(system), *history, HumanMessage(state["text"])]


async def auto_answer(state: State, runtime: Runtime[Context]) -> dict:
    """Stream the model's answer as `token` events, then store and send it whole."""
    parts: list[str] = []
    async for chunk in runtime.context.chat_model.astream(build_prompt(state)):
        text = chunk.content if isinstance(chunk.content, str) else ""
        if text:
            parts.append(text)
            runtime.stream_writer({"event": "token", "data": {"text": text}})
    content = "".join(parts).strip()
    if state["reason"] == "best_effort":
        content += BEST_EFFORT_NOTE
        runtime.stream_writer({"event": "token", "data": {"text": BEST_EFFORT_NOTE}})
    reply = await send_reply(
        state,
        runtime,
        step="reply",
        content=content,
        path="A",
        metadata={"sources": [k["title"] for k in state.get("knowledge", [])[:3]]},
    )
    return {"reply": reply}
