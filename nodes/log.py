"""log_decision: every decision of a thread goes to the decisions table with its scores and latency."""

from __future__ import annotations

import time
import uuid

from langgraph.runtime import Runtime

from graphs.context import Context
from graphs.state import State


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
    )
    return {}
