"""Liveness, and whether Postgres and Redis answer."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(services: ServicesDep) -> JSONResponse:
    """200 when Postgres answers (Redis down only degrades live events), else 503."""

    async def postgres() -> bool:
        async with services.pool.connection(timeout=2) as conn:
            await conn.execute("SELECT 1")
        return True

    async def redis() -> bool:
        return bool(await services.redis.ping())

    checks = {}
    for name, probe in (("postgres", postgres), ("redis", redis)):
        try:
            checks[name] = await asyncio.wait_for(probe(), timeout=3)
        except Exception:  # noqa: BLE001 - any failure means "does not answer"
            checks[name] = False
    status = "ok" if all(checks.values()) else "degraded" if checks["postgres"] else "down"
    body = {
        "status": status,
        **checks,
        "llm": services.settings.llm_mode,
        "embeddings": services.settings.embedding_model,
    }
    return JSONResponse(body, status_code=200 if checks["postgres"] else 503)
