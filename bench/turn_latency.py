"""Turn latency over HTTP: a path C turn end to end, and the decision part of a path A turn.

Starts its own isolated embedded Postgres + Redis and an `orchestrator serve` process (offline model), then
drives sequential turns from this process over 127.0.0.1 and prints p50 / p90 / p99 per measurement.

    .venv/bin/python -m bench.turn_latency [--turns 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import secrets
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from stores import embedded
from tests.utils.api import KNOWN_QUESTION, Api, bearer
from tests.utils.servers import ServerProcess

RESULTS = Path(__file__).parent / "results"
CANONICAL = ("Do you offer one-on-one coaching?", "Not right now; the group program opens twice a year.", "public")


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"n": len(ordered), "p50": round(statistics.median(ordered), 2), "p90": pick(0.90), "p99": pick(0.99)}


async def timed_turn(api: Api, conversation: str, key: str, content: str) -> dict[str, float]:
    """Milliseconds from sending the request to the decision event, the first token and `done`."""
    marks: dict[str, float] = {}
    start = time.perf_counter()
    async with api.client.stream(
        "POST", f"/messaging/conversations/{conversation}/stream", json={"content": content}, headers=bearer(key)
    ) as response:
        async for line in response.aiter_lines():
            now = (time.perf_counter() - start) * 1000
            if line == "event: decision":
                marks.setdefault("decision", now)
            elif line == "event: token":
                marks.setdefault("first_token", now)
            elif line == "event: done":
                marks["done"] = now
    return marks


async def measure(base_url: str, admin_key: str, turns: int) -> dict:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        api = Api(client, admin_key)
        world = await api.world(canonical=[CANONICAL])
        key = world.users["paid"]
        conversation = await api.conversation(world, "paid")
        for _ in range(10):  # warm-up: model, pools, plans
            await timed_turn(api, conversation, key, "Do you offer 1-on-1 coaching?")
            await timed_turn(api, conversation, key, KNOWN_QUESTION)
        path_c, path_a = [], []
        for i in range(turns):
            # Fresh conversations now and then keep the history (and so the prompt) short and comparable.
            if i % 20 == 0:
                conversation = await api.conversation(world, "paid")
            path_c.append(await timed_turn(api, conversation, key, "Do you offer 1-on-1 coaching?"))
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

    data_dir = Path(tempfile.mkdtemp(prefix="orch-bench-"))
    admin_key = f"orch_a_{secrets.token_urlsafe(24)}"
    try:
        env = {
            "DATABASE_URL": embedded.start_postgres(data_dir, cleanup_mode="delete"),
            "REDIS_URL": embedded.start_redis(data_dir),
            "ORCH_ADMIN_KEY": admin_key,
            "ORCH_DATA_DIR": str(data_dir / "server"),
            "LOG_LEVEL": "warning",
        }
        server = ServerProcess(env, data_dir / "server.log").start()
        try:
            results = asyncio.run(measure(server.url, admin_key, args.turns))
        finally:
            server.stop()
    finally:
        embedded.stop_redis(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)

    print(f"{'measurement':<24}{'n':>6}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}")
    for name, stats in results.items():
        print(f"{name:<24}{stats['n']:>6}{stats['p50']:>10}{stats['p90']:>10}{stats['p99']:>10}")
    RESULTS.mkdir(exist_ok=True)
    report = {"machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()}, **results}
    (RESULTS / "turn_latency.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {RESULTS / 'turn_latency.json'}")


if __name__ == "__main__":
    main()
