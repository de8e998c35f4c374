"""A worker hands the memory malloc keeps after a burst back to the system (api/memory.py)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from api import memory

ROOT = Path(__file__).resolve().parents[1]
# In a fresh interpreter, so that what the test process allocated before cannot hide the burst: ~128 MB of 64 KB
# blocks, each followed by a small block that stays, then the big ones freed. The holes they leave sit between live
# blocks, below the heap's top, so glibc keeps them resident (as it did for a soak worker's churn) until a trim.
BURST = """
import json, psutil
from api import memory
process = psutil.Process()
rss = [process.memory_info().rss]
blocks, pins = [], []
for _ in range(2000):
    blocks.append(bytes(64 * 1024))
    pins.append(bytes(600))
blocks.clear()
rss.append(process.memory_info().rss)
memory.trim()
rss.append(process.memory_info().rss)
print(json.dumps([value / 2**20 for value in rss]))
"""


def test_trim_returns_what_a_burst_left_behind() -> None:
    assert memory._LIBC is not None, "the service runs on glibc; api/memory.py found no malloc_trim"
    run = subprocess.run([sys.executable, "-c", BURST], cwd=ROOT, capture_output=True, text=True, check=True)
    before, kept, trimmed = json.loads(run.stdout)
    assert kept - before > 50  # MB glibc kept after the blocks were freed: the RSS the soak saw creeping up
    assert trimmed - before < 15


# Six threads allocating at once, then glibc's own per-arena report (on stderr).
THREADS = """
import ctypes, sys, threading
from api import memory
if sys.argv[1] == "limit":
    memory.limit_arenas()
barrier = threading.Barrier(6)
def work():
    barrier.wait()
    blocks = [bytes(3000) for _ in range(20_000)]
    blocks.clear()
threads = [threading.Thread(target=work) for _ in range(6)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
ctypes.CDLL("libc.so.6").malloc_stats()
"""


def arenas(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    run = subprocess.run(
        [sys.executable, "-c", THREADS, mode], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return sum(line.startswith("Arena ") for line in run.stderr.splitlines())


def test_a_worker_keeps_to_two_arenas_however_many_threads_allocate() -> None:
    assert arenas("default") > memory.ARENAS  # glibc's default: an arena per busy thread, up to 8 per core
    assert arenas("limit") == memory.ARENAS


async def test_the_trim_job_runs_on_its_schedule(monkeypatch) -> None:  # noqa: ANN001
    trims = []
    monkeypatch.setattr(memory, "trim", lambda: trims.append(1))
    job = asyncio.create_task(memory.trim_forever(0.05))
    await asyncio.sleep(0.28)
    job.cancel()
    assert 2 <= len(trims) <= 6
