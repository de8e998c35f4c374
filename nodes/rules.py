"""check_rules: the creator's rules for this user and this moment.

Two verdicts: a refusal that applies whatever the question (agent off, tier not allowed, blocked topic), and
whether the creator can be asked right now (escalation on, user's tier, availability hours, quotas).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from langgraph.runtime import Runtime

from graphs.config import WEEKDAYS, AgentConfig, AvailabilityWindows
from graphs.context import Context
from graphs.state import State
from llm.text import phrase_pattern


def blocked_topic(text: str, topics: list[str]) -> str | None:
    """The first blocked topic the text mentions, if any."""
    return next((topic for topic in topics if phrase_pattern(topic).search(text)), None)


def within_availability(windows: AvailabilityWindows | None, now: datetime | None = None) -> bool:
    """Whether escalations are offered at this moment (no windows configured means always)."""
    if windows is None or not windows.hours:
        return True
    from zoneinfo import ZoneInfo

    local = (now or datetime.now(ZoneInfo(windows.timezone))).astimezone(ZoneInfo(windows.timezone))
    clock = local.strftime("%H:%M")
    return any(start <= clock < end for start, end in windows.hours.get(WEEKDAYS[local.weekday()], []))


async def check_rules(state: State, runtime: Runtime[Context]) -> dict:
    """Decide whether the message is refused outright and whether escalation is possible now."""
    agent, tier = state["agent"], state["user_tier"]
    config = AgentConfig.model_validate(agent["config"])
    refusal = None
    if not agent["enabled"]:
        refusal = "agent_disabled"
    elif tier not in config.allowed_user_tiers:
        refusal = "tier_not_allowed"
    elif blocked_topic(state["text"], config.blocked_topics):
        refusal = "blocked_topic"
    if refusal or state.get("canonical_match"):
        return {"refusal": refusal, "escalation_block": None}  # the creator won't be asked: skip the quota query
    return {"refusal": refusal, "escalation_block": await escalation_block(state, runtime, config)}


async def escalation_block(state: State, runtime: Runtime[Context], config: AgentConfig) -> str | None:
    """Why the creator cannot be asked right now, or None when they can."""
    if not config.escalation_enabled:
        return "escalation_disabled"
    if state["user_tier"] not in config.escalation_user_tiers:
        return "tier_not_eligible"
    now = runtime.context.clock()
    if not within_availability(config.windows, now):
        return "outside_availability"
    today, week = await runtime.context.escalations.usage(uuid.UUID(state["agent_id"]), config.timezone, now)
    if today >= config.max_escalations_per_day:
        return "quota_day"
    if week >= config.max_escalations_per_week:
        return "quota_week"
    return None
