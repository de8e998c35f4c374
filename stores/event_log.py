"""Product events worth keeping (e.g. `human_handoff.requested`), one per type and asking message."""

from __future__ import annotations

import uuid

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool


class EventLog:
    """An append-only log in Postgres; recording the same (type, message) twice stores it once."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def record(
        self,
        event_type: str,
        *,
        agent_id: uuid.UUID,
        conversation_id: uuid.UUID | None = None,
        message_id: uuid.UUID | None = None,
        escalation_id: uuid.UUID | None = None,
        payload: dict | None = None,
    ) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO event_log (type, agent_id, conversation_id, message_id, escalation_id, payload)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (event_type, agent_id, conversation_id, message_id, escalation_id, Jsonb(payload or {})),
            )

    async def for_message(self, message_id: uuid.UUID) -> list[dict]:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT * FROM event_log WHERE message_id = %s ORDER BY id", (message_id,))
            return await cur.fetchall()
