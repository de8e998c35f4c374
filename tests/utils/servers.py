"""Processes the tests start: the Orchestrator server itself, and embedded databases for the session."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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

    def start(self, timeout: float = 90) -> ServerProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve"], cwd=ROOT, env=self.env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not become healthy; see {self.log_path}")

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

    def start(self, timeout: float = 90) -> WorkerProcess:
        log = self.log_path.open("ab")
        started_at = self.log_path.stat().st_size
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker"], cwd=ROOT, env=self.env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}; see {self.log_path}")
            if b"channel worker" in self.log_path.read_bytes()[started_at:]:
                return self
            time.sleep(0.1)
        raise RuntimeError(f"worker did not start; see {self.log_path}")
