"""load_context: the agent, the asking user's tier and the conversation so far."""

from __future__ import annotations

import time
import uuid

from langgraph.runtime import Runtime

from graphs.config import AgentConfig
from graphs.context import Context
from graphs.state import State


async def load_context(state: State, runtime: Runtime[Context]) -> dict:
    """Load the agent (with its current config), the user's tier and the recent history."""
    started_at = time.time()
    ctx = runtime.context
    agent = await ctx.agents.get(uuid.UUID(state["agent_id"]))
    user = await ctx.accounts.get_user(uuid.UUID(state["user_id"]))
    if agent is None or user is None:
        raise LookupError("the conversation's agent or user no longer exists")
    history = await ctx.conversations.history_before(
        uuid.UUID(state["conversation_id"]), uuid.UUID(state["message_id"])
    )
    config = AgentConfig.model_validate(agent["config"])
    return {
        "started_at": started_at,
        "phase": "turn",
        "analyse_answers": ctx.confidence_analysis and config.confidence_escalation.enabled,
        "agent": {
            "id": str(agent["id"]),
            "name": agent["name"],
            "persona": agent["persona"],
            "enabled": agent["enabled"],
            "creator_id": str(agent["creator_id"]),
            "creator_name": agent["creator_name"],
            "config": agent["config"],
            "reuse_version": agent["reuse_version"],
        },
        "user_tier": user["tier"],
        "history": [{"role": m["role"], "content": m["content"], "path": m["path"]} for m in history],
    }
