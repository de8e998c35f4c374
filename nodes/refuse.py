"""Path F: a polite refusal that says why and what the user can do instead."""

from __future__ import annotations

from langgraph.runtime import Runtime

from graphs.config import AgentConfig
from graphs.context import Context
from graphs.state import State
from nodes.reply import send_reply
from nodes.rules import blocked_topic


def refusal_text(reason: str, state: State) -> str:
    agent = state["agent"]
    config = AgentConfig.model_validate(agent["config"])
    name, creator = agent["name"], agent["creator_name"]
    tiers = " or ".join(config.escalation_user_tiers) or "selected"
    texts = {
        "agent_disabled": f"{name} isn't taking questions right now. Please try again later.",
        "tier_not_allowed": (
            f"{name} answers {' and '.join(config.allowed_user_tiers) or 'selected'} members only. "
            "Upgrading your membership lets you ask."
        ),
        "blocked_topic": (
            f"{name} doesn't discuss {blocked_topic(state['text'], config.blocked_topics) or 'that topic'} here. "
            "Feel free to ask about something else."
        ),
        "escalation_disabled": (
            f"That's a new one and I'd rather not guess, but {creator} isn't taking questions right now. "
            "Try rephrasing it, or ask about something from their content."
        ),
        "tier_not_eligible": (
            f"That's a new one and I'd rather not guess. Sending questions to {creator} is open to {tiers} "
            "members: upgrade to send it, or try rephrasing."
        ),
        "outside_availability": (
            f"That's a new one for {creator}, who takes questions only during set hours. "
            "Please ask again during those hours."
        ),
        "never_auto_answer": (
            f"{name} doesn't answer questions like this on its own, and {creator} can't take new questions right "
            "now. Please ask again later, or talk to a professional you trust."
        ),
        "quota_day": (
            f"{creator} has received all the questions they can answer today. "
            "Please ask again tomorrow, or try rephrasing so I can help."
        ),
        "quota_week": (
            f"{creator} has received all the questions they can answer this week. "
            "Please ask again next week, or try rephrasing so I can help."
        ),
    }
    return texts.get(reason, "I can't help with that here. Please try asking something else.")


async def refuse(state: State, runtime: Runtime[Context]) -> dict:
    """Send the refusal for the decided reason."""
    reply = await send_reply(
        state,
        runtime,
        step=f"refuse:{state.get('phase', 'turn')}",
        content=refusal_text(state["reason"], state),
        path="F",
        metadata={"reason": state["reason"]},
    )
    return {"reply": reply}
