"""Canonical-answer search at scale: the statements the service runs, on its own table, against exact search.

Fills `canonical_answers` with N random unit vectors (384 dims) spread over A agents, then for random queries
(a stored vector plus noise, so a true nearest exists) measures p50/p99 latency and recall@1 against exact search
within the agent, for: HNSW with the agent filter (what pgvector 0.6.2 can do: it filters after the index scan),
and the exact scan over one agent's rows through the B-tree on (agent_id, layer).

    .venv/bin/python -m bench.vector_search [--sizes 10000:10,10000:1000,100000:10,100000:1000] [--queries 200]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import struct
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import psycopg

from bench.harness import write_results
from stores import embedded
from stores.canonical import CanonicalStore
from stores.database import create_pool, migrate

DIM = 384
LAYERS = ["public", "friends", "intimate"]


def fill(
    url: str, rows: int, agents: int, rng: np.random.Generator, *, hnsw: bool = True
) -> tuple[list[uuid.UUID], np.ndarray, np.ndarray]:
    agent_ids = [uuid.uuid4() for _ in range(agents)]
    vectors = rng.standard_normal((rows, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    owners = rng.integers(0, agents, rows)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE canonical_answers, canonical_reuses, agents, creators CASCADE")
        # Bulk load without the vector index, then build it once: inserting into a live HNSW index row by row
        # took minutes for 100k rows.
        conn.execute("DROP INDEX IF EXISTS canonical_answers_embedding_idx")
        creator = uuid.uuid4()
        conn.execute(
            "INSERT INTO creators (id, handle, display_name) VALUES (%s, %s, 'b')", (creator, f"c{creator.hex[:8]}")
        )
        with conn.cursor().copy("COPY agents (id, creator_id, handle, name) FROM STDIN") as copy:
            for agent_id in agent_ids:
                copy.write_row((agent_id, creator, f"a{agent_id.hex}", "bench"))
        with conn.cursor().copy(
            "COPY canonical_answers (id, agent_id, question, answer, layer, embedding) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.write(BINARY_HEADER)
            for start in range(0, rows, 10_000):
                copy.write(
                    b"".join(
                        _binary_row(agent_ids[owners[i]], LAYERS[i % 3], vectors[i])
                        for i in range(start, min(rows, start + 10_000))
                    )
                )
            copy.write(struct.pack(">h", -1))
        if hnsw:
            conn.execute("SET maintenance_work_mem = '1GB'")  # the HNSW graph must fit, or the build crawls
            conn.execute(
                "CREATE INDEX canonical_answers_embedding_idx ON canonical_answers"
                " USING hnsw (embedding vector_cosine_ops)"
            )
        conn.execute("ANALYZE canonical_answers")
    return agent_ids, vectors, owners


BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)


def _binary_row(agent_id: uuid.UUID, layer: str, vector: np.ndarray) -> bytes:
    """One row of COPY BINARY; pgvector's binary form is int16 dim, int16 unused, then big-endian float4s."""
    embedding = struct.pack(">hh", DIM, 0) + vector.astype(">f4").tobytes()
    fields = [uuid.uuid4().bytes, agent_id.bytes, b"q", b"a", layer.encode(), embedding]
    return struct.pack(">h", len(fields)) + b"".join(struct.pack(">i", len(f)) + f for f in fields)


def exact_nearest(vectors: np.ndarray, owners: np.ndarray, agent: int, query: np.ndarray) -> int:
    mine = np.flatnonzero(owners == agent)
    return int(mine[np.argmax(vectors[mine] @ query)])


async def measure(
    url: str,
    agent_ids: list[uuid.UUID],
    vectors: np.ndarray,
    owners: np.ndarray,
    queries: int,
    rng: np.random.Generator,
    strategies: tuple[str, ...] = ("hnsw_filter", "exact_by_agent"),
) -> dict:
    pool = create_pool(url, max_size=2)
    await pool.open(wait=True)
    store = CanonicalStore(pool)
    ids = await _ids_in_order(pool)
    results: dict[str, dict] = {}
    try:
        for strategy in strategies:
            latencies, hits = [], 0
            for _ in range(queries):
                row = int(rng.integers(0, len(vectors)))
                agent = int(owners[row])
                query = vectors[row] + rng.standard_normal(DIM).astype(np.float32) * 0.02
                query /= np.linalg.norm(query)
                truth = ids[exact_nearest(vectors, owners, agent, query)]
                start = time.perf_counter()
                found = await store.search(agent_ids[agent], query.tolist(), LAYERS, limit=3, strategy=strategy)
                latencies.append((time.perf_counter() - start) * 1000)
                hits += bool(found) and found[0].id == truth
            latencies.sort()
            results[strategy] = {
                "p50_ms": round(statistics.median(latencies), 2),
                "p99_ms": round(latencies[int(0.99 * len(latencies)) - 1], 2),
                "recall_at_1": round(hits / queries, 4),
            }
    finally:
        await pool.close()
    return results


async def _ids_in_order(pool) -> list[uuid.UUID]:  # noqa: ANN001
    """Row ids in insertion order (COPY keeps it in a fresh table): index i is vectors[i]."""
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT id FROM canonical_answers ORDER BY ctid")
        return [r["id"] for r in await cur.fetchall()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000:10,10000:1000,100000:10,100000:1000", help="rows:agents,...")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--exact-only",
        action="store_true",
        help="skip the HNSW build and measure the exact per-agent scan only (the 1M build takes over 30 min here)",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(5)
    random.seed(5)
    data_dir = Path(tempfile.mkdtemp(prefix="orch-vec-"))
    rows_out = []
    try:
        url = embedded.start_postgres(data_dir, cleanup_mode="delete")
        asyncio.run(migrate(url, embedding_dim=DIM))
        for spec in args.sizes.split(","):
            rows, agents = (int(v) for v in spec.split(":"))
            started = time.perf_counter()
            agent_ids, vectors, owners = fill(url, rows, agents, rng, hnsw=not args.exact_only)
            load_s = round(time.perf_counter() - started, 1)
            strategies = ("exact_by_agent",) if args.exact_only else ("hnsw_filter", "exact_by_agent")
            result = asyncio.run(measure(url, agent_ids, vectors, owners, args.queries, rng, strategies))
            row = {"rows": rows, "agents": agents, "load_and_index_s": load_s, **result}
            rows_out.append(row)
            print(row, flush=True)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"\n{'rows':>8}{'agents':>8}  {'strategy':<16}{'p50 ms':>8}{'p99 ms':>8}{'recall@1':>10}")
    for row in rows_out:
        for strategy in ("hnsw_filter", "exact_by_agent"):
            if strategy not in row:
                continue
            s = row[strategy]
            print(
                f"{row['rows']:>8}{row['agents']:>8}  {strategy:<16}{s['p50_ms']:>8}{s['p99_ms']:>8}{s['recall_at_1']:>10}"
            )
    write_results("vector_search_exact" if args.exact_only else "vector_search", {"rows": rows_out})


if __name__ == "__main__":
    main()
