"""Every performance benchmark, three runs each, against its target: min / median / max, as the machine's noise.

Runs each benchmark script in its own process, reads the JSON it writes, and prints one table; writes
bench/results/suite.json. `make bench` runs this.

    .venv/bin/python -m bench.suite [--runs 3] [--only load,overhead,...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.harness import RESULTS, write_results


@dataclass(frozen=True)
class Metric:
    name: str
    target: str
    read: Callable[[dict], float]
    meets: Callable[[float], bool]


def _load_row(result: dict, path: str, concurrency: int) -> dict:
    return next(r for r in result["rows"] if r["path"] == path and r["concurrency"] == concurrency)


BENCHMARKS: dict[str, tuple[list[str], str, list[Metric]]] = {
    "load": (
        ["bench.load", "--workers", "2"],
        "load_w2",
        [
            Metric(
                "path C turn p50, c=1 (ms)",
                "<= 15",
                lambda r: _load_row(r, "C", 1)["turn_ms"]["p50"],
                lambda v: v <= 15,
            ),
            Metric(
                "path C turn p99, c=1 (ms)",
                "<= 60",
                lambda r: _load_row(r, "C", 1)["turn_ms"]["p99"],
                lambda v: v <= 60,
            ),
            Metric(
                "path C turns/s, c=32, 2 workers",
                ">= 250",
                lambda r: _load_row(r, "C", 32)["turns_per_s"],
                lambda v: v >= 250,
            ),
            Metric("errors, all levels", "0", lambda r: sum(row["errors"] for row in r["rows"]), lambda v: v == 0),
            Metric(
                "server + Postgres CPU per C turn, c=32 (ms)",
                "(explains turns/s)",
                lambda r: (
                    _load_row(r, "C", 32)["server_cpu_ms_per_turn"] + _load_row(r, "C", 32)["postgres_cpu_ms_per_turn"]
                ),
                lambda v: True,
            ),
        ],
    ),
    "overhead": (
        ["bench.overhead"],
        "overhead",
        [
            Metric(
                "added before path A's first token, p50 (ms)", "<= 20", lambda r: r["added_ms_p50"], lambda v: v <= 20
            )
        ],
    ),
    "langgraph_dev": (
        ["bench.versus_langgraph_dev", "--turns", "20"],
        "versus_langgraph_dev",
        [Metric("faster than langgraph dev, p50 (x)", ">= 20", lambda r: r["speedup_p50"], lambda v: v >= 20)],
    ),
    "vector_search": (
        ["bench.vector_search", "--sizes", "1000000:1000", "--exact-only"],
        "vector_search_exact",
        [
            Metric(
                "canonical search p50, 1M / 1000 agents (ms)",
                "<= 5",
                lambda r: r["rows"][0]["exact_by_agent"]["p50_ms"],
                lambda v: v <= 5,
            ),
            Metric(
                "recall@1, 1M / 1000 agents",
                ">= 0.99",
                lambda r: r["rows"][0]["exact_by_agent"]["recall_at_1"],
                lambda v: v >= 0.99,
            ),
        ],
    ),
    "idle_sse": (
        ["bench.idle_sse"],
        "idle_sse",
        [
            Metric("extra RSS, 1000 idle /events (MB)", "< 150", lambda r: r["extra_mb"], lambda v: v < 150),
            Metric(
                "path C p50 while holding them (ms)",
                "(keeps serving)",
                lambda r: r["path_c_turn_ms_with_connections"]["p50"],
                lambda v: True,
            ),
        ],
    ),
    "embedding": (
        ["bench.embedding"],
        "embedding",
        [
            Metric(
                "embeddings/s at c=8, coalesced / plain (x)",
                "> 1 (pays)",
                lambda r: round(r["coalesced, concurrency 8"]["per_s"] / r["plain, concurrency 8"]["per_s"], 2),
                lambda v: v > 1,
            )
        ],
    ),
}


def run_once(module_args: list[str], result_name: str) -> dict:
    subprocess.run([sys.executable, "-m", *module_args], check=True, stdout=subprocess.DEVNULL)
    return json.loads((RESULTS / f"{result_name}.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="benchmarks to run, comma-separated")
    args = parser.parse_args()

    rows = []
    for name in args.only.split(","):
        module_args, result_name, metrics = BENCHMARKS[name]
        values: dict[str, list[float]] = {m.name: [] for m in metrics}
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            result = run_once(module_args, result_name)
            for metric in metrics:
                values[metric.name].append(metric.read(result))
            print(f"[{name} {run}/{args.runs}] {time.perf_counter() - started:.0f} s", flush=True)
        for metric in metrics:
            seen = values[metric.name]
            median = statistics.median(seen)
            rows.append(
                {
                    "benchmark": name,
                    "metric": metric.name,
                    "target": metric.target,
                    "runs": seen,
                    "min": min(seen),
                    "median": median,
                    "max": max(seen),
                    "met": metric.meets(median),
                }
            )

    print(f"\n{'metric':<46}{'target':>18}{'min':>10}{'median':>10}{'max':>10}  met")
    for row in rows:
        print(
            f"{row['metric']:<46}{row['target']:>18}{row['min']:>10.4g}{row['median']:>10.4g}{row['max']:>10.4g}"
            f"  {'yes' if row['met'] else 'NO'}"
        )
    write_results("suite", {"runs": args.runs, "rows": rows})


if __name__ == "__main__":
    main()
