"""Conversations between a user and an agent, and their messages in order, whatever the channel.

A conversation from a messaging channel also records the external contact and conversation; a message records its
direction, who sent it, its id on the platform, its delivery status and the retrieval context it used.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

_MESSAGE_COLUMNS = (
    "id, conversation_id, role, content, path, reply_to, metadata, created_at,"
    " direction, sender_type, external_message_id, delivery_status, rag_context"
)
PREVIEW_CHARS = 120
# Delivery only moves forward; a late "delivered" never undoes "read". "failed" is set by the sender alone.
_ORDER = ["pending", "sending", "sent", "delivered", "read"]


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

    async def for_contact(
        self,
        agent_id: uuid.UUID,
        channel: str,
        contact_id: str,
        *,
        user_id: uuid.UUID,
        contact_name: str | None,
        external_conversation_id: str | None,
    ) -> dict:
        """The contact's conversation with the agent on the channel, created on their first message."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO conversations (id, agent_id, user_id, channel, external_contact_id,"
                " external_contact_name, external_conversation_id) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (agent_id, channel, external_contact_id) WHERE external_contact_id IS NOT NULL"
                " DO UPDATE SET external_contact_name = coalesce(EXCLUDED.external_contact_name,"
                "  conversations.external_contact_name)"
                " RETURNING *",
                (uuid.uuid4(), agent_id, user_id, channel, contact_id, contact_name, external_conversation_id),
            )
            return await cur.fetchone()

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
        sender_type: str | None = None,
        external_message_id: str | None = None,
        delivery_status: str | None = None,
        rag_context: dict | None = None,
    ) -> dict:
        """Store a message; re-adding the same id returns the stored one unchanged."""
        message_id = message_id or uuid.uuid4()
        direction = "inbound" if role == "user" else "outbound"
        sender_type = sender_type or ("contact" if role == "user" else "agent")
        async with self.pool.connection() as conn:
            # One statement: insert, update the conversation only if the insert happened, return the stored row.
            cur = await conn.execute(
                "WITH inserted AS ("
                "  INSERT INTO messages (id, conversation_id, role, content, path, reply_to, metadata, direction,"
                "   sender_type, external_message_id, delivery_status, rag_context)"
                "  VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING"
                f"  RETURNING {_MESSAGE_COLUMNS}),"
                " touched AS ("
                "  UPDATE conversations SET last_message_at = now(), message_count = message_count + 1,"
                "   last_message_preview = left(%s, %s)"
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
                    direction,
                    sender_type,
                    external_message_id,
                    delivery_status,
                    Jsonb(rag_context or {}),
                    content,
                    PREVIEW_CHARS,
                    conversation_id,
                    message_id,
                ),
            )
            return await cur.fetchone()

    async def message_for_delivery(self, message_id: uuid.UUID) -> dict | None:
        """A message with what sending it needs: its conversation's channel, agent and contact."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT m.*, c.agent_id, c.channel, c.external_contact_id, c.external_conversation_id"
                " FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = %s",
                (message_id,),
            )
            return await cur.fetchone()

    async def claim_delivery(self, message_id: uuid.UUID, stale_after_s: float) -> bool:
        """Take the right to send a message: one sender at a time; a claim older than stale_after_s (its sender
        died mid-send) can be taken again."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE messages SET delivery_status = 'sending', delivery_claimed_at = now()"
                " WHERE id = %s AND (delivery_status IN ('pending', 'failed')"
                "  OR (delivery_status = 'sending' AND delivery_claimed_at < now() - make_interval(secs => %s)))"
                " RETURNING id",
                (message_id, stale_after_s),
            )
            return await cur.fetchone() is not None

    async def set_delivery(self, message_id: uuid.UUID, status: str, external_message_id: str | None = None) -> None:
        """The sender's verdict: sent (with the platform's id), pending again (to retry) or failed."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE messages SET delivery_status = %s,"
                " external_message_id = coalesce(%s, external_message_id) WHERE id = %s",
                (status, external_message_id, message_id),
            )

    async def update_delivery_by_external(
        self, agent_id: uuid.UUID, channel: str, external_message_id: str, status: str
    ) -> uuid.UUID | None:
        """A platform's status report for one of our messages; only moves forward (failed always applies)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE messages m SET delivery_status = %s FROM conversations c"
                " WHERE c.id = m.conversation_id AND c.agent_id = %s AND c.channel = %s"
                " AND m.external_message_id = %s AND m.direction = 'outbound'"
                " AND (%s = 'failed' OR coalesce(array_position(%s, m.delivery_status), 0)"
                "  < array_position(%s, %s))"
                " RETURNING m.id",
                (status, agent_id, channel, external_message_id, status, _ORDER, _ORDER, status),
            )
            row = await cur.fetchone()
            return row["id"] if row else None

    async def mark_read_until(
        self, agent_id: uuid.UUID, channel: str, contact_id: str, watermark: datetime
    ) -> list[uuid.UUID]:
        """Messenger's read receipt: every message we sent the contact up to the watermark has been read."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE messages m SET delivery_status = 'read' FROM conversations c"
                " WHERE c.id = m.conversation_id AND c.agent_id = %s AND c.channel = %s"
                " AND c.external_contact_id = %s AND m.direction = 'outbound' AND m.created_at <= %s"
                " AND m.delivery_status IN ('sent', 'delivered') RETURNING m.id",
                (agent_id, channel, contact_id, watermark),
            )
            return [row["id"] for row in await cur.fetchall()]

    async def undelivered(self, older_than_s: float, *, limit: int = 100) -> list[uuid.UUID]:
        """Messages waiting to be sent for longer than expected: their delivery job may have been lost."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id FROM messages WHERE delivery_status IN ('pending', 'sending')"
                " AND coalesce(delivery_claimed_at, created_at) < now() - make_interval(secs => %s)"
                " ORDER BY created_at LIMIT %s",
                (older_than_s, limit),
            )
            return [row["id"] for row in await cur.fetchall()]

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

    async def get_message(self, message_id: uuid.UUID) -> dict | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = %s", (message_id,))
            return await cur.fetchone()

    async def replies_to(self, message_id: uuid.UUID) -> list[dict]:
        """The agent's messages answering a user's message, oldest first."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE reply_to = %s ORDER BY seq", (message_id,)
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
