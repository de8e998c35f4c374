"""Orchestrator against `langgraph dev` serving the same graph: the same path C turns, one run, the ratio.

What a team would otherwise run: `langgraph dev` (langgraph-cli[inmem]) serving graphs/orchestrator.py's builder
(bench/langgraph_dev_app) on the same Postgres, Redis, embedder and data. A turn through langgraph dev is a thread
created and a run streamed on it (`POST /threads`, `POST /threads/{id}/runs/stream`, custom events), as a thread per
question is what Orchestrator does; the user's message is stored beforehand, outside the timing, which only favours
langgraph dev. A turn through Orchestrator is `POST /messaging/conversations/{id}/stream`.

    .venv/bin/python -m bench.versus_langgraph_dev [--turns 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg

from bench.harness import isolated_stores, percentiles, timed_turn, write_results
from bench.load import CANONICAL, PARAPHRASE
from tests.utils.api import Api
from tests.utils.servers import free_port

APP_DIR = Path(__file__).parent / "langgraph_dev_app"
LISTENING = re.compile(r"API: (http://127\.0\.0\.1:\d+)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


async def orchestrator_turns(url: str, admin_key: str, turns: int) -> tuple[list[float], dict]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        api = Api(client, admin_key)
        world = await api.world(canonical=[CANONICAL])
        key = world.users["paid"]
        user_id = (await api.call("GET", "/me", key))["id"]
        conversation = await api.conversation(world, "paid")
        samples = []
        for i in range(turns + 5):
            marks = await timed_turn(api, conversation, key, PARAPHRASE)
            assert "error" not in marks, marks
            if i >= 5:
                samples.append(marks["done"])
        ids = {"agent_id": world.agent_id, "user_id": user_id, "conversation_id": conversation}
        return samples, ids


def start_langgraph_dev(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    """`langgraph dev` on a free port; returns the process and the URL its log announces.

    It runs in the benchmark's scratch directory (it keeps its in-memory state in .langgraph_api there), with a
    config naming our graph factory by absolute path.
    """
    config = log_path.parent / "langgraph.json"
    config.write_text(
        json.dumps(
            {
                "dependencies": [str(APP_DIR.parents[1])],
                "graphs": {"orchestrator": f"{APP_DIR / 'graph.py'}:make_graph"},
            }
        )
    )
    command = [
        str(Path(sys.executable).with_name("langgraph")),
        "dev",
        "--config",
        str(config),
        "--port",
        str(free_port()),
        "--no-browser",
        "--no-reload",
        "--allow-blocking",
    ]
    log = log_path.open("w")
    process = subprocess.Popen(command, cwd=log_path.parent, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"langgraph dev exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        if found := LISTENING.search(ANSI.sub("", log_path.read_text())):
            url = found.group(1)
            try:
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    return process, url
            except httpx.HTTPError:
                pass
        time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"langgraph dev did not start:\n{log_path.read_text()[-3000:]}")


async def langgraph_dev_turns(url: str, database_url: str, ids: dict, turns: int) -> list[float]:
    samples = []
    async with (
        httpx.AsyncClient(base_url=url, timeout=60) as client,
        await psycopg.AsyncConnection.connect(database_url, autocommit=True) as db,
    ):
        for i in range(turns + 5):
            message_id = uuid.uuid4()
            await db.execute(
                "INSERT INTO messages (id, conversation_id, role, content) VALUES (%s, %s, 'user', %s)",
                (message_id, ids["conversation_id"], PARAPHRASE),
            )
            turn_input = ids | {"message_id": str(message_id), "text": PARAPHRASE}
            started = time.perf_counter()
            thread = (await client.post("/threads", json={})).json()
            events = []
            async with client.stream(
                "POST",
                f"/threads/{thread['thread_id']}/runs/stream",
                json={"assistant_id": "orchestrator", "input": turn_input, "stream_mode": ["custom"]},
            ) as response:
                response.raise_for_status()
                async for line in response.aiter_lines():
                    if line.startswith("data: ") and '"event"' in line:
                        events.append(json.loads(line[6:]).get("event"))
            elapsed = (time.perf_counter() - started) * 1000
            if "message" not in events:
                raise RuntimeError(f"langgraph dev turn did not serve the answer: {events}")
            if i >= 5:
                samples.append(elapsed)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=40)
    args = parser.parse_args()

    with isolated_stores() as stores:
        server = stores.server("orchestrator")
        try:
            orchestrated, ids = asyncio.run(orchestrator_turns(server.url, stores.admin_key, args.turns))
        finally:
            server.stop()
        env = os.environ | stores.env | {"LANGSMITH_TRACING": "false", "LANGGRAPH_CLI_NO_ANALYTICS": "1"}
        process, url = start_langgraph_dev(env, stores.data_dir / "langgraph-dev.log")
        try:
            baseline = asyncio.run(langgraph_dev_turns(url, stores.env["DATABASE_URL"], ids, args.turns))
        finally:
            process.terminate()
            process.wait(30)

    a, b = percentiles(orchestrated), percentiles(baseline)
    results = {
        "orchestrator_turn_ms": a,
        "langgraph_dev_turn_ms": b,
        "speedup_p50": round(b["p50"] / a["p50"], 1),
        "speedup_p99": round(b["p99"] / a["p99"], 1),
    }
    print(f"{'path C turn, sequential':<28}{'p50':>9}{'p90':>9}{'p99':>9}")
    print(f"{'Orchestrator':<28}{a['p50']:>9}{a['p90']:>9}{a['p99']:>9}")
    print(f"{'langgraph dev (same graph)':<28}{b['p50']:>9}{b['p90']:>9}{b['p99']:>9}")
    print(f"Orchestrator is {results['speedup_p50']}x faster at p50 ({results['speedup_p99']}x at p99); target >= 20x")
    write_results("versus_langgraph_dev", results)


if __name__ == "__main__":
    main()
