"""Connection pools and numbered migrations for Postgres.

Pools are created closed and opened by the owner (the API lifespan, the CLI, the eval runner): nothing
connects at import time. The checkpointer gets a pool of its own with the settings langgraph requires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from importlib import resources

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from psycopg_pool.base import AttemptWithBackoff

log = logging.getLogger(__name__)

# psycopg_pool doubles its reconnect delay with no cap (1, 2, 4, 8 s...): after an 8 s Postgres outage our pool
# came back ~6 s after Postgres did, turning away requests all that time (tests/test_faults.py). One attempt a
# second (jittered) costs nothing and brings the pool back within about a second of Postgres.
AttemptWithBackoff.DELAY_BACKOFF = 1.0

# Serialises concurrent migrators (several workers starting at once) on one advisory lock.
_MIGRATION_LOCK = 0x0C4E57A7


def create_pool(url: str, *, max_size: int = 10, name: str = "orchestrator") -> AsyncConnectionPool:
    """A closed pool of autocommit dict-row connections; open it with `await pool.open()`.

    Autocommit because most calls are one statement: an implicit transaction would add a BEGIN and a COMMIT
    round trip to each. Stores that need several statements to be atomic open `conn.transaction()`.
    """
    return AsyncConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        open=False,
        name=name,
        kwargs={"autocommit": True, "row_factory": dict_row},
        timeout=5,  # a request waiting longer for a connection (Postgres down) gets a 503 instead
    )


def create_checkpoint_pool(url: str, *, max_size: int = 5) -> AsyncConnectionPool:
    """The pool AsyncPostgresSaver expects: autocommit, no prepared statements, dict rows."""
    return AsyncConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        open=False,
        name="checkpoints",
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        timeout=5,
    )


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every numbered migration, in order."""
    found = []
    for entry in resources.files("stores.migrations").iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text()))
    return sorted(found)


@contextlib.asynccontextmanager
async def migration_lock(url: str) -> AsyncIterator[AsyncConnection]:
    """An autocommit connection holding the migration advisory lock: one migrator at a time across processes
    (several workers start at once; langgraph's own `setup()` races with itself without it)."""
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        # Polled, not a blocking pg_advisory_lock: a waiter would sit in an open statement, and the holder's
        # CREATE INDEX CONCURRENTLY (in langgraph's setup) waits for every open transaction to end: a deadlock
        # through the holder's process that Postgres cannot see.
        while True:
            cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (_MIGRATION_LOCK,))
            if (await cur.fetchone())[0]:
                break
            await asyncio.sleep(0.05)
        try:
            yield conn
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))


async def migrate(url: str, *, embedding_dim: int) -> list[str]:
    """Apply the migrations not applied yet; returns the names applied. Safe to run from many processes."""
    applied: list[str] = []
    async with migration_lock(url) as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_settings (key text PRIMARY KEY, value text NOT NULL)")
        await _check_embedding_dim(conn, embedding_dim)
        cur = await conn.execute("SELECT version FROM schema_migrations")
        done = {row[0] for row in await cur.fetchall()}
        for version, name, sql in migration_files():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql.replace("{embedding_dim}", str(embedding_dim)))  # type: ignore[arg-type]
                await conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name))
            applied.append(name)
            log.info("applied migration %s", name)
    return applied


async def _check_embedding_dim(conn: AsyncConnection, embedding_dim: int) -> None:
    """Refuse to mix embedding models: vectors of another dimension would silently never match."""
    cur = await conn.execute("SELECT value FROM schema_settings WHERE key = 'embedding_dim'")
    row = await cur.fetchone()
    if row is None:
        await conn.execute(
            "INSERT INTO schema_settings (key, value) VALUES ('embedding_dim', %s)", (str(embedding_dim),)
        )
    elif int(row[0]) != embedding_dim:
        raise RuntimeError(
            f"the database holds {row[0]}-dimensional embeddings but the configured model makes "
            f"{embedding_dim}; use a fresh database (or ORCH_DATA_DIR) for another embedding model"
        )
