"""A load-generating process: `concurrency` clients each send turns over HTTP and time them; prints JSON.

Run by bench/load.py in its own process, so the server is measured under load it does not generate itself.

    python -m bench.loadgen --url URL --key KEY --conversations ID,ID,... --message TEXT --turns N
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import httpx


async def client_loop(
    client: httpx.AsyncClient,
    conversation: str,
    key: str,
    message: str,
    turns: int,
    samples: list[dict],
    errors: list[str],
) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    for _ in range(turns):
        marks: dict[str, float] = {}
        start = time.perf_counter()
        try:
            async with client.stream(
                "POST", f"/messaging/conversations/{conversation}/stream", json={"content": message}, headers=headers
            ) as response:
                if response.status_code != 200:
                    errors.append(f"status {response.status_code}")
                    await response.aread()
                    continue
                async for line in response.aiter_lines():
                    now = (time.perf_counter() - start) * 1000
                    if line == "event: decision":
                        marks.setdefault("decision", now)
                    elif line == "event: token":
                        marks.setdefault("first_token", now)
                    elif line == "event: error":
                        errors.append("error event")
                    elif line == "event: done":
                        marks["done"] = now
        except httpx.HTTPError as exc:
            errors.append(type(exc).__name__)
            continue
        if "done" in marks:
            samples.append(marks)
        else:
            errors.append("stream ended without done")


async def main_async(args: argparse.Namespace) -> dict:
    conversations = args.conversations.split(",")
    limits = httpx.Limits(max_connections=len(conversations) + 4, max_keepalive_connections=len(conversations) + 4)
    samples: list[dict] = []
    errors: list[str] = []
    async with httpx.AsyncClient(base_url=args.url, timeout=60, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(
            *(client_loop(client, c, args.key, args.message, args.turns, samples, errors) for c in conversations)
        )
        elapsed = time.perf_counter() - started
    return {"samples": samples, "errors": errors, "elapsed_s": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--conversations", required=True)
    parser.add_argument("--message", required=True)
    parser.add_argument("--turns", type=int, default=50, help="turns per client")
    print(json.dumps(asyncio.run(main_async(parser.parse_args()))))


if __name__ == "__main__":
    main()
