"""Question variants of canonical answers, negative pairs and answer feedback: what an answer was (not) asked by.

Every write that changes what the answer classifier learns from moves `agents.reuse_version` in the same
transaction, so a process sees a stale classifier on the next turn's agent row without an extra query, and stamps
the answer it changed (`canonical_answers.changed_version`), so a stale classifier is still trusted for the others.
"""

from __future__ import annotations

import re
import uuid

import numpy as np
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from llm.answer_classifier import TrainingData
from stores.pgvector_adapt import to_vector

_SPACE = re.compile(r"\s+")
EDGE_CHARACTERS = " .,!?;:'\"()-"  # the same set the migration strips from existing questions

SOURCES = ("original", "creator", "linked", "feedback")
# One statement, so the stamp is the version this very bump made (the agents row lock orders concurrent bumps).
_STAMP_CHANGE = (
    "WITH bumped AS (UPDATE agents SET reuse_version = reuse_version + 1 WHERE id = %s RETURNING reuse_version)"
    " UPDATE canonical_answers SET changed_version = (SELECT reuse_version FROM bumped) WHERE id = %s"
)


async def stamp_change(conn: AsyncConnection, agent_id: uuid.UUID, answer_id: uuid.UUID) -> None:
    """Move the agent's reuse_version (its classifiers are stale) and record it as when this answer changed."""
    await conn.execute(_STAMP_CHANGE, (agent_id, answer_id))


def normalize_question(text: str) -> str:
    """The form duplicates share: lower case, single spaces, no punctuation at the ends."""
    return _SPACE.sub(" ", text.replace("’", "'").lower()).strip(EDGE_CHARACTERS)


def parse_vector(text: str) -> np.ndarray:
    return np.fromstring(text[1:-1], sep=",", dtype=np.float32)


class VariantStore:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def add(
        self,
        answer_id: uuid.UUID,
        question: str,
        embedding: list[float],
        source: str,
        *,
        message_id: uuid.UUID | None = None,
    ) -> dict | None:
        """Add a phrasing to an answer; None when the answer already has it (or no longer exists)."""
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "INSERT INTO canonical_variants"
                " (id, answer_id, agent_id, layer, question, normalized, embedding, source, message_id)"
                " SELECT %s, a.id, a.agent_id, a.layer, %s, %s, %s::vector, %s, %s::uuid FROM canonical_answers a"
                " WHERE a.id = %s ON CONFLICT (answer_id, normalized) DO NOTHING"
                f" RETURNING {_VARIANT_COLUMNS}, agent_id",
                (
                    uuid.uuid4(),
                    question.strip(),
                    normalize_question(question),
                    to_vector(embedding),
                    source,
                    message_id,
                    answer_id,
                ),
            )
            added = await cur.fetchone()
            if added is not None:
                await stamp_change(conn, added["agent_id"], answer_id)
            return added

    async def list(self, answer_id: uuid.UUID) -> list[dict]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_VARIANT_COLUMNS} FROM canonical_variants WHERE answer_id = %s ORDER BY created_at",
                (answer_id,),
            )
            return await cur.fetchall()

    async def remove(self, answer_id: uuid.UUID, variant_id: uuid.UUID) -> str:
        """Remove a learned phrasing: 'removed', 'missing', or 'original' (an answer keeps its own question)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT source, agent_id FROM canonical_variants WHERE id = %s AND answer_id = %s",
                (variant_id, answer_id),
            )
            row = await cur.fetchone()
            if row is None:
                return "missing"
            if row["source"] == "original":
                return "original"
            async with conn.transaction():
                await conn.execute("DELETE FROM canonical_variants WHERE id = %s", (variant_id,))
                await stamp_change(conn, row["agent_id"], answer_id)
            return "removed"

    async def add_negative(
        self, answer_id: uuid.UUID, question: str, embedding: list[float], *, message_id: uuid.UUID | None = None
    ) -> None:
        """Record that `answer_id` did not answer `question`: it is never served for it again."""
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "INSERT INTO canonical_negatives (id, answer_id, agent_id, question, normalized, embedding, message_id)"
                " SELECT %s, a.id, a.agent_id, %s, %s, %s::vector, %s::uuid FROM canonical_answers a WHERE a.id = %s"
                " ON CONFLICT (answer_id, normalized) DO NOTHING RETURNING agent_id",
                (
                    uuid.uuid4(),
                    question.strip(),
                    normalize_question(question),
                    to_vector(embedding),
                    message_id,
                    answer_id,
                ),
            )
            if (added := await cur.fetchone()) is not None:
                await stamp_change(conn, added["agent_id"], answer_id)

    async def negatives(self, answer_id: uuid.UUID) -> list[dict]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id, question, message_id, created_at FROM canonical_negatives WHERE answer_id = %s"
                " ORDER BY created_at",
                (answer_id,),
            )
            return await cur.fetchall()

    async def training_data(self, agent_id: uuid.UUID) -> TrainingData:
        """Every variant and negative pair of the agent, all layers: the classifier must know the whole picture."""
        async with self.pool.connection() as conn:
            variants = await (
                await conn.execute(
                    "SELECT answer_id, embedding::text AS embedding FROM canonical_variants WHERE agent_id = %s",
                    (agent_id,),
                )
            ).fetchall()
            negatives = await (
                await conn.execute(
                    "SELECT answer_id, embedding::text AS embedding FROM canonical_negatives WHERE agent_id = %s",
                    (agent_id,),
                )
            ).fetchall()
        return TrainingData(
            answers=[str(r["answer_id"]) for r in variants],
            vectors=_matrix(variants),
            negative_answers=[str(r["answer_id"]) for r in negatives],
            negative_vectors=_matrix(negatives),
        )

    async def record_feedback(
        self, message_id: uuid.UUID, user_id: uuid.UUID, answered: bool, canonical_answer_id: uuid.UUID | None
    ) -> tuple[dict, bool]:
        """(the stored verdict, whether this call stored it): one verdict per agent message."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO message_feedback (message_id, user_id, answered, canonical_answer_id)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (message_id) DO NOTHING RETURNING *",
                (message_id, user_id, answered, canonical_answer_id),
            )
            row = await cur.fetchone()
            if row is not None:
                return row, True
            cur = await conn.execute("SELECT * FROM message_feedback WHERE message_id = %s", (message_id,))
            return await cur.fetchone(), False


def _matrix(rows: list[dict]) -> np.ndarray:
    return np.vstack([parse_vector(r["embedding"]) for r in rows]) if rows else np.zeros((0, 0), dtype=np.float32)


_VARIANT_COLUMNS = "id, answer_id, question, source, message_id, created_at"
