"""Turn latency over HTTP: a path C turn end to end, and the decision part of a path A turn.

Starts its own isolated embedded Postgres + Redis and an `orchestrator serve` process (offline model), then
drives sequential turns from this process over 127.0.0.1 and prints p50 / p90 / p99 per measurement.

    .venv/bin/python -m bench.turn_latency [--turns 200]
"""

from __future__ import annotations

import argparse
import asyncio

import httpx

from bench.harness import isolated_stores, percentiles, print_table, timed_turn, write_results
from tests.utils.api import KNOWN_QUESTION, Api

CANONICAL = ("Do you offer one-on-one coaching?", "Not right now; the group program opens twice a year.", "public")
PARAPHRASE = "Do you offer 1-on-1 coaching?"


async def measure(base_url: str, admin_key: str, turns: int) -> dict:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        api = Api(client, admin_key)
        world = await api.world(canonical=[CANONICAL])
        key = world.users["paid"]
        conversation = await api.conversation(world, "paid")
        for _ in range(10):  # warm-up: model, pools, plans
            await timed_turn(api, conversation, key, PARAPHRASE)
            await timed_turn(api, conversation, key, KNOWN_QUESTION)
        path_c, path_a = [], []
        for i in range(turns):
            # Fresh conversations now and then keep the history (and so the prompt) short and comparable.
            if i % 20 == 0:
                conversation = await api.conversation(world, "paid")
            path_c.append(await timed_turn(api, conversation, key, PARAPHRASE))
            path_a.append(await timed_turn(api, conversation, key, KNOWN_QUESTION))
    return {
        "path_c_turn_ms": percentiles([m["done"] for m in path_c]),
        "path_c_decision_ms": percentiles([m["decision"] for m in path_c]),
        "path_a_decision_ms": percentiles([m["decision"] for m in path_a]),
        "path_a_first_token_ms": percentiles([m["first_token"] for m in path_a]),
        "path_a_turn_ms": percentiles([m["done"] for m in path_a]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=200, help="turns of each path to time")
    args = parser.parse_args()
    with isolated_stores() as stores:
        server = stores.server("server")
        try:
            results = asyncio.run(measure(server.url, stores.admin_key, args.turns))
        finally:
            server.stop()
    print_table(results)
    write_results("turn_latency", results)


if __name__ == "__main__":
    main()
