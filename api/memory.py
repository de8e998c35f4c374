"""glibc malloc for a long-running worker: two arenas, and freed memory handed back to the system every minute.

glibc gives threads arenas of their own (up to 8 per core) and keeps freed memory inside them. A worker's
embedding, classifier and thread-pool threads spread its allocations over several arenas that each hold on to
free space, so its RSS crept up while its live Python objects did not: in a traced soak worker (bench/soak.py) the
Python allocations made since tracing began stayed at 10-20 MB while glibc's free space grew from 19 to 54 MB in
five minutes. With two
arenas a 5-minute soak at 30 messages/s grew 7.4% instead of 10.4% (p99 184 ms instead of 448), and trimming takes
back what a burst leaves (tests/test_memory.py). MALLOC_ARENA_MAX, when set, wins; elsewhere than glibc (macOS,
musl) nothing here does anything.
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
    while True:
        await asyncio.sleep(every_s)
        started = time.perf_counter()
        trim()  # a few ms, on the loop: from another thread it would take an arena of its own
        log.debug("malloc_trim took %.1f ms", (time.perf_counter() - started) * 1000)
