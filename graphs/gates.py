"""The human decisions at a thread's gates: accept or dismiss an offer, answer or decline a queued question.

Each decision is stored first (a compare-and-set status change, so a second one finds nothing to change), then the
waiting thread is resumed with it. The API and the evals both go through here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from graphs.runner import TurnEvent, TurnRunner


class GateConflict(Exception):
    """The escalation is not at the gate this decision is for (already decided, or another stage)."""

    def __init__(self, escalation: dict, action: str) -> None:
        super().__init__(f"cannot {action} an escalation that is {escalation['status']}")


async def _decide(
    runner: TurnRunner, escalation: dict, action: str, from_status: str, to_status: str, value: dict, **fields: object
) -> list[TurnEvent]:
    if not await runner.context.escalations.transition(escalation["id"], from_status, to_status, **fields):
        raise GateConflict(escalation, action)
    return await runner.collect(runner.resume(escalation["message_id"], value))


async def accept_offer(runner: TurnRunner, escalation: dict) -> list[TurnEvent]:
    return await _decide(runner, escalation, "accept", "offered", "accepted", {"action": "accept"})


async def dismiss_offer(runner: TurnRunner, escalation: dict) -> list[TurnEvent]:
    return await _decide(runner, escalation, "dismiss", "offered", "dismissed", {"action": "dismiss"})


async def answer_escalation(runner: TurnRunner, escalation: dict, answer: str, layer: str) -> list[TurnEvent]:
    return await _decide(
        runner,
        escalation,
        "answer",
        "pending",
        "answered",
        {"action": "answer", "answer": answer, "layer": layer},
        answer=answer,
        answer_layer=layer,
        resolved_at=datetime.now(UTC),
    )


async def link_escalation(runner: TurnRunner, escalation: dict, answer: dict) -> list[TurnEvent]:
    """The creator says an existing answer already answers it: that answer is delivered and learns the question."""
    return await _decide(
        runner,
        escalation,
        "answer",
        "pending",
        "answered",
        {"action": "link", "answer_id": str(answer["id"])},
        answer=answer["answer"],
        answer_layer=answer["layer"],
        resolved_at=datetime.now(UTC),
    )


async def decline_escalation(runner: TurnRunner, escalation: dict, reason: str | None) -> list[TurnEvent]:
    return await _decide(
        runner,
        escalation,
        "decline",
        "pending",
        "declined",
        {"action": "decline", "reason": reason},
        decline_reason=reason,
        resolved_at=datetime.now(UTC),
    )
