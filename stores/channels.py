"""Channel connections (an agent's Telegram bot, WhatsApp number, Facebook page...) and the sync log.

Secrets the service only compares (Telegram's secret token, Meta's verify token) are stored as sha256 hashes and
compared in constant time; what it must use in the clear to sign or send (Meta's app secret, access tokens) is
stored as given and never returned by the API.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

MESSAGING_CHANNELS = ("telegram", "whatsapp", "messenger", "instagram")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str | None, stored_hash: str | None) -> bool:
    if not token or not stored_hash:
        return False
    return hmac.compare_digest(token_hash(token), stored_hash)


class ChannelStore:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def connect(
        self,
        agent_id: uuid.UUID,
        channel: str,
        *,
        credentials: dict,
        signing_secret: str | None,
        verify_token: str | None,
        api_base_url: str,
        contact_tier: str,
        enabled: bool,
    ) -> dict:
        """Create or replace the agent's connection to a channel."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO channel_connections (agent_id, channel, credentials, signing_secret, verify_token_hash,"
                " api_base_url, contact_tier, enabled) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (agent_id, channel) DO UPDATE SET credentials = EXCLUDED.credentials,"
                " signing_secret = EXCLUDED.signing_secret, verify_token_hash = EXCLUDED.verify_token_hash,"
                " api_base_url = EXCLUDED.api_base_url, contact_tier = EXCLUDED.contact_tier,"
                " enabled = EXCLUDED.enabled, updated_at = now() RETURNING *",
                (
                    agent_id,
                    channel,
                    Jsonb(credentials),
                    signing_secret,
                    token_hash(verify_token) if verify_token else None,
                    api_base_url,
                    contact_tier,
                    enabled,
                ),
            )
            return await cur.fetchone()

    async def enabled(self, agent_id: uuid.UUID, channel: str) -> dict | None:
        """The agent's connection to the channel, if there is one and it is switched on."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT * FROM channel_connections WHERE agent_id = %s AND channel = %s AND enabled",
                (agent_id, channel),
            )
            return await cur.fetchone()

    async def list(self, agent_id: uuid.UUID) -> list[dict]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT * FROM channel_connections WHERE agent_id = %s ORDER BY channel", (agent_id,)
            )
            return await cur.fetchall()

    async def record(
        self,
        agent_id: uuid.UUID,
        channel: str,
        kind: str,
        *,
        conversation_id: uuid.UUID | None = None,
        message_id: uuid.UUID | None = None,
        external_message_id: str | None = None,
        status: str | None = None,
        error: str | None = None,
        attempts: int = 0,
    ) -> None:
        """One line of the sync log: received, sent, status_update, retry, failed or dead_letter."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO channel_events (agent_id, channel, kind, conversation_id, message_id,"
                " external_message_id, status, error, attempts) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (agent_id, channel, kind, conversation_id, message_id, external_message_id, status, error, attempts),
            )

    async def events(self, agent_id: uuid.UUID, *, limit: int = 200) -> list[dict]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT * FROM channel_events WHERE agent_id = %s ORDER BY id DESC LIMIT %s", (agent_id, limit)
            )
            return await cur.fetchall()

    async def counts(self, agent_id: uuid.UUID, days: int) -> dict[str, dict[str, int]]:
        """Per channel: conversations, messages in and out, and outbound messages by delivery status."""
        since = f"{days} days"
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT c.channel,"
                " count(DISTINCT c.id) AS conversations,"
                " count(m.id) FILTER (WHERE m.direction = 'inbound') AS received,"
                " count(m.id) FILTER (WHERE m.direction = 'outbound') AS sent,"
                " count(m.id) FILTER (WHERE m.delivery_status = 'delivered') AS delivered,"
                " count(m.id) FILTER (WHERE m.delivery_status = 'read') AS read,"
                " count(m.id) FILTER (WHERE m.delivery_status = 'failed') AS failed"
                " FROM conversations c LEFT JOIN messages m"
                "  ON m.conversation_id = c.id AND m.created_at >= now() - %s::interval"
                " WHERE c.agent_id = %s GROUP BY c.channel",
                (since, agent_id),
            )
            counts = {row.pop("channel"): row for row in await cur.fetchall()}
            cur = await conn.execute(
                "SELECT channel, count(*) AS n FROM channel_events WHERE agent_id = %s AND kind = 'dead_letter'"
                " AND created_at >= now() - %s::interval GROUP BY channel",
                (agent_id, since),
            )
            for row in await cur.fetchall():
                counts.setdefault(row["channel"], {})["dead_letters"] = row["n"]
        return {channel: {"dead_letters": 0} | values for channel, values in counts.items()}
