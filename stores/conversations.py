"""Conversations between a user and an agent, and their messages in order."""

from __future__ import annotations

import uuid

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

_MESSAGE_COLUMNS = "id, conversation_id, role, content, path, reply_to, metadata, created_at"


class ConversationStore:
    """Conversations and messages; agent messages get ids derived from their thread, so writes are idempotent."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def create(self, agent_id: uuid.UUID, user_id: uuid.UUID, channel: str) -> dict:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO conversations (id, agent_id, user_id, channel) VALUES (%s, %s, %s, %s) RETURNING *",
                (uuid.uuid4(), agent_id, user_id, channel),
            )
            return await cur.fetchone()

    async def get(self, conversation_id: uuid.UUID) -> dict | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT c.*, a.creator_id FROM conversations c JOIN agents a ON a.id = c.agent_id WHERE c.id = %s",
                (conversation_id,),
            )
            return await cur.fetchone()

    async def list_for_user(self, user_id: uuid.UUID) -> list[dict]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT * FROM conversations WHERE user_id = %s ORDER BY coalesce(last_message_at, created_at) DESC",
                (user_id,),
            )
            return await cur.fetchall()

    async def add_message(
        self,
        conversation_id: uuid.UUID,
        role: str,
        content: str,
        *,
        message_id: uuid.UUID | None = None,
        path: str | None = None,
        reply_to: uuid.UUID | None = None,
        metadata: dict | None = None,
    ) -> dict:
        """Store a message; re-adding the same id returns the stored one unchanged."""
        message_id = message_id or uuid.uuid4()
        async with self.pool.connection() as conn:
            # One statement: insert, touch the conversation only if the insert happened, return the stored row.
            cur = await conn.execute(
                "WITH inserted AS ("
                "  INSERT INTO messages (id, conversation_id, role, content, path, reply_to, metadata)"
                f"  VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING RETURNING {_MESSAGE_COLUMNS}),"
                " touched AS ("
                "  UPDATE conversations SET last_message_at = now()"
                "  WHERE id = %s AND EXISTS (SELECT 1 FROM inserted))"
                f" SELECT {_MESSAGE_COLUMNS} FROM inserted"
                f" UNION ALL SELECT {_MESSAGE_COLUMNS} FROM messages"
                "  WHERE id = %s AND NOT EXISTS (SELECT 1 FROM inserted)",
                (
                    message_id,
                    conversation_id,
                    role,
                    content,
                    path,
                    reply_to,
                    Jsonb(metadata or {}),
                    conversation_id,
                    message_id,
                ),
            )
            return await cur.fetchone()

    async def messages(self, conversation_id: uuid.UUID, *, limit: int = 500) -> list[dict]:
        """The conversation's messages, oldest first."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM ("
                f"  SELECT {_MESSAGE_COLUMNS}, seq FROM messages WHERE conversation_id = %s"
                "   ORDER BY seq DESC LIMIT %s) recent ORDER BY seq",
                (conversation_id, limit),
            )
            return await cur.fetchall()

    async def history_before(self, conversation_id: uuid.UUID, message_id: uuid.UUID, *, limit: int = 6) -> list[dict]:
        """The messages that came before the given one (the turn's context), oldest first."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM ("
                f"  SELECT {_MESSAGE_COLUMNS}, seq FROM messages"
                "   WHERE conversation_id = %s AND seq < (SELECT seq FROM messages WHERE id = %s)"
                "   ORDER BY seq DESC LIMIT %s) recent ORDER BY seq",
                (conversation_id, message_id, limit),
            )
            return await cur.fetchall()
