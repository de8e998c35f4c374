"""What every benchmark needs: isolated embedded stores, servers on them, timed SSE turns, percentile tables."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stores import embedded
from tests.utils.api import Api, bearer
from tests.utils.servers import UNLIMITED, ServerProcess

RESULTS = Path(__file__).parent / "results"


class Stores:
    """An isolated embedded Postgres + Redis for one benchmark run, and servers started on them."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.admin_key = f"orch_a_{secrets.token_urlsafe(24)}"
        self.env = {
            "DATABASE_URL": embedded.start_postgres(data_dir, cleanup_mode="delete"),
            "REDIS_URL": embedded.start_redis(data_dir),
            "ORCH_ADMIN_KEY": self.admin_key,
            "ORCH_DATA_DIR": str(data_dir / "server"),
            "LOG_LEVEL": "warning",
            **UNLIMITED,
        }

    def server(self, name: str, **env: str) -> ServerProcess:
        return ServerProcess(self.env | env, self.data_dir / f"{name}.log").start()


@contextlib.contextmanager
def isolated_stores() -> Iterator[Stores]:
    data_dir = Path(tempfile.mkdtemp(prefix="orch-bench-"))
    try:
        yield Stores(data_dir)
    finally:
        embedded.stop_redis(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


async def timed_turn(api: Api, conversation: str, key: str, content: str) -> dict[str, Any]:
    """Milliseconds from sending the request to the decision event, the first token, the final event and done;
    `error` says what went wrong, if anything did."""
    marks: dict[str, Any] = {}
    start = time.perf_counter()
    async with api.client.stream(
        "POST", f"/messaging/conversations/{conversation}/stream", json={"content": content}, headers=bearer(key)
    ) as response:
        if response.status_code != 200:
            await response.aread()
            return {"error": f"status {response.status_code}"}
        async for line in response.aiter_lines():
            now = (time.perf_counter() - start) * 1000
            if line == "event: decision":
                marks.setdefault("decision", now)
            elif line == "event: token":
                marks.setdefault("first_token", now)
            elif line in ("event: message", "event: escalation_offer"):
                marks["final"] = now
            elif line == "event: error":
                marks["error"] = "error event"
            elif line == "event: done":
                marks["done"] = now
    if "done" not in marks:
        marks.setdefault("error", "stream ended without done")
    return marks


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"n": len(ordered), "p50": round(statistics.median(ordered), 2), "p90": pick(0.90), "p99": pick(0.99)}


def print_table(results: dict[str, dict[str, float]]) -> None:
    print(f"{'measurement':<40}{'n':>6}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}")
    for name, stats in results.items():
        print(f"{name:<40}{stats['n']:>6}{stats['p50']:>10}{stats['p90']:>10}{stats['p99']:>10}")


def write_results(name: str, results: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}, **results}
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {path}")
    return path
