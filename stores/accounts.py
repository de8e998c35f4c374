"""Creators, users and their API keys (stored as SHA-256 hashes, never in the clear), and key rotation."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a role and, for creators and users, their id."""

    role: str
    id: uuid.UUID | None
    handle: str | None = None
    tier: str | None = None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key(role: str) -> str:
    return f"orch_{role[0]}_{secrets.token_urlsafe(32)}"


class AccountStore:
    """Creators, users and key lookups over an injected pool."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def ensure_admin_key(self, key: str) -> None:
        """Register the admin key (idempotent)."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO api_keys (key_hash, role) VALUES (%s, 'admin') ON CONFLICT DO NOTHING",
                (hash_key(key),),
            )

    async def create_creator(self, handle: str, display_name: str) -> tuple[dict, str]:
        return await self._create_with_key(
            "creator",
            "INSERT INTO creators (id, handle, display_name) VALUES (%s, %s, %s) RETURNING *",
            (handle, display_name),
        )

    async def create_user(self, handle: str, tier: str) -> tuple[dict, str]:
        return await self._create_with_key(
            "user", "INSERT INTO users (id, handle, tier) VALUES (%s, %s, %s) RETURNING *", (handle, tier)
        )

    async def user_for_contact(self, agent_id: uuid.UUID, channel: str, contact_id: str, tier: str) -> dict:
        """The user behind a channel contact (one per agent, channel and contact); they need no API key."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO users (id, handle, tier, channel, external_id) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (handle) DO UPDATE SET handle = EXCLUDED.handle RETURNING *",
                (uuid.uuid4(), f"{channel}:{agent_id}:{contact_id}", tier, channel, contact_id),
            )
            return await cur.fetchone()

    async def _create_with_key(self, role: str, insert: str, values: tuple) -> tuple[dict, str]:
        """Insert a creator or user and its key in one transaction; returns (row, the key in the clear, once)."""
        principal_id, key = uuid.uuid4(), new_key(role)
        async with self.pool.connection() as conn, conn.transaction():
            row = await (await conn.execute(insert, (principal_id, *values))).fetchone()  # type: ignore[arg-type]
            await conn.execute(
                "INSERT INTO api_keys (key_hash, role, principal_id) VALUES (%s, %s, %s)",
                (hash_key(key), role, principal_id),
            )
        return row, key

    async def authenticate(self, key: str) -> Principal | None:
        """The principal behind a key, or None. Lookup is by hash, so timing reveals nothing of the key."""
        digest = hash_key(key)
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT k.key_hash, k.role, k.principal_id, coalesce(c.handle, u.handle) AS handle, u.tier"
                " FROM api_keys k"
                " LEFT JOIN creators c ON k.role = 'creator' AND c.id = k.principal_id"
                " LEFT JOIN users u ON k.role = 'user' AND u.id = k.principal_id"
                " WHERE k.key_hash = %s AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())",
                (digest,),
            )
            row = await cur.fetchone()
        # The index finds the row by hash; comparing the hashes again in constant time keeps the decision itself
        # free of early exits whatever the index does.
        if row is None or not hmac.compare_digest(row["key_hash"], digest):
            return None
        return Principal(role=row["role"], id=row["principal_id"], handle=row["handle"], tier=row["tier"])

    async def rotate_key(self, role: str, principal_id: uuid.UUID | None, grace_s: int) -> tuple[str, dict]:
        """A new key for the principal (the admin role when principal_id is None); their other keys stop working
        after `grace_s` seconds (0: now). Returns (the new key in the clear, once; when the old ones expire)."""
        key = new_key(role)
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "UPDATE api_keys SET expires_at = least(coalesce(expires_at, 'infinity'),"
                "  now() + make_interval(secs => %s))"
                " WHERE role = %s AND principal_id IS NOT DISTINCT FROM %s::uuid AND revoked_at IS NULL"
                " RETURNING expires_at",
                (grace_s, role, principal_id),
            )
            expiring = await cur.fetchall()
            await conn.execute(
                "INSERT INTO api_keys (key_hash, role, principal_id) VALUES (%s, %s, %s)",
                (hash_key(key), role, principal_id),
            )
        latest = max((row["expires_at"] for row in expiring), default=None)
        return key, {"previous_keys": len(expiring), "previous_keys_expire_at": latest}

    async def get_user(self, user_id: uuid.UUID) -> dict | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT * FROM users WHERE id = %s", (user_id,))
            return await cur.fetchone()

    async def get_creator(self, creator_id: uuid.UUID) -> dict | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT * FROM creators WHERE id = %s", (creator_id,))
            return await cur.fetchone()

    async def find_creator(self, handle: str) -> dict | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT * FROM creators WHERE handle = %s", (handle,))
            return await cur.fetchone()

    async def find_user(self, handle: str) -> dict | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT * FROM users WHERE handle = %s", (handle,))
            return await cur.fetchone()
