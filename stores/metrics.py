"""What creators watch: paths taken, auto-answer rate, escalations against quota, reuse of their answers."""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from psycopg_pool import AsyncConnectionPool

from stores.escalations import EscalationStore

PATHS = ("A", "B", "C", "D", "E", "F")


class MetricsStore:
    """Aggregates over the decisions log, messages, escalations and canonical reuses."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def for_agent(self, agent_id: uuid.UUID, days: int, tz: ZoneInfo) -> dict:
        since = f"{days} days"
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT path, count(*) AS n FROM decisions"
                " WHERE agent_id = %s AND created_at >= now() - %s::interval GROUP BY path",
                (agent_id, since),
            )
            path_counts = {path: 0 for path in PATHS} | {r["path"]: r["n"] for r in await cur.fetchall()}
            cur = await conn.execute(
                "SELECT count(*) AS turns,"
                " count(*) FILTER (WHERE path = 'A') AS auto,"
                " avg(similarity) AS similarity, avg(novelty) AS novelty, avg(complexity) AS complexity,"
                " avg(confidence) AS confidence,"
                " percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,"
                " percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99"
                " FROM decisions WHERE agent_id = %s AND created_at >= now() - %s::interval"
                " AND details->>'phase' = 'turn'",
                (agent_id, since),
            )
            turns = await cur.fetchone()
            cur = await conn.execute(
                "SELECT count(*) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id"
                " WHERE c.agent_id = %s AND m.role = 'user' AND m.created_at >= now() - %s::interval",
                (agent_id, since),
            )
            total_messages = (await cur.fetchone())["n"]
            cur = await conn.execute(
                "SELECT count(*) AS n FROM canonical_reuses r JOIN canonical_answers a ON a.id = r.canonical_answer_id"
                " WHERE a.agent_id = %s AND r.created_at >= now() - %s::interval",
                (agent_id, since),
            )
            reuse = (await cur.fetchone())["n"]
            cur = await conn.execute(
                "SELECT count(*) AS answers, coalesce(sum(times_reused), 0) AS reused,"
                " count(*) FILTER (WHERE escalation_id IS NOT NULL) AS from_escalations"
                " FROM canonical_answers WHERE agent_id = %s",
                (agent_id,),
            )
            canonical = await cur.fetchone()
            cur = await conn.execute(
                "SELECT count(*) AS n FROM escalations WHERE agent_id = %s AND status = 'pending'",
                (agent_id,),
            )
            pending = (await cur.fetchone())["n"]
            cur = await conn.execute(
                "SELECT (created_at AT TIME ZONE %s)::date AS day, path, count(*) AS n FROM decisions"
                " WHERE agent_id = %s AND created_at >= now() - %s::interval GROUP BY 1, 2 ORDER BY 1",
                (str(tz), agent_id, since),
            )
            daily: dict[str, dict[str, int]] = {}
            for row in await cur.fetchall():
                daily.setdefault(row["day"].isoformat(), {p: 0 for p in PATHS})[row["path"]] = row["n"]
        today, week = await EscalationStore(self.pool).usage(agent_id, tz)
        n_turns = turns["turns"] or 0

        def _avg(value: float | None) -> float | None:
            return round(float(value), 4) if value is not None else None

        return {
            "days": days,
            "total_messages": total_messages,
            "turns": n_turns,
            "path_counts": path_counts,
            "auto_answer_rate": round(turns["auto"] / n_turns, 4) if n_turns else 0.0,
            "escalations_today": today,
            "escalations_week": week,
            "pending_escalations": pending,
            "answer_reuse_count": reuse,
            "canonical_answers": canonical["answers"],
            "canonical_answers_from_escalations": canonical["from_escalations"],
            "canonical_times_reused_total": canonical["reused"],
            "avg_signals": {k: _avg(turns[k]) for k in ("similarity", "novelty", "complexity", "confidence")},
            "decision_latency_ms": {"p50": _avg(turns["p50"]), "p99": _avg(turns["p99"])},
            "daily": [{"day": day} | counts for day, counts in daily.items()],
        }
