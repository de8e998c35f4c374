"""Webhook latency: a verified, parsed and queued Telegram update, and a WhatsApp POST with its HMAC, over HTTP.

The webhook only verifies, parses and enqueues, so it should answer in milliseconds whatever the model does.
Writes bench/results/webhook.json.

    .venv/bin/python -m bench.webhook [--posts 300]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from bench.harness import isolated_stores, percentiles, print_table, write_results
from tests.utils.api import Api
from tests.utils.webhooks import connect, post_webhook, telegram_message, whatsapp_message


async def measure(url: str, admin_key: str, posts: int) -> dict[str, dict]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        api = Api(client, admin_key)
        world = await api.world()
        for channel in ("telegram", "whatsapp"):
            await connect(api, world, channel, "http://127.0.0.1:9")  # nothing is sent: no worker runs
        results = {}
        for name, make in (
            ("telegram update, new", lambda i: ("telegram", telegram_message(10_000 + i, "How much protein?"))),
            ("whatsapp message (HMAC), new", lambda i: ("whatsapp", whatsapp_message(f"1555{i:07d}", "Hi"))),
        ):
            samples = []
            for i in range(posts + 10):
                channel, payload = make(i)
                start = time.perf_counter()
                response = await post_webhook(api, channel, world.agent_id, payload)
                elapsed = (time.perf_counter() - start) * 1000
                assert response.status_code == 200 and response.json()["queued"] == 1, response.text
                if i >= 10:
                    samples.append(elapsed)
            results[name] = percentiles(samples)
        duplicate = telegram_message(99, "again")
        await post_webhook(api, "telegram", world.agent_id, duplicate)
        samples = []
        for _ in range(posts):
            start = time.perf_counter()
            response = await post_webhook(api, "telegram", world.agent_id, duplicate)
            samples.append((time.perf_counter() - start) * 1000)
            assert response.json()["duplicates"] == 1
        results["telegram update, redelivered"] = percentiles(samples)
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=300)
    args = parser.parse_args()
    with isolated_stores() as stores:
        server = stores.server("webhook")
        try:
            results = asyncio.run(measure(server.url, stores.admin_key, args.posts))
        finally:
            server.stop()
    print_table(results)
    write_results("webhook", results)


if __name__ == "__main__":
    main()
