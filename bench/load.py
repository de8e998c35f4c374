"""Turn latency and throughput over HTTP at concurrency 1, 8, 32 and 64, from a separate load process.

Path C turns (a canonical answer served) end to end, and path A turns against an OpenAI-compatible stub that
streams at a fixed rate: time to the `decision` event and to the first token. Prints p50/p90/p99, turns/s,
errors and the server's RSS; writes bench/results/load.json.

    .venv/bin/python -m bench.load [--workers 1] [--turns-per-client 40] [--concurrency 1,8,32,64]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
from pathlib import Path

import httpx
import psutil

from bench.harness import isolated_stores, percentiles, write_results
from tests.utils.api import KNOWN_QUESTION, Api
from tests.utils.openai_stub import OpenAIStub

CANONICAL = ("Do you offer one-on-one coaching?", "Not right now; the group program opens twice a year.", "public")
PARAPHRASE = "Do you offer 1-on-1 coaching?"


def server_processes(pid: int) -> list[psutil.Process]:
    """A process and its live children, in pid order (a server's supervisor first, then its workers)."""
    root = psutil.Process(pid)
    return [root, *sorted(root.children(recursive=True), key=lambda child: child.pid)]


def server_rss_mb(pid: int) -> float:
    return round(sum(process_rss_mb(pid).values()), 1)


def process_rss_mb(pid: int) -> dict[str, float]:
    """RSS of a server by process: `supervisor`, `worker 1`, `worker 2`..., `resource tracker`, any other by pid."""
    rss, workers = {}, 0
    for process in server_processes(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            command = " ".join(process.cmdline())
            if process.pid == pid:
                label = "supervisor"
            elif "spawn_main" in command:
                workers += 1
                label = f"worker {workers}"
            elif "resource_tracker" in command:
                label = "resource tracker"
            else:
                label = f"pid {process.pid}"
            rss[label] = round(process.memory_info().rss / 2**20, 1)
    return rss


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its live children (server workers, Postgres backends)."""
    total = 0.0
    for process in server_processes(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])


async def prepare(url: str, admin_key: str, clients: int) -> tuple[str, list[str]]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        api = Api(client, admin_key)
        world = await api.world(
            canonical=[CANONICAL], config={"max_escalations_per_day": 100000, "max_escalations_per_week": 1000000}
        )
        key = world.users["paid"]
        return key, [await api.conversation(world, "paid") for _ in range(clients)]


def run_load(url: str, key: str, conversations: list[str], message: str, turns: int) -> dict:
    """One load run in its own process."""
    output = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.loadgen",
            "--url",
            url,
            "--key",
            key,
            "--conversations",
            ",".join(conversations),
            "--message",
            message,
            "--turns",
            str(turns),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(output.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--turns-per-client", type=int, default=40)
    parser.add_argument("--concurrency", default="1,8,32,64")
    parser.add_argument("--token-ms", type=float, default=10.0, help="the stub model's speed")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]

    rows = []
    stub = OpenAIStub(
        answer="Aim for 1.6 to 2.2 grams of protein per kilogram each day.", token_delay_s=args.token_ms / 1000
    ).start()
    with isolated_stores() as stores:
        server = stores.server(
            "load",
            OPENAI_API_KEY="sk-bench",
            OPENAI_BASE_URL=stub.base_url,
            OPENAI_MODEL="stub",
            ORCH_WORKERS=str(args.workers),
            CONFIDENCE_SELF_ASSESSMENT="off",
        )
        postgres = postmaster_pid(stores.data_dir)
        try:
            key, conversations = asyncio.run(prepare(server.url, stores.admin_key, max(levels)))
            run_load(server.url, key, conversations[:4], PARAPHRASE, 5)  # warm-up
            run_load(server.url, key, conversations[:4], KNOWN_QUESTION, 5)
            for concurrency in levels:
                turns = max(args.turns_per_client * 8 // concurrency, 10) if concurrency > 8 else args.turns_per_client
                for kind, message in (("C", PARAPHRASE), ("A", KNOWN_QUESTION)):
                    cpu_before = cpu_seconds(server.process.pid), cpu_seconds(postgres)
                    result = run_load(server.url, key, conversations[:concurrency], message, turns)
                    samples = result["samples"]
                    server_cpu = cpu_seconds(server.process.pid) - cpu_before[0]
                    postgres_cpu = cpu_seconds(postgres) - cpu_before[1]
                    row = {
                        "path": kind,
                        "concurrency": concurrency,
                        "turns": len(samples),
                        "errors": len(result["errors"]),
                        "turns_per_s": round(len(samples) / result["elapsed_s"], 1),
                        "rss_mb": server_rss_mb(server.process.pid),
                        # CPU per turn explains the throughput ceiling: 2 cores give 2000 ms of CPU a second.
                        "server_cpu_ms_per_turn": round(1000 * server_cpu / max(len(samples), 1), 2),
                        "postgres_cpu_ms_per_turn": round(1000 * postgres_cpu / max(len(samples), 1), 2),
                    }
                    if kind == "C":
                        row["turn_ms"] = percentiles([s["done"] for s in samples])
                    else:
                        row["decision_ms"] = percentiles([s["decision"] for s in samples])
                        row["first_token_ms"] = percentiles([s["first_token"] for s in samples if "first_token" in s])
                    rows.append(row)
                    print(json.dumps(row), flush=True)
        finally:
            server.stop()
            stub.stop()

    print(f"\nworkers: {args.workers}")
    print(
        f"{'path':<5}{'conc':>5}{'what':>16}{'p50':>9}{'p90':>9}{'p99':>9}{'turns/s':>9}{'errors':>8}{'RSS MB':>8}"
        f"{'CPU ms/turn srv+pg':>20}"
    )
    for row in rows:
        what = "turn" if row["path"] == "C" else "decision"
        stats = row.get("turn_ms") or row["decision_ms"]
        print(
            f"{row['path']:<5}{row['concurrency']:>5}{what:>16}{stats['p50']:>9}{stats['p90']:>9}{stats['p99']:>9}"
            f"{row['turns_per_s']:>9}{row['errors']:>8}{row['rss_mb']:>8}"
            f"{row['server_cpu_ms_per_turn']:>13} + {row['postgres_cpu_ms_per_turn']:<5}"
        )
        if row["path"] == "A":
            ft = row["first_token_ms"]
            print(f"{'':<5}{'':>5}{'first token':>16}{ft['p50']:>9}{ft['p90']:>9}{ft['p99']:>9}")
    write_results(f"load_w{args.workers}", {"workers": args.workers, "rows": rows})


if __name__ == "__main__":
    main()
