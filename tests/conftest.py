"""Session fixtures: an isolated embedded Postgres + pgvector and Redis, and the server over real HTTP.

With DATABASE_URL / REDIS_URL set, the session uses those servers instead (a fresh database on Postgres).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from stores import embedded
from tests.utils.api import Api
from tests.utils.openai_stub import OpenAIStub
from tests.utils.servers import UNLIMITED, ServerProcess, scratch_database


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    # Short and under /tmp: unix socket paths are limited to ~100 characters.
    path = Path(tempfile.mkdtemp(prefix="orch-test-"))
    yield path
    embedded.stop_redis(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(data_dir: Path) -> Iterator[str]:
    external = os.environ.get("DATABASE_URL")
    if not external:
        yield embedded.start_postgres(data_dir, cleanup_mode="delete")
        return
    with scratch_database(external, "orch_test") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(data_dir: Path) -> str:
    return os.environ.get("REDIS_URL") or embedded.start_redis(data_dir)


@pytest.fixture(scope="session")
def admin_key() -> str:
    return f"orch_a_{secrets.token_urlsafe(24)}"


@pytest.fixture(scope="session")
def server_env(database_url: str, redis_url: str, admin_key: str, data_dir: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ORCH_ADMIN_KEY": admin_key,
        "ORCH_DATA_DIR": str(data_dir / "server"),
        "LOG_LEVEL": "warning",
        **UNLIMITED,
    }


@pytest.fixture(scope="session")
def server(server_env: dict[str, str], data_dir: Path) -> Iterator[ServerProcess]:
    """The server with the offline model."""
    process = ServerProcess(server_env, data_dir / "server.log").start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def openai_stub() -> Iterator[OpenAIStub]:
    stub = OpenAIStub().start()
    yield stub
    stub.stop()


@pytest.fixture(scope="session")
def openai_server(server_env: dict[str, str], openai_stub: OpenAIStub, data_dir: Path) -> Iterator[ServerProcess]:
    """A second server on the same stores, its path A answers from ChatOpenAI against the local stub."""
    env = server_env | {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": openai_stub.base_url, "OPENAI_MODEL": "stub"}
    process = ServerProcess(env, data_dir / "openai-server.log").start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
async def api(server: ServerProcess, admin_key: str) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        yield Api(client, admin_key)
