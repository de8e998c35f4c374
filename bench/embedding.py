"""Query embedding cost: one at a time, and under concurrency with and without coalescing into small batches.

.venv/bin/python -m bench.embedding [--queries 400]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from bench.harness import percentiles, write_results
from evals.clinc import load_clinc
from llm.embeddings import LocalEmbedder


async def run(embedder: LocalEmbedder, texts: list[str], concurrency: int) -> dict:
    latencies: list[float] = []
    queue = list(texts)

    async def client() -> None:
        while queue:
            text = queue.pop()
            start = time.perf_counter()
            await embedder.embed_one(text)
            latencies.append((time.perf_counter() - start) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return percentiles(latencies) | {"per_s": round(len(texts) / elapsed, 1)}


async def main_async(queries: int) -> dict:
    by_intent, _ = load_clinc()
    pool = [text for texts in by_intent.values() for text in texts]
    plain, coalesced = LocalEmbedder(coalesce_ms=0), LocalEmbedder(coalesce_ms=2)
    await plain.embed(["warm up"])
    await coalesced.embed(["warm up"])
    results = {}
    offset = 0
    for concurrency in (1, 8, 32):
        for name, embedder in (("plain", plain), ("coalesced", coalesced)):
            texts = pool[offset : offset + queries]  # fresh texts: no cache hits
            offset += queries
            results[f"{name}, concurrency {concurrency}"] = await run(embedder, texts, concurrency)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    results = asyncio.run(main_async(args.queries))
    print(f"{'embedding':<26}{'p50 ms':>8}{'p99 ms':>8}{'per s':>8}")
    for name, r in results.items():
        print(f"{name:<26}{r['p50']:>8}{r['p99']:>8}{r['per_s']:>8}")
    write_results("embedding", results)


if __name__ == "__main__":
    main()
