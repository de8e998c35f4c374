"""Path B: one or two clarifying questions about what the short question leaves out."""

from __future__ import annotations

from langgraph.runtime import Runtime

from graphs.context import Context
from graphs.state import State
from llm.text import STOPWORDS, words
from nodes.reply import send_reply


def clarifying_questions(text: str, topics: list[str]) -> str:
    """Ask what the user wants to know, offering the closest topics the creator covers."""
    subject = " ".join(w for w in words(text) if w not in STOPWORDS) or "that"
    distinct = list(dict.fromkeys(topics))[:2]
    if len(distinct) == 2:
        first = f"What would you like to know about {subject}: {distinct[0]}, or {distinct[1]}?"
    elif distinct:
        first = f"What would you like to know about {subject}, for example {distinct[0]}?"
    else:
        first = f"What exactly would you like to know about {subject}?"
    return f"{first} And what's your situation or goal, so I can give you an answer that fits?"


async def clarify(state: State, runtime: Runtime[Context]) -> dict:
    """Send the clarifying questions."""
    topics = [chunk["title"] for chunk in state.get("knowledge", []) if chunk["similarity"] > 0.2]
    reply = await send_reply(
        state, runtime, step="reply", content=clarifying_questions(state["text"], topics), path="B"
    )
    return {"reply": reply}
