"""Agents and their orchestration config."""

from __future__ import annotations

import uuid

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from graphs.config import AgentConfig


class AgentStore:
    """Agents owned by creators; the config column holds only validated AgentConfig JSON."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def create(
        self, creator_id: uuid.UUID, handle: str, name: str, persona: str, config: AgentConfig | None = None
    ) -> dict:
        config = config or AgentConfig()
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO agents (id, creator_id, handle, name, persona, config)"
                " VALUES (%s, %s, %s, %s, %s, %s) RETURNING *",
                (uuid.uuid4(), creator_id, handle, name, persona, Jsonb(config.model_dump(mode="json"))),
            )
            return await cur.fetchone()

    async def get(self, agent_id: uuid.UUID) -> dict | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT a.*, c.display_name AS creator_name, c.handle AS creator_handle"
                " FROM agents a JOIN creators c ON c.id = a.creator_id WHERE a.id = %s",
                (agent_id,),
            )
            return await cur.fetchone()

    async def find(self, handle: str) -> dict | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT * FROM agents WHERE handle = %s", (handle,))
            return await cur.fetchone()

    async def list_for_creator(self, creator_id: uuid.UUID) -> list[dict]:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT * FROM agents WHERE creator_id = %s ORDER BY created_at", (creator_id,))
            return await cur.fetchall()

    async def list_all(self) -> list[dict]:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT id, handle, name, persona, enabled FROM agents ORDER BY created_at")
            return await cur.fetchall()

    async def update_config(self, agent_id: uuid.UUID, config: AgentConfig, enabled: bool | None = None) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE agents SET config = %s, enabled = coalesce(%s, enabled) WHERE id = %s",
                (Jsonb(config.model_dump(mode="json")), enabled, agent_id),
            )
