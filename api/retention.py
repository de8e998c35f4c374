"""The checkpoint retention job each API worker runs: every ORCH_CHECKPOINT_PRUNE_EVERY_S, delete the checkpoints
of finished threads whose last step is older than ORCH_CHECKPOINT_RETENTION_DAYS (stores/retention.py).

Workers take turns through an advisory lock, so however many run, one pass prunes at a time.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from api.jobs import run_every
from api.services import Services
from stores.retention import CheckpointRetention

log = logging.getLogger(__name__)

PAUSE_BETWEEN_BATCHES_S = 0.05


async def prune_forever(services: Services) -> None:
    settings = services.settings
    retention = timedelta(days=settings.checkpoint_retention_days)
    job = CheckpointRetention(services.pool, services.checkpoint_pool)

    async def prune_once() -> None:
        report = await job.prune(retention, pause_s=PAUSE_BETWEEN_BATCHES_S)
        if report.threads_pruned:
            log.info("checkpoint retention pruned %d of %d threads", report.threads_pruned, report.threads_seen)

    await run_every(settings.checkpoint_prune_every_s, prune_once, "checkpoint retention")
