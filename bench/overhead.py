"""Orchestration overhead: time to the first token of the same path A turn, through Orchestrator vs a bare
ChatOpenAI stream in a minimal FastAPI + sse-starlette endpoint, against the same OpenAI-compatible stub.

    .venv/bin/python -m bench.overhead [--turns 100] [--token-ms 10]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

import httpx

from bench.harness import isolated_stores, percentiles, timed_turn, write_results
from tests.utils.api import KNOWN_QUESTION, Api
from tests.utils.openai_stub import OpenAIStub
from tests.utils.servers import free_port


async def bare_first_tokens(url: str, turns: int) -> list[float]:
    samples = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        for i in range(turns + 5):
            start = time.perf_counter()
            first = None
            async with client.stream("POST", "/stream", json={"content": KNOWN_QUESTION}) as response:
                async for line in response.aiter_lines():
                    if line == "event: token" and first is None:
                        first = (time.perf_counter() - start) * 1000
            if i >= 5:
                samples.append(first)
    return samples


async def orchestrator_first_tokens(url: str, admin_key: str, turns: int) -> list[float]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        api = Api(client, admin_key)
        world = await api.world()
        key = world.users["paid"]
        samples = []
        for i in range(turns + 5):
            if i % 20 == 0:
                conversation = await api.conversation(world, "paid")
            marks = await timed_turn(api, conversation, key, KNOWN_QUESTION)
            if i >= 5:
                samples.append(marks["first_token"])
    return samples


def wait_until_up(url: str) -> None:
    for _ in range(200):
        try:
            httpx.post(f"{url}/stream", json={"content": "x"}, timeout=5)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("bare endpoint did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--token-ms", type=float, default=10.0)
    args = parser.parse_args()
    stub = OpenAIStub(
        answer="Aim for 1.6 to 2.2 grams of protein per kilogram each day.", token_delay_s=args.token_ms / 1000
    ).start()
    port = free_port()
    bare = subprocess.Popen([sys.executable, "-m", "bench.bare_endpoint", str(port), stub.base_url])
    try:
        wait_until_up(f"http://127.0.0.1:{port}")
        with isolated_stores() as stores:
            server = stores.server(
                "overhead", OPENAI_API_KEY="sk-bench", OPENAI_BASE_URL=stub.base_url, OPENAI_MODEL="stub"
            )
            try:
                orchestrated = asyncio.run(orchestrator_first_tokens(server.url, stores.admin_key, args.turns))
            finally:
                server.stop()
        baseline = asyncio.run(bare_first_tokens(f"http://127.0.0.1:{port}", args.turns))
    finally:
        bare.terminate()
        stub.stop()
    a, b = percentiles(orchestrated), percentiles(baseline)
    results = {
        "orchestrator_first_token_ms": a,
        "bare_first_token_ms": b,
        "added_ms_p50": round(a["p50"] - b["p50"], 2),
        "ratio_p50": round(a["p50"] / b["p50"], 2),
    }
    print(f"{'first token':<28}{'p50':>8}{'p90':>8}{'p99':>8}")
    print(f"{'Orchestrator (path A)':<28}{a['p50']:>8}{a['p90']:>8}{a['p99']:>8}")
    print(f"{'bare ChatOpenAI endpoint':<28}{b['p50']:>8}{b['p90']:>8}{b['p99']:>8}")
    print(f"added before the first token: {results['added_ms_p50']} ms at p50 (ratio {results['ratio_p50']})")
    write_results("overhead", results)


if __name__ == "__main__":
    main()
