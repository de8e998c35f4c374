"""The decisions log: one row per routing decision of a question's thread (path, reason, scores, latency)."""

from __future__ import annotations

import uuid

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool


class DecisionStore:
    """Append-only log; a decision re-recorded by a re-run step is stored once."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def record(
        self,
        *,
        message_id: uuid.UUID,
        agent_id: uuid.UUID,
        conversation_id: uuid.UUID,
        user_id: uuid.UUID,
        path: str,
        reason: str,
        signals: dict,
        latency_ms: float,
        details: dict | None = None,
        analysis: dict | None = None,
        digest: tuple[str, list[str]] | None = None,
    ) -> None:
        """Store one decision; `analysis` is the confidence analysis of a path A answer, if one was made, and
        `digest` the conversation's new (summary, topics), written in the same statement."""
        analysis = analysis or {}
        summary, topics = digest or (None, None)
        async with self.pool.connection() as conn:
            await conn.execute(
                "WITH digest AS ("
                "  UPDATE conversations SET summary = coalesce(%s, summary), topics = coalesce(%s, topics)"
                "  WHERE id = %s AND %s)"
                " INSERT INTO decisions (message_id, agent_id, conversation_id, user_id, path, reason,"
                " similarity, novelty, complexity, confidence, latency_ms, details,"
                " confidence_score, confidence_level, confidence_action)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (
                    summary,
                    topics,
                    conversation_id,
                    digest is not None,
                    message_id,
                    agent_id,
                    conversation_id,
                    user_id,
                    path,
                    reason,
                    signals.get("similarity"),
                    signals.get("novelty"),
                    signals.get("complexity"),
                    signals.get("confidence"),
                    latency_ms,
                    Jsonb(details or {}),
                    analysis.get("score"),
                    analysis.get("level"),
                    analysis.get("action"),
                ),
            )

    async def for_message(self, message_id: uuid.UUID) -> list[dict]:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT * FROM decisions WHERE message_id = %s ORDER BY id", (message_id,))
            return await cur.fetchall()
