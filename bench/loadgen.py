"""A load-generating process: `concurrency` clients each send turns over HTTP and time them; prints JSON.

Run by bench/load.py in its own process, so the server is measured under load it does not generate itself, over
bench.rawhttp's light client so the load costs the 2-core machine as little CPU as possible.

    python -m bench.loadgen --url URL --key KEY --conversations ID,ID,... --message TEXT --turns N
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from bench.rawhttp import RawConnection


async def client_loop(
    url: str, conversation: str, key: str, message: str, turns: int, samples: list[dict], errors: list[str]
) -> None:
    connection = RawConnection(url)
    path = f"/messaging/conversations/{conversation}/stream"
    try:
        for _ in range(turns):
            try:
                marks = await connection.timed_turn(path, key, message)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors.append(type(exc).__name__)
                await connection.close()
                continue
            if "error" in marks:
                errors.append(marks["error"])
            else:
                samples.append(marks)
    finally:
        await connection.close()


async def main_async(args: argparse.Namespace) -> dict:
    conversations = args.conversations.split(",")
    samples: list[dict] = []
    errors: list[str] = []
    started = time.perf_counter()
    await asyncio.gather(
        *(client_loop(args.url, c, args.key, args.message, args.turns, samples, errors) for c in conversations)
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
