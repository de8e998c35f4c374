"""glibc malloc for a long-running worker: two arenas, and freed memory handed back to the system every minute.

glibc gives threads arenas of their own (up to 8 per core) and keeps freed memory inside them. In a soak worker
(bench/soak.py) RSS kept rising while live Python objects did not: the Python allocations made since tracing began
stayed at 10-20 MB while glibc's heap grew. With two arenas a 5-minute soak at 30 messages/s grew 7.4% instead of
10.4%, and p99 fell from 448 to 184 ms; one arena grew as much as two and raised p99 at 40 messages/s from 409 to
761 ms (threads waiting on its lock). Freed memory stays resident until trimmed: a burst that left 64 KB holes
between live blocks kept ~100 MB, and one trim returned all but ~8 MB (tests/test_memory.py). MALLOC_ARENA_MAX,
when set, wins; elsewhere than glibc (macOS, musl) nothing here does anything.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import time

log = logging.getLogger(__name__)

ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


_LIBC = _glibc()


def limit_arenas() -> None:
    """At most ARENAS malloc arenas for threads started from now on (call before the worker starts threads)."""
    if _LIBC is not None and "MALLOC_ARENA_MAX" not in os.environ:
        _LIBC.mallopt(_M_ARENA_MAX, ARENAS)


def trim() -> None:
    """Return the free memory inside malloc's arenas to the system."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


async def trim_forever(every_s: float) -> None:
    """Trim every `every_s` seconds, for as long as the worker runs."""
    while True:
        await asyncio.sleep(every_s)
        started = time.perf_counter()
        trim()  # a few ms, on the loop itself: a thread of its own could take an arena of its own
        log.debug("malloc_trim took %.1f ms", (time.perf_counter() - started) * 1000)
