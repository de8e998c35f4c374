"""The recovery sweep: finish acting on human decisions that a crash or restart interrupted.

A creator's answer (or a user's accept) is stored before its graph is resumed; if the process died in between,
this sweep resumes the thread with the stored decision. Every step after a gate is idempotent, so a sweep that
races a live request writes nothing twice.
"""

from __future__ import annotations

import logging

from api.jobs import run_every
from api.services import Services

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 60.0
GRACE_S = 20.0


def decision_of(escalation: dict) -> dict:
    """The resume value a stored escalation status stands for."""
    if escalation["status"] == "accepted":
        return {"action": "accept"}
    if escalation["status"] == "answered":
        return {"action": "answer", "answer": escalation["answer"], "layer": escalation["answer_layer"]}
    return {"action": "decline", "reason": escalation["decline_reason"]}


async def sweep_once(services: Services, *, grace_s: float = GRACE_S) -> int:
    """Resume every stalled thread once; returns how many were carried forward."""
    finished = 0
    for escalation in await services.context.escalations.unfinished(grace_s):
        try:
            if await services.runner.finish(escalation["message_id"], decision_of(escalation)):
                finished += 1
        except Exception:  # noqa: BLE001 - one broken thread must not stop the sweep
            log.exception("could not finish escalation %s", escalation["id"])
    if finished:
        log.info("recovery sweep finished %d escalation(s)", finished)
    return finished


async def sweep_forever(services: Services) -> None:
    first_grace = iter([5.0])  # the first round, at start-up, also finishes what the last process left just now
    await run_every(SWEEP_EVERY_S, lambda: sweep_once(services, grace_s=next(first_grace, GRACE_S)), "recovery sweep")
