"""Background jobs each API worker runs: a coroutine again and again, a failure logged and tried next round."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def run_every(every_s: float, job: Callable[[], Awaitable[object]], name: str) -> None:
    """Run `job` now and then every `every_s` seconds, for as long as the worker runs."""
    while True:
        try:
            await job()
        except Exception:  # noqa: BLE001 - the database may be briefly away; try again next round
            log.exception("%s failed", name)
        await asyncio.sleep(every_s)
