"""Canonical answers: the creator's own words, searched through the question phrasings (variants) each gathered.

An answer's own question is its first variant (same id as the answer); stores/variants.py adds the others.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from stores.pgvector_adapt import to_vector
from stores.variants import normalize_question, stamp_change


@dataclass(frozen=True, slots=True)
class CanonicalHit:
    """A candidate canonical answer: its phrasing nearest to the asked question, and their cosine similarity."""

    id: uuid.UUID
    question: str
    """The nearest of the answer's phrasings (its own question or a variant)."""
    answer: str
    layer: str
    similarity: float
    changed_version: int = 0
    """The agent's reuse_version when the answer's phrasings or negative pairs last changed."""


# Up to this many phrasings an agent's rows are scanned exactly (~2.6 µs each here: 1k rows 1.8 ms, 10k rows 26 ms);
# beyond it HNSW is faster (10k rows: 12 ms, recall@1 0.995). bench/vector_search.py measured both.
EXACT_SCAN_MAX_ROWS = 2000
COUNT_TTL_S = 60.0
PHRASINGS_PER_ANSWER = 8


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
        """Insert an answer with its question as first variant; with a given id the insert is idempotent."""
        answer_id = answer_id or uuid.uuid4()
        vector = to_vector(embedding)
        async with self.pool.connection() as conn:
            async with conn.transaction():
                cur = await conn.execute(
                    "WITH answer AS ("
                    "  INSERT INTO canonical_answers (id, agent_id, question, answer, layer, embedding, escalation_id)"
                    "  VALUES (%s, %s, %s, %s, %s, %s::vector, %s) ON CONFLICT (id) DO NOTHING RETURNING id),"
                    " variant AS ("
                    "  INSERT INTO canonical_variants"
                    "   (id, answer_id, agent_id, layer, question, normalized, embedding, source)"
                    "  SELECT id, id, %s, %s, %s, %s, %s::vector, 'original' FROM answer)"
                    " SELECT id FROM answer",
                    (answer_id, agent_id, question, answer, layer, vector, escalation_id)
                    + (agent_id, layer, question, normalize_question(question), vector),
                )
                if await cur.fetchone() is not None:
                    await stamp_change(conn, agent_id, answer_id)
            cur = await conn.execute(f"SELECT {_COLUMNS} FROM canonical_answers WHERE id = %s", (answer_id,))
            return await cur.fetchone()

    async def list(self, agent_id: uuid.UUID) -> list[dict]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS}, (SELECT count(*) FROM canonical_variants v WHERE v.answer_id = a.id) AS variants"
                " FROM canonical_answers a WHERE agent_id = %s ORDER BY created_at",
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
        """Nearest answers by their nearest phrasing; the layer filter applies before anything is returned.

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
        # Phrasings, not answers, are ranked: enough of them to find `limit` distinct answers in nearly every case.
        query = (
            "SELECT v.answer_id AS id, v.question, a.answer, a.layer, a.changed_version,"
            " 1 - (v.embedding <=> %s::vector) AS similarity"
            " FROM canonical_variants v JOIN canonical_answers a ON a.id = v.answer_id"
            " WHERE v.agent_id = %s AND v.layer = ANY(%s)"
            f" ORDER BY {order.replace('embedding', 'v.embedding')} LIMIT %s"
        )
        phrasings = limit * PHRASINGS_PER_ANSWER
        params = (vec, agent_id, layers, phrasings) if exact else (vec, agent_id, layers, vec, phrasings)
        async with self.pool.connection() as conn:
            if strategy == "hnsw_filter":
                async with conn.transaction():  # SET LOCAL lives as long as the transaction
                    await conn.execute("SET LOCAL hnsw.ef_search = 200")
                    rows = await (await conn.execute(query, params)).fetchall()
            else:
                rows = await (await conn.execute(query, params)).fetchall()
        hits: dict[uuid.UUID, CanonicalHit] = {}
        for r in rows:  # best first: an answer's first row is its nearest phrasing
            if r["id"] not in hits and len(hits) < limit:
                hits[r["id"]] = CanonicalHit(
                    r["id"], r["question"], r["answer"], r["layer"], float(r["similarity"]), r["changed_version"]
                )
        return list(hits.values())

    async def update(
        self, answer_id: uuid.UUID, *, question: str, answer: str, layer: str, embedding: list[float] | None
    ) -> dict:
        """Edit an answer; a changed question comes with its new embedding and replaces the original variant."""
        vector = to_vector(embedding) if embedding else None
        async with self.pool.connection() as conn:
            async with conn.transaction():
                cur = await conn.execute(
                    "UPDATE canonical_answers SET question = %s, answer = %s, layer = %s, updated_at = now(),"
                    " embedding = coalesce(%s::vector, embedding) WHERE id = %s"
                    f" RETURNING {_COLUMNS}",
                    (question, answer, layer, vector, answer_id),
                )
                row = await cur.fetchone()
                if row is None:
                    return None
                # Every phrasing takes the answer's layer: search filters on the variant's copy.
                await conn.execute("UPDATE canonical_variants SET layer = %s WHERE answer_id = %s", (layer, answer_id))
                if vector is not None:
                    await conn.execute(
                        "DELETE FROM canonical_variants WHERE answer_id = %s AND normalized = %s AND id <> %s",
                        (answer_id, normalize_question(question), answer_id),
                    )
                    await conn.execute(
                        "UPDATE canonical_variants SET question = %s, normalized = %s, embedding = %s::vector"
                        " WHERE id = %s",
                        (question, normalize_question(question), vector, answer_id),
                    )
                await stamp_change(conn, row["agent_id"], answer_id)
            return row

    async def get(self, answer_id: uuid.UUID) -> dict | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(f"SELECT {_COLUMNS} FROM canonical_answers WHERE id = %s", (answer_id,))
            return await cur.fetchone()

    async def _strategy_for(self, agent_id: uuid.UUID) -> str:
        counted = self._counts.get(agent_id)
        if counted is None or time.monotonic() - counted[0] > COUNT_TTL_S:
            async with self.pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT count(*) AS n FROM canonical_variants WHERE agent_id = %s", (agent_id,)
                )
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
