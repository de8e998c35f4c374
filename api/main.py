"""The FastAPI app: lifespan (services up and down), middleware, routers, error handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.errors import install_error_handlers
from api.logs import configure_logging
from api.memory import limit_arenas, trim_forever
from api.middleware import EdgeMiddleware
from api.openapi import install_openapi
from api.recovery import sweep_forever
from api.retention import prune_forever
from api.routers import (
    admin,
    agents,
    channels,
    config,
    feedback,
    health,
    me,
    messaging,
    orchestrator,
    pages,
    variants,
)
from api.routers.pages import WEB_DIR
from api.services import start_services
from api.settings import Settings, load_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app; with no settings it reads them from the environment (how each worker process starts)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)  # again in each worker process uvicorn spawns
    limit_arenas()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await start_services(settings)
        app.state.services = services
        jobs = [asyncio.create_task(sweep_forever(services))]
        if settings.checkpoint_retention_days > 0:
            jobs.append(asyncio.create_task(prune_forever(services)))
        if settings.malloc_trim_every_s > 0:
            jobs.append(asyncio.create_task(trim_forever(settings.malloc_trim_every_s)))
        try:
            yield
        finally:
            for job in jobs:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            await services.close()

    app = FastAPI(title="Orchestrator", version="0.1.0", lifespan=lifespan)
    app.add_middleware(EdgeMiddleware)
    install_error_handlers(app)
    for module in (health, me, admin, agents, variants, channels, config, messaging, feedback, orchestrator, pages):
        app.include_router(module.router)
    install_openapi(app)
    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    return app
