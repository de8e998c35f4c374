"""Idle live connections: one worker holds N `/events` SSE clients open and keeps serving turns.

Reports the server's RSS before and with the connections held, and path C turn latency while they are open.

    .venv/bin/python -m bench.idle_sse [--connections 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time

import httpx

from bench.harness import isolated_stores, percentiles, timed_turn, write_results
from bench.load import CANONICAL, PARAPHRASE, server_rss_mb
from tests.utils.api import Api, bearer


async def hold(
    api: Api, conversation: str, key: str, opened: asyncio.Event, counter: list[int], stop: asyncio.Event, total: int
) -> None:
    async with api.client.stream("GET", f"/messaging/conversations/{conversation}/events", headers=bearer(key)) as r:
        assert r.status_code == 200
        counter[0] += 1
        if counter[0] == total:
            opened.set()
        await stop.wait()


async def run(url: str, admin_key: str, connections: int, pid: int) -> dict:
    limits = httpx.Limits(max_connections=connections + 10, max_keepalive_connections=connections + 10)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        api = Api(client, admin_key)
        world = await api.world(canonical=[CANONICAL])
        key = world.users["paid"]
        conversations = [await api.conversation(world, "paid") for _ in range(20)]
        for _ in range(20):
            await timed_turn(api, conversations[0], key, PARAPHRASE)
        before = server_rss_mb(pid)
        idle = [percentiles([(await timed_turn(api, conversations[0], key, PARAPHRASE))["done"] for _ in range(50)])]
        opened, stop, counter = asyncio.Event(), asyncio.Event(), [0]
        holders = [
            asyncio.create_task(hold(api, conversations[i % 20], key, opened, counter, stop, connections))
            for i in range(connections)
        ]
        started = time.perf_counter()
        await asyncio.wait_for(opened.wait(), timeout=120)
        open_s = round(time.perf_counter() - started, 1)
        await asyncio.sleep(2)
        with_connections = server_rss_mb(pid)
        busy = percentiles([(await timed_turn(api, conversations[1], key, PARAPHRASE))["done"] for _ in range(50)])
        stop.set()
        await asyncio.gather(*holders, return_exceptions=True)
    return {
        "connections": connections,
        "opened_in_s": open_s,
        "rss_before_mb": before,
        "rss_with_connections_mb": with_connections,
        "extra_mb": round(with_connections - before, 1),
        "path_c_turn_ms_without": idle[0],
        "path_c_turn_ms_with_connections": busy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=1000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # this client holds the connections too
    with isolated_stores() as stores:
        server = stores.server("idle")
        try:
            result = asyncio.run(run(server.url, stores.admin_key, args.connections, server.process.pid))
        finally:
            server.stop()
    for name, value in result.items():
        print(f"{name:<34}{value}")
    write_results("idle_sse", result)


if __name__ == "__main__":
    main()
