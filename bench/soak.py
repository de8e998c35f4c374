"""The soak: a steady mix (70% path C, 20% path A with the offline model, 10% escalation flows) for 10 minutes at
the highest rate a short ramp finds with p99 under 500 ms, watching latency, errors, the server's memory and how
the tables grow while the checkpoint retention job prunes.

Prints a table per ramp step, then the soak's figures; writes bench/results/soak.json and bench/results/soak.png
(`--name` for others).

    .venv/bin/python -m bench.soak [--minutes 10] [--ramp 20,30,40,50,60] [--rate R (no ramp)] [--warmup-s 60]
                                   [--workers 2] [--name soak]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from collections import Counter, deque
from pathlib import Path

import httpx
import matplotlib
import psycopg

from bench.harness import RESULTS, isolated_stores, percentiles, write_results
from bench.load import process_rss_mb
from bench.traffic import Questions, Sample, Traffic
from evals.clinc import load_clinc
from tests.utils.api import KNOWLEDGE, Api, unique

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MIX = (0.70, 0.20, 0.10)
P99_TARGET_MS = 500.0
USER_MESSAGES = "SELECT count(*) FROM messages WHERE role = 'user'"
TABLES = (
    "decisions",
    "messages",
    "escalations",
    "canonical_answers",
    "checkpoints",
    "checkpoint_blobs",
    "checkpoint_writes",
)
KNOWLEDGE_QUESTIONS = [
    "How much protein should I eat per day?",
    "How many hours of sleep do I need each night?",
    "How often should a beginner train each week?",
    "What should I do if a lift causes sharp pain?",
    "How many rest days should I take each week?",
    "How many grams of protein should each meal have?",
    "How many sets and reps should a beginner do?",
    "How often should I take a deload week?",
]


async def build_world(api: Api, users: int, seed: int) -> tuple[str, str, list[str], Questions]:
    """A creator's agent with the coaching knowledge and 40 CLINC intents answered; the questions each path gets,
    the C and A ones kept only if a probe took that path."""
    rng = random.Random(seed)
    by_intent, out_of_scope = load_clinc()
    answered = rng.sample(sorted(by_intent), 40)
    _, creator_key = await api.creator()
    agent = await api.call(
        "POST", "/agents", creator_key, expect=201, json={"handle": unique("soak"), "name": "Coach Mia", "persona": ""}
    )
    agent_id = agent["id"]
    for title, text in KNOWLEDGE:
        await api.call(
            "POST", f"/agents/{agent_id}/knowledge", creator_key, expect=201, json={"title": title, "text": text}
        )
    for intent in answered:
        body = {
            "question": by_intent[intent][0],
            "answer": f"My answer on {intent.replace('_', ' ')}.",
            "layer": "public",
        }
        await api.call("POST", f"/agents/{agent_id}/canonical-answers", creator_key, expect=201, json=body)
    config = await api.call("GET", f"/orchestrator/config/{agent_id}", creator_key)
    quotas = {"max_escalations_per_day": 100000, "max_escalations_per_week": 1000000}
    await api.call("PUT", f"/orchestrator/config/{agent_id}", creator_key, json=config | quotas)
    user_keys = [await api.user("paid") for _ in range(users)]

    probe = await api.call("POST", "/messaging/conversations", user_keys[0], expect=201, json={"agent_id": agent_id})

    async def taking(path: str, candidates: list[str]) -> list[str]:
        kept = []
        for question in candidates:
            turn = await api.ask(probe["id"], user_keys[0], question)
            if turn["decision"]["path"] == path:
                kept.append(question)
        return kept

    canonical = await taking("C", [p for intent in answered for p in by_intent[intent][:3]])
    knowledge = await taking("A", KNOWLEDGE_QUESTIONS)
    novel = [p for intent in sorted(set(by_intent) - set(answered)) for p in by_intent[intent]] + out_of_scope
    novel = [q for q in novel if len(q.split()) >= 6]
    rng.shuffle(novel)
    print(f"world: {len(canonical)} path C questions, {len(knowledge)} path A questions, {len(novel)} novel ones")
    return agent_id, creator_key, user_keys, Questions(canonical, knowledge, deque(novel))


def summary(samples: list[Sample], seconds: float) -> dict:
    by_kind: dict[str, list[Sample]] = {}
    for sample in samples:
        by_kind.setdefault(sample.kind, []).append(sample)
    ok = [s.ms for s in samples if s.ok]
    return {
        "requests": len(samples),
        "requests_per_s": round(len(samples) / seconds, 1),
        "messages_per_s": round(sum(s.kind.startswith("turn") for s in samples) / seconds, 1),
        "errors": sum(not s.ok for s in samples),
        "failures": [
            {"at_s": round(s.at, 1), "kind": s.kind, "asked": s.asked, "ms": round(s.ms), "error": s.error}
            for s in samples
            if not s.ok
        ][:50],
        "paths_by_asked": {
            asked: dict(Counter(s.kind.removeprefix("turn ") for s in samples if s.asked == asked)) for asked in "CAE"
        },
        "all_ms": percentiles(ok) if ok else {},
        "by_kind": {
            kind: percentiles([s.ms for s in group if s.ok]) | {"errors": sum(not s.ok for s in group)}
            for kind, group in sorted(by_kind.items())
            if any(s.ok for s in group)
        },
    }


async def table_rows(database_url: str) -> dict[str, int]:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        rows = {"user_messages": (await (await conn.execute(USER_MESSAGES)).fetchone())[0]}
        for table in TABLES:
            rows[table] = (await (await conn.execute(f"SELECT count(*) FROM {table}")).fetchone())[0]
        size = "SELECT sum(pg_total_relation_size(t)) FROM unnest(%s::regclass[]) t"
        rows["checkpoint_mb"] = round(
            float((await (await conn.execute(size, (list(TABLES[4:]),))).fetchone())[0]) / 2**20, 1
        )
        return rows


async def watch(traffic: Traffic, pid: int, database_url: str, trace: dict, stop: asyncio.Event) -> None:
    """Every 5 s the server's RSS and the requests in flight; every 20 s the table sizes."""
    tick = 0
    while not stop.is_set():
        at = round(time.perf_counter() - traffic.started, 1)
        by_process = process_rss_mb(pid)
        trace["rss"].append((at, round(sum(by_process.values()), 1), traffic.in_flight, by_process))
        if tick % 4 == 0:
            trace["tables"].append((at, await table_rows(database_url)))
        tick += 1
        try:
            await asyncio.wait_for(stop.wait(), 5)
        except TimeoutError:
            pass


def plot(samples: list[Sample], trace: dict, t0: float, rate: float, retention_s: float, path: Path) -> None:
    fig, axes = plt.subplots(2, 2, figsize=(13, 8))
    windows: dict[int, list[Sample]] = {}
    for sample in samples:
        windows.setdefault(int((sample.at - t0) // 10), []).append(sample)
    starts = sorted(windows)
    minutes = [(w * 10 + 5) / 60 for w in starts]
    latency, load = axes[0]
    for q, style in ((0.50, "-"), (0.99, "-")):
        values = [sorted(s.ms for s in windows[w])[int(q * (len(windows[w]) - 1))] for w in starts]
        latency.plot(minutes, values, style, label=f"p{int(q * 100)}")
    latency.axhline(P99_TARGET_MS, color="red", linestyle="--", linewidth=1, label="p99 target")
    latency.set(title="request latency per 10 s window", xlabel="minute", ylabel="ms")
    latency.legend()
    load.plot(minutes, [len(windows[w]) / 10 for w in starts], label="requests/s")
    load.plot(minutes, [sum(s.kind.startswith("turn") for s in windows[w]) / 10 for w in starts], label="messages/s")
    load.plot(minutes, [sum(not s.ok for s in windows[w]) for w in starts], label="errors per window")
    load.set(title=f"throughput (arrival rate {rate:g} messages/s)", xlabel="minute")
    load.legend()
    memory, tables = axes[1]
    rss = [(at, mb, processes) for at, mb, _, processes in trace["rss"] if at >= t0]
    rss_minutes = [(at - t0) / 60 for at, _, _ in rss]
    memory.plot(rss_minutes, [mb for _, mb, _ in rss], label="all")
    for label in rss[0][2]:
        memory.plot(rss_minutes, [processes.get(label, float("nan")) for _, _, processes in rss], label=label)
    memory.set(title="API server RSS", xlabel="minute", ylabel="MB", ylim=(0, max(mb for _, mb, _ in rss) * 1.2))
    memory.legend()
    points = [(at, rows) for at, rows in trace["tables"] if at >= t0]
    for table in ("decisions", "messages", "checkpoints", "checkpoint_blobs", "checkpoint_writes"):
        tables.plot([(at - t0) / 60 for at, _ in points], [rows[table] for _, rows in points], label=table)
    tables.set(title=f"table rows (finished threads' checkpoints pruned after {retention_s:g} s)", xlabel="minute")
    tables.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"written: {path}")


def prune_all(env: dict[str, str]) -> dict:
    """One full retention pass that keeps nothing finished: how fast the job deletes."""
    started = time.perf_counter()
    output = subprocess.run(
        [sys.executable, "-m", "api.cli", "prune-checkpoints", "--days", "0"],
        env=os.environ | env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {"seconds": round(time.perf_counter() - started, 1), "output": output.strip().splitlines()[-1]}


async def soak(args: argparse.Namespace) -> None:
    with isolated_stores() as stores:
        server = stores.server(
            "soak",
            ORCH_WORKERS=str(args.workers),
            ORCH_CHECKPOINT_RETENTION_DAYS=str(args.retention_s / 86400),
            ORCH_CHECKPOINT_PRUNE_EVERY_S="30",
        )
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
                agent_id, creator_key, users, questions = await build_world(
                    Api(client, stores.admin_key), 20, args.seed
                )
            traffic = Traffic(
                server.url, agent_id, creator_key, users, questions, answer_share=args.answer_share, seed=args.seed
            )
            trace: dict = {"rss": [], "tables": []}
            stop = asyncio.Event()
            watcher = asyncio.create_task(watch(traffic, server.process.pid, stores.env["DATABASE_URL"], trace, stop))
            ramp = []
            rate = args.rate
            if rate is None:
                print(f"\n{'rate':>6}{'msgs/s':>8}{'p50':>8}{'p99':>8}{'errors':>8}")
                for step in [float(r) for r in args.ramp.split(",")]:
                    stats = summary(await traffic.run(step, args.step_s, MIX), args.step_s)
                    ramp.append({"rate": step} | stats)
                    print(
                        f"{step:>6g}{stats['messages_per_s']:>8}{stats['all_ms']['p50']:>8}"
                        f"{stats['all_ms']['p99']:>8}{stats['errors']:>8}",
                        flush=True,
                    )
                    if stats["all_ms"]["p99"] >= P99_TARGET_MS or stats["errors"]:
                        break
                    rate = step
                assert rate is not None, "not even the first ramp step held p99 under 500 ms"
            warm_t0 = time.perf_counter() - traffic.started
            if args.warmup_s:  # caches, pools and malloc's arenas reach their working size before RSS is judged
                print(f"\nwarm-up: {rate:g} messages/s for {args.warmup_s:g} s", flush=True)
                warm = summary(await traffic.run(rate, args.warmup_s, MIX), args.warmup_s)
            t0 = time.perf_counter() - traffic.started
            print(f"\nsoak: {rate:g} messages/s for {args.minutes:g} minutes", flush=True)
            soaked = await traffic.run(rate, args.minutes * 60, MIX)
            stop.set()
            await watcher
            await traffic.close()
            trace["tables"].append(
                (time.perf_counter() - traffic.started, await table_rows(stores.env["DATABASE_URL"]))
            )
        finally:
            server.stop()
        pruned = prune_all(stores.env)

    stats = summary(soaked, args.minutes * 60)
    rss = [(at, mb, processes) for at, mb, _, processes in trace["rss"] if at >= t0]
    before_warmup = next(mb for at, mb, _, _ in trace["rss"] if at >= warm_t0)
    first_rows = next(rows for at, rows in trace["tables"] if at >= t0)
    last_rows = trace["tables"][-1][1]
    messages = last_rows["user_messages"] - first_rows["user_messages"]
    result = {
        "mix": dict(zip("CAE", MIX, strict=True)),
        "workers": args.workers,
        "rate": rate,
        "minutes": args.minutes,
        "ramp": ramp,
        "warmup": {
            "seconds": args.warmup_s,
            "rss_mb_before": before_warmup,
            "rss_growth_pct": round(100 * (rss[0][1] - before_warmup) / before_warmup, 1),
        }
        | ({"p99_ms": warm["all_ms"]["p99"], "errors": warm["errors"]} if args.warmup_s else {}),
        "soak": stats,
        "p99_under_target": stats["all_ms"]["p99"] < P99_TARGET_MS,
        "rss_mb": {
            "start": rss[0][1],
            "end": rss[-1][1],
            "max": max(mb for _, mb, _ in rss),
            "growth_pct": round(100 * (rss[-1][1] - rss[0][1]) / rss[0][1], 1),
        },
        "rss_trace": [
            {"minute": round((at - t0) / 60, 2), "all": mb, "processes": processes} for at, mb, processes in rss
        ],
        "max_in_flight": max(n for at, _, n, _ in trace["rss"] if at >= t0),
        "tables": {"start": first_rows, "end": last_rows},
        "user_messages": messages,
        "rows_per_user_message": {t: round((last_rows[t] - first_rows[t]) / messages, 2) for t in TABLES},
        "prune_everything_after": pruned,
    }
    print_report(result)
    write_results(args.name, result)
    plot(soaked, trace, t0, rate, args.retention_s, RESULTS / f"{args.name}.png")


def print_report(result: dict) -> None:
    soak = result["soak"]
    print(f"\n{'request':<14}{'n':>7}{'p50':>9}{'p90':>9}{'p99':>9}{'errors':>8}")
    for kind, stats in soak["by_kind"].items():
        print(f"{kind:<14}{stats['n']:>7}{stats['p50']:>9}{stats['p90']:>9}{stats['p99']:>9}{stats['errors']:>8}")
    for asked, paths in soak["paths_by_asked"].items():
        print(f"asked for {asked}: took " + ", ".join(f"{path} {n}" for path, n in sorted(paths.items())))
    every = soak["all_ms"]
    print(f"{'all':<14}{every['n']:>7}{every['p50']:>9}{every['p90']:>9}{every['p99']:>9}{soak['errors']:>8}")
    print(
        f"\n{soak['messages_per_s']} messages/s, {soak['requests_per_s']} requests/s, "
        f"most in flight at once: {result['max_in_flight']}"
    )
    rss, warmup = result["rss_mb"], result["warmup"]
    print(
        f"server RSS: {rss['start']} MB at the start, {rss['end']} MB at the end (max {rss['max']}): "
        f"{rss['growth_pct']:+}%; {warmup['rss_mb_before']} MB before the {warmup['seconds']:g} s warm-up "
        f"({warmup['rss_growth_pct']:+}% in it)"
    )
    for failure in soak["failures"]:
        print(f"failed at {failure['at_s']} s: {failure['kind']} (asked {failure['asked'] or '-'}): {failure['error']}")
    print(f"\n{'table':<20}{'start':>10}{'end':>10}{'per user msg':>13}")
    for table in TABLES:
        start, end = result["tables"]["start"][table], result["tables"]["end"][table]
        print(f"{table:<20}{start:>10}{end:>10}{result['rows_per_user_message'][table]:>13}")
    print(
        f"checkpoint tables: {result['tables']['start']['checkpoint_mb']} MB -> "
        f"{result['tables']['end']['checkpoint_mb']} MB"
    )
    print(f"a full prune afterwards: {result['prune_everything_after']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--ramp", default="20,30,40,50,60,70,80", help="messages/s, 1 step each --step-s")
    parser.add_argument("--step-s", type=float, default=30)
    parser.add_argument("--rate", type=float, help="skip the ramp: soak at this many messages/s")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup-s", type=float, default=60, help="traffic at the soak's rate before it is measured")
    parser.add_argument("--retention-s", type=float, default=180, help="checkpoint retention during the soak")
    parser.add_argument(
        "--answer-share", type=float, default=0.1, help="escalations the creator answers (else declines)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--name", default="soak", help="results go to bench/results/NAME.json and NAME.png")
    asyncio.run(soak(parser.parse_args()))


if __name__ == "__main__":
    main()
