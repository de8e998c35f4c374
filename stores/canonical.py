"""Canonical answers: the creator's own words, each with the embedding of the question it answers."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from stores.pgvector_adapt import to_vector


@dataclass(frozen=True, slots=True)
class CanonicalHit:
    """A candidate canonical answer and the cosine similarity of its question to the asked one."""

    id: uuid.UUID
    question: str
    answer: str
    layer: str
    similarity: float


# Up to this many answers an agent's rows are scanned exactly (~2.6 µs each here: 1k rows 1.8 ms, 10k rows 26 ms);
# beyond it HNSW is faster (10k rows: 12 ms, recall@1 0.995). bench/vector_search.py measured both.
EXACT_SCAN_MAX_ROWS = 2000
COUNT_TTL_S = 60.0


class CanonicalStore:
    """Canonical answers of an agent, searched only within the layers the asking user's tier admits."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool
        self._counts: dict[uuid.UUID, tuple[float, int]] = {}  # agent -> (when counted, answers)

    async def create(
        self,
        agent_id: uuid.UUID,
        question: str,
        answer: str,
        layer: str,
        embedding: list[float],
        *,
        answer_id: uuid.UUID | None = None,
        escalation_id: uuid.UUID | None = None,
    ) -> dict:
        """Insert an answer; with a given id the insert is idempotent and returns the stored row."""
        answer_id = answer_id or uuid.uuid4()
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO canonical_answers (id, agent_id, question, answer, layer, embedding, escalation_id)"
                " VALUES (%s, %s, %s, %s, %s, %s::vector, %s) ON CONFLICT (id) DO NOTHING",
                (answer_id, agent_id, question, answer, layer, to_vector(embedding), escalation_id),
            )
            cur = await conn.execute(f"SELECT {_COLUMNS} FROM canonical_answers WHERE id = %s", (answer_id,))
            return await cur.fetchone()

    async def list(self, agent_id: uuid.UUID) -> list[dict]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM canonical_answers WHERE agent_id = %s ORDER BY created_at",
                (agent_id,),
            )
            return await cur.fetchall()

    async def search(
        self,
        agent_id: uuid.UUID,
        embedding: list[float],
        layers: list[str],
        *,
        limit: int = 3,
        strategy: str | None = None,
    ) -> list[CanonicalHit]:
        """Nearest answers by question embedding; the layer filter applies before anything is returned.

        `exact_by_agent` scans the agent's own rows through the (agent_id, layer) B-tree: exact, and the fastest
        for the hundreds of answers a creator writes. `hnsw_filter` uses the HNSW index (ef_search 200), which
        pgvector 0.6 filters by agent only after its scan; it wins for agents with many thousands of answers.
        Without a strategy, the agent's size picks one.
        """
        strategy = strategy or await self._strategy_for(agent_id)
        vec = to_vector(embedding)
        # Exact: ordering by the output column computes each distance once, and keeps the planner off the HNSW
        # index (the expression no longer matches it). HNSW: the index needs the bare distance expression.
        exact = strategy == "exact_by_agent"
        order = "similarity DESC" if exact else "embedding <=> %s::vector"
        query = (
            "SELECT id, question, answer, layer, 1 - (embedding <=> %s::vector) AS similarity"
            " FROM canonical_answers WHERE agent_id = %s AND layer = ANY(%s)"
            f" ORDER BY {order} LIMIT %s"
        )
        params = (vec, agent_id, layers, limit) if exact else (vec, agent_id, layers, vec, limit)
        async with self.pool.connection() as conn:
            if strategy == "hnsw_filter":
                async with conn.transaction():  # SET LOCAL lives as long as the transaction
                    await conn.execute("SET LOCAL hnsw.ef_search = 200")
                    rows = await (await conn.execute(query, params)).fetchall()
            else:
                rows = await (await conn.execute(query, params)).fetchall()
        return [CanonicalHit(r["id"], r["question"], r["answer"], r["layer"], float(r["similarity"])) for r in rows]

    async def update(
        self, answer_id: uuid.UUID, *, question: str, answer: str, layer: str, embedding: list[float] | None
    ) -> dict:
        """Edit an answer; a changed question comes with its new embedding."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE canonical_answers SET question = %s, answer = %s, layer = %s, updated_at = now(),"
                " embedding = coalesce(%s::vector, embedding) WHERE id = %s"
                f" RETURNING {_COLUMNS}",
                (question, answer, layer, to_vector(embedding) if embedding else None, answer_id),
            )
            return await cur.fetchone()

    async def get(self, answer_id: uuid.UUID) -> dict | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(f"SELECT {_COLUMNS} FROM canonical_answers WHERE id = %s", (answer_id,))
            return await cur.fetchone()

    async def _strategy_for(self, agent_id: uuid.UUID) -> str:
        counted = self._counts.get(agent_id)
        if counted is None or time.monotonic() - counted[0] > COUNT_TTL_S:
            async with self.pool.connection() as conn:
                cur = await conn.execute("SELECT count(*) AS n FROM canonical_answers WHERE agent_id = %s", (agent_id,))
                counted = (time.monotonic(), (await cur.fetchone())["n"])
            self._counts[agent_id] = counted
        return "exact_by_agent" if counted[1] <= EXACT_SCAN_MAX_ROWS else "hnsw_filter"

    async def count_reuse(self, answer_id: uuid.UUID, message_id: uuid.UUID) -> None:
        """Count one reuse per asking message, however often the serving step runs."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "WITH served AS ("
                "  INSERT INTO canonical_reuses (message_id, canonical_answer_id) VALUES (%s, %s)"
                "  ON CONFLICT DO NOTHING RETURNING 1)"
                " UPDATE canonical_answers SET times_reused = times_reused + (SELECT count(*) FROM served)"
                " WHERE id = %s",
                (message_id, answer_id, answer_id),
            )


_COLUMNS = "id, agent_id, question, answer, layer, escalation_id, times_reused, created_at, updated_at"
