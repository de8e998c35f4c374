"""log_decision: every decision of a thread goes to the decisions table with its scores and latency.

A new question's decision also refreshes its conversation's summary and topics (in the same statement), so the
conversation list and the creator's context carry what the contact has been asking about.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter

from langgraph.runtime import Runtime

from graphs.context import Context
from graphs.state import State
from llm.text import NEGATIONS, STOPWORDS, words

SUMMARY_QUESTIONS = 3
SUMMARY_CHARS = 400
TOPICS = 5


def conversation_digest(state: State) -> tuple[str, list[str]]:
    """(summary, topics) from the contact's recent questions: the last few, and their most frequent words."""
    asked = [m["content"] for m in state.get("history", []) if m["role"] == "user"] + [state["text"]]
    summary = " | ".join(q.strip() for q in asked[-SUMMARY_QUESTIONS:])[:SUMMARY_CHARS]
    counts = Counter(
        w
        for question in asked
        for w in set(words(question))
        if len(w) > 2 and w not in STOPWORDS and w not in NEGATIONS
    )
    return summary, [word for word, _ in counts.most_common(TOPICS)]


async def log_decision(state: State, runtime: Runtime[Context]) -> dict:
    """Record the path just taken; latency runs from the start of this run to now."""
    await runtime.context.decisions.record(
        message_id=uuid.UUID(state["message_id"]),
        agent_id=uuid.UUID(state["agent_id"]),
        conversation_id=uuid.UUID(state["conversation_id"]),
        user_id=uuid.UUID(state["user_id"]),
        path=state["path"],
        reason=state["reason"],
        signals=state.get("signals", {}),
        latency_ms=round((time.time() - state["started_at"]) * 1000, 2),
        details={
            "phase": state.get("phase", "turn"),
            "escalation_block": state.get("escalation_block"),
            "canonical_answer_id": (state.get("canonical_match") or {}).get("id"),
            "canonical_rejected": state.get("canonical_rejected", []),
            "signals": state.get("signals", {}),
            "self_assessment": state.get("self_assessment"),
            "analysis": state.get("analysis"),
        },
        analysis=state.get("analysis") if state.get("phase", "turn") == "turn" else None,
        digest=conversation_digest(state) if state.get("phase", "turn") == "turn" else None,
    )
    return {}
