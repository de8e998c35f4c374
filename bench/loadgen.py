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

from bench.harness import timed_turn
from tests.utils.api import Api


async def client_loop(
    api: Api, conversation: str, key: str, message: str, turns: int, samples: list[dict], errors: list[str]
) -> None:
    for _ in range(turns):
        try:
            marks = await timed_turn(api, conversation, key, message)
        except httpx.HTTPError as exc:
            errors.append(type(exc).__name__)
            continue
        if "error" in marks:
            errors.append(marks["error"])
        else:
            samples.append(marks)


async def main_async(args: argparse.Namespace) -> dict:
    conversations = args.conversations.split(",")
    limits = httpx.Limits(max_connections=len(conversations) + 4, max_keepalive_connections=len(conversations) + 4)
    samples: list[dict] = []
    errors: list[str] = []
    async with httpx.AsyncClient(base_url=args.url, timeout=60, limits=limits) as client:
        started = time.perf_counter()
        api = Api(client, admin_key="")  # the load uses only user keys
        await asyncio.gather(
            *(client_loop(api, c, args.key, args.message, args.turns, samples, errors) for c in conversations)
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
