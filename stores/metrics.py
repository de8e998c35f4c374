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
        async with self.pool.connection() as conn, conn.transaction():  # one snapshot for every figure
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
                "SELECT count(*) FILTER (WHERE status = 'pending') AS pending,"
                " count(*) FILTER (WHERE created_at >= now() - %s::interval) AS offered,"
                " count(*) FILTER (WHERE created_at >= now() - %s::interval AND queued_at IS NOT NULL) AS queued,"
                " count(*) FILTER (WHERE created_at >= now() - %s::interval AND reason = 'low_confidence')"
                "   AS low_confidence,"
                " count(*) FILTER (WHERE created_at >= now() - %s::interval AND reason = 'low_confidence'"
                "   AND queued_at IS NOT NULL) AS low_confidence_queued"
                " FROM escalations WHERE agent_id = %s",
                (since, since, since, since, agent_id),
            )
            escalations = await cur.fetchone()
            pending = escalations["pending"]
            cur = await conn.execute(
                "SELECT confidence_level AS level, confidence_action AS action, count(*) AS n FROM decisions"
                " WHERE agent_id = %s AND created_at >= now() - %s::interval AND confidence_level IS NOT NULL"
                " GROUP BY 1, 2",
                (agent_id, since),
            )
            levels = {"HIGH": 0, "MEDIUM": 0, "LOW": 0}
            actions = {"answer": 0, "review": 0, "disclaimer": 0, "escalate": 0, "refuse": 0}
            for row in await cur.fetchall():
                levels[row["level"]] += row["n"]
                actions[row["action"]] += row["n"]
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
            "escalations_offered": escalations["offered"],
            "escalations_queued": escalations["queued"],
            "escalation_rate": round(escalations["offered"] / n_turns, 4) if n_turns else 0.0,
            "escalations_low_confidence": escalations["low_confidence"],
            "escalations_low_confidence_queued": escalations["low_confidence_queued"],
            "answer_confidence": {"levels": levels, "actions": actions},
            "answer_reuse_count": reuse,
            "canonical_answers": canonical["answers"],
            "canonical_answers_from_escalations": canonical["from_escalations"],
            "canonical_times_reused_total": canonical["reused"],
            "avg_signals": {k: _avg(turns[k]) for k in ("similarity", "novelty", "complexity", "confidence")},
            "decision_latency_ms": {"p50": _avg(turns["p50"]), "p99": _avg(turns["p99"])},
            "daily": [{"day": day} | counts for day, counts in daily.items()],
        }
