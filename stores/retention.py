"""Checkpoint retention: delete the LangGraph checkpoints of question threads that are finished and old.

Every user message runs its own thread, so the checkpoint tables grow with every message. A thread is kept while
anything may still resume it: an escalation offered, accepted or queued, or a creator's decision not yet delivered.
Any other thread is finished, and `retention` after its last checkpoint its checkpoints, blobs and writes are
deleted. The conversation, the decisions log and the escalation stay, so the inbox, the metrics and an
Idempotency-Key replay (graphs/runner.py) do not change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg_pool import AsyncConnectionPool

from stores.escalations import STILL_WAITING

BATCH = 500

# Several API workers run the job; one at a time prunes (two deleting the same threads could deadlock).
_RETENTION_LOCK = 0x0C4E9A11
_UUID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

# One batch of threads in thread id order after the last one seen, each with whether it may go. A thread id that
# is not a message id is not ours: it stays.
_BATCH_SQL = f"""
WITH batch AS (
    SELECT thread_id,
        CASE WHEN thread_id ~* %(uuid)s THEN thread_id::uuid END AS message_id
    FROM (SELECT DISTINCT thread_id FROM checkpoints WHERE thread_id > %(after)s
          ORDER BY thread_id LIMIT %(limit)s) ids
)
SELECT b.thread_id,
    b.message_id IS NOT NULL
    AND (SELECT max((c.checkpoint ->> 'ts')::timestamptz) FROM checkpoints c WHERE c.thread_id = b.thread_id)
        < now() - %(retention)s
    AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.message_id = b.message_id AND {STILL_WAITING}) AS prunable
FROM batch b
ORDER BY b.thread_id
"""


@dataclass
class PruneReport:
    threads_seen: int = 0
    threads_pruned: int = 0
    skipped: bool = False
    """Another process held the job's lock, so this pass did nothing."""


class CheckpointRetention:
    """Finds finished, old threads (on the main pool) and deletes their checkpoints (through langgraph's saver)."""

    def __init__(self, pool: AsyncConnectionPool, checkpoint_pool: AsyncConnectionPool) -> None:
        self.pool = pool
        self.saver = AsyncPostgresSaver(checkpoint_pool)  # type: ignore[arg-type]

    async def prune(
        self,
        retention: timedelta,
        *,
        batch: int = BATCH,
        pause_s: float = 0.0,
        progress: Callable[[PruneReport], None] | None = None,
    ) -> PruneReport:
        """One pass over every thread; `pause_s` between batches leaves the database to live traffic."""
        report = PruneReport()
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT pg_try_advisory_lock(%s) AS locked", (_RETENTION_LOCK,))
            if not (await cur.fetchone())["locked"]:
                report.skipped = True
                return report
            try:
                after = ""
                while rows := await (
                    await conn.execute(
                        _BATCH_SQL, {"after": after, "limit": batch, "retention": retention, "uuid": _UUID}
                    )
                ).fetchall():
                    doomed = [row["thread_id"] for row in rows if row["prunable"]]
                    if doomed:
                        await self.saver.aprune(doomed, strategy="delete")
                    report.threads_seen += len(rows)
                    report.threads_pruned += len(doomed)
                    if progress:
                        progress(report)
                    after = rows[-1]["thread_id"]
                    await asyncio.sleep(pause_s)
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (_RETENTION_LOCK,))
        return report
