"""The creator's knowledge: documents split into chunks, each with its embedding, searched by pgvector."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from stores.pgvector_adapt import to_vector

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def chunk_text(text: str, *, max_chars: int = 600) -> list[str]:
    """Split text into chunks of whole sentences, paragraphs kept apart, each at most ~max_chars."""
    chunks: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        current = ""
        for sentence in _SENTENCE_END.split(" ".join(paragraph.split())):
            if current and len(current) + 1 + len(sentence) > max_chars:
                chunks.append(current)
                current = sentence
            else:
                current = f"{current} {sentence}".strip()
        if current:
            chunks.append(current)
    return chunks


@dataclass(frozen=True, slots=True)
class KnowledgeHit:
    """One retrieved chunk and its cosine similarity to the question."""

    chunk_id: uuid.UUID
    title: str
    text: str
    similarity: float


class KnowledgeStore:
    """Documents and chunks of one agent's knowledge."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def add_document(
        self, agent_id: uuid.UUID, title: str, text: str, chunks: list[str], embeddings: list[list[float]]
    ) -> uuid.UUID:
        document_id = uuid.uuid4()
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO knowledge_documents (id, agent_id, title, text) VALUES (%s, %s, %s, %s)",
                (document_id, agent_id, title, text),
            )
            async with conn.cursor() as cur:
                await cur.executemany(
                    "INSERT INTO knowledge_chunks (id, document_id, agent_id, ordinal, title, text, embedding)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s::vector)",
                    [
                        (uuid.uuid4(), document_id, agent_id, i, title, chunk, to_vector(embedding))
                        for i, (chunk, embedding) in enumerate(zip(chunks, embeddings, strict=True))
                    ],
                )
        return document_id

    async def search(self, agent_id: uuid.UUID, embedding: list[float], *, limit: int = 4) -> list[KnowledgeHit]:
        """The agent's chunks nearest the question, best first: an exact scan of the agent's own chunks.

        Ordering by the output column keeps the planner off the HNSW index, which pgvector 0.6 filters by agent
        only after its scan (too few rows for one agent among many; see bench/vector_search.py), and computes each
        distance once.
        """
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id, title, text, 1 - (embedding <=> %s::vector) AS similarity"
                " FROM knowledge_chunks WHERE agent_id = %s ORDER BY similarity DESC LIMIT %s",
                (to_vector(embedding), agent_id, limit),
            )
            rows = await cur.fetchall()
        return [KnowledgeHit(r["id"], r["title"], r["text"], float(r["similarity"])) for r in rows]
