"""Processes the tests start: the Orchestrator server itself, and embedded databases for the session."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import httpx
import psycopg
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def scratch_database(url: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the Postgres server `url` points at, dropped (connections and all) afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield psycopg.conninfo.make_conninfo(url, dbname=name)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class InThreadServer:
    """A Starlette app served by uvicorn on a thread of the test process, on a free port of 127.0.0.1: the base
    of the stand-ins for outside services (the OpenAI-compatible model, the messaging platforms)."""

    def __init__(self, routes: list[Route]) -> None:
        self.port = free_port()
        config = uvicorn.Config(Starlette(routes=routes), host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        while not self._server.started:
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(5)


class ServerProcess:
    """`orchestrator serve` in its own process, as a deployment runs it."""

    def __init__(self, env: dict[str, str], log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.env = os.environ.copy() | env | {"PORT": str(self.port), "HOST": "127.0.0.1"}
        for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            if name not in env:
                self.env.pop(name, None)
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    command = "serve"

    def start(self, timeout: float = 90) -> Self:
        """Start `orchestrator <command>` and wait until it is ready (or fail with where its log is)."""
        log = self.log_path.open("ab")
        self._log_offset = self.log_path.stat().st_size
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", self.command], cwd=ROOT, env=self.env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command} exited with {self.process.returncode}; see {self.log_path}")
            if self._ready():
                return self
            time.sleep(0.2)
        raise RuntimeError(f"{self.command} did not become ready; see {self.log_path}")

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """kill -9: no shutdown hooks, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


class WorkerProcess(ServerProcess):
    """`orchestrator worker` in its own process: a channel worker on the same stores as the servers."""

    command = "worker"

    def _ready(self) -> bool:
        return b"channel worker" in self.log_path.read_bytes()[self._log_offset :]


# The abuse limits switched off, for servers whose tests (and benchmarks) drive one user far harder than a person
# could; tests/test_abuse.py runs a server with them on.
UNLIMITED = {
    "ORCH_RATE_LIMIT_PER_KEY": "0",
    "ORCH_RATE_LIMIT_PER_IP": "0",
    "ORCH_RATE_LIMIT_TURNS": "0",
    "ORCH_MAX_STREAMS": "0",
}
