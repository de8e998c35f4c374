"""Escalations: offered to the user, queued for the creator, answered or declined.

Status moves only forward, by compare-and-set updates, so a second accept, answer or decline of the same
escalation finds nothing to change. Quotas are counted in Postgres under a per-agent advisory lock: exact under
any number of concurrent requests and workers, and durable across restarts.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

QUEUED = ("pending", "answered", "declined")

# An escalation `e` whose thread may still be resumed: offered, accepted, queued, or decided but not yet delivered.
STILL_WAITING = "(e.status IN ('offered', 'accepted', 'pending') OR (e.status IN ('answered', 'declined') AND e.delivered_at IS NULL))"


def quota_windows(tz: ZoneInfo, now: datetime | None = None) -> tuple[datetime, datetime]:
    """Start of today and of this week (Monday) in the agent's timezone."""
    local = (now or datetime.now(tz)).astimezone(tz)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return day, day - timedelta(days=local.weekday())


def _lock_key(agent_id: uuid.UUID) -> int:
    return int.from_bytes(hashlib.blake2b(agent_id.bytes, digest_size=8).digest(), "big", signed=True)


class EscalationStore:
    """Escalations over an injected pool."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def create_offer(
        self,
        *,
        escalation_id: uuid.UUID,
        agent_id: uuid.UUID,
        conversation_id: uuid.UUID,
        user_id: uuid.UUID,
        message_id: uuid.UUID,
        question: str,
        reason: str,
        context_summary: str,
        signals: dict,
        user_tier: str,
        ai_draft: str | None = None,
        ai_confidence: dict | None = None,
    ) -> dict:
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO escalations (id, agent_id, conversation_id, user_id, message_id, question, reason,"
                " status, context_summary, signals, user_tier, ai_draft, ai_confidence)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, 'offered', %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                (
                    escalation_id,
                    agent_id,
                    conversation_id,
                    user_id,
                    message_id,
                    question,
                    reason,
                    context_summary,
                    Jsonb(signals),
                    user_tier,
                    ai_draft,
                    Jsonb(ai_confidence) if ai_confidence else None,
                ),
            )
        return await self.get(escalation_id)  # type: ignore[return-value]

    async def get(self, escalation_id: uuid.UUID) -> dict | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT e.*, a.creator_id, a.handle AS agent_handle, a.name AS agent_name, u.handle AS user_handle"
                " FROM escalations e JOIN agents a ON a.id = e.agent_id JOIN users u ON u.id = e.user_id"
                " WHERE e.id = %s",
                (escalation_id,),
            )
            return await cur.fetchone()

    async def open_offer(self, conversation_id: uuid.UUID) -> dict | None:
        """The conversation's most recent offer still waiting for the user's yes or no, if any."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT * FROM escalations WHERE conversation_id = %s AND status = 'offered'"
                " ORDER BY created_at DESC LIMIT 1",
                (conversation_id,),
            )
            return await cur.fetchone()

    async def transition(self, escalation_id: uuid.UUID, from_status: str, to_status: str, **fields: object) -> bool:
        """Move from one status to the next, setting fields; False when it was not in from_status."""
        sets = ", ".join(f"{name} = %s" for name in fields)
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"UPDATE escalations SET status = %s, updated_at = now(){', ' + sets if sets else ''}"
                " WHERE id = %s AND status = %s",
                (to_status, *fields.values(), escalation_id, from_status),
            )
            return cur.rowcount == 1

    async def queue(
        self,
        escalation_id: uuid.UUID,
        agent_id: uuid.UUID,
        tz: ZoneInfo,
        per_day: int,
        per_week: int,
        now: datetime | None = None,
    ) -> str:
        """Queue an accepted escalation if the quotas allow: 'queued', 'quota_day' or 'quota_week'.

        `now` (default: the current time) stamps queued_at and places the quota day and week.
        """
        now = now or datetime.now(tz)
        day, week = quota_windows(tz, now)
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(agent_id),))
            cur = await conn.execute("SELECT status, decline_reason FROM escalations WHERE id = %s", (escalation_id,))
            row = await cur.fetchone()
            if row and row["status"] in QUEUED:
                return "queued"
            if row and row["status"] == "refused":  # a re-run of the step: same verdict as the first run
                return row["decline_reason"]
            today, this_week = await self._counts(conn, agent_id, day, week)
            if today >= per_day:
                verdict = "quota_day"
            elif this_week >= per_week:
                verdict = "quota_week"
            else:
                await conn.execute(
                    "UPDATE escalations SET status = 'pending', queued_at = %s WHERE id = %s AND status = 'accepted'",
                    (now, escalation_id),
                )
                return "queued"
            await conn.execute(
                "UPDATE escalations SET status = 'refused', decline_reason = %s, resolved_at = now()"
                " WHERE id = %s AND status = 'accepted'",
                (verdict, escalation_id),
            )
            return verdict

    async def usage(self, agent_id: uuid.UUID, tz: ZoneInfo, now: datetime | None = None) -> tuple[int, int]:
        """Escalations queued today and this week (the quota counts)."""
        day, week = quota_windows(tz, now)
        async with self.pool.connection() as conn:
            return await self._counts(conn, agent_id, day, week)

    @staticmethod
    async def _counts(conn, agent_id: uuid.UUID, day: datetime, week: datetime) -> tuple[int, int]:  # noqa: ANN001
        cur = await conn.execute(
            "SELECT count(*) FILTER (WHERE queued_at >= %s) AS today, count(*) AS week"
            " FROM escalations WHERE agent_id = %s AND queued_at >= %s",
            (day, agent_id, week),
        )
        row = await cur.fetchone()
        return int(row["today"]), int(row["week"])

    async def list_for_creator(self, creator_id: uuid.UUID, status: str | None, *, limit: int = 200) -> list[dict]:
        """Escalations of the creator's agents, newest first."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT e.*, a.handle AS agent_handle, a.name AS agent_name, u.handle AS user_handle"
                " FROM escalations e JOIN agents a ON a.id = e.agent_id JOIN users u ON u.id = e.user_id"
                " WHERE a.creator_id = %s AND (%s::text IS NULL OR e.status = %s)"
                " ORDER BY coalesce(e.queued_at, e.created_at) DESC LIMIT %s",
                (creator_id, status, status, limit),
            )
            return await cur.fetchall()

    async def mark_delivered(self, escalation_id: uuid.UUID, canonical_answer_id: uuid.UUID | None) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE escalations SET delivered_at = coalesce(delivered_at, now()),"
                " canonical_answer_id = coalesce(canonical_answer_id, %s) WHERE id = %s",
                (canonical_answer_id, escalation_id),
            )

    async def waiting_on(self, message_id: uuid.UUID) -> bool:
        """Whether the question's thread may still be resumed by a human decision."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT EXISTS (SELECT 1 FROM escalations e WHERE e.message_id = %s AND {STILL_WAITING}) AS waiting",
                (message_id,),
            )
            return (await cur.fetchone())["waiting"]

    async def unfinished(self, older_than_s: float) -> list[dict]:
        """Escalations whose human decision is stored but whose graph has not acted on it for a while."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id, message_id, status, answer, answer_layer, decline_reason FROM escalations"
                " WHERE ((status IN ('answered', 'declined') AND delivered_at IS NULL) OR status = 'accepted')"
                " AND updated_at < now() - make_interval(secs => %s)",
                (older_than_s,),
            )
            return await cur.fetchall()
