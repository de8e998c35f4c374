"""The `orchestrator` command: serve, worker, migrate, seed-demo, prune-checkpoints, eval."""

from __future__ import annotations

import argparse
import asyncio
import logging

from api.logs import configure_logging
from api.settings import load_settings
from evals.cli import add_eval_commands, run_eval_command


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="orchestrator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the API (embedded Postgres and Redis unless configured)")
    serve.add_argument("--host", help="bind address (default HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default PORT or 8000)")
    serve.add_argument("--seed-demo", action="store_true", help="create the demo creator, agent and users")
    serve.add_argument("--workers", type=int, help="worker processes (default ORCH_WORKERS or 1)")
    commands.add_parser("worker", help="run a channel worker: webhook messages in, replies out (run any number)")
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("seed-demo", help="create the demo data and print its keys")
    prune = commands.add_parser(
        "prune-checkpoints", help="delete the checkpoints of finished threads (what the API's retention job does)"
    )
    prune.add_argument(
        "--days",
        type=float,
        help="keep threads whose last step is this recent (default ORCH_CHECKPOINT_RETENTION_DAYS)",
    )
    add_eval_commands(commands)
    args = parser.parse_args(argv)

    cli_values = {
        "host": args.__dict__.get("host"),
        "port": args.__dict__.get("port"),
        "workers": args.__dict__.get("workers"),
    }
    overrides = {k: v for k, v in cli_values.items() if v}
    settings = load_settings(**overrides)
    configure_logging(settings.log_level, settings.log_format)

    if args.command == "serve":
        _serve(settings, seed_demo=args.seed_demo)
    elif args.command == "worker":
        asyncio.run(_worker(settings))
    elif args.command == "migrate":
        asyncio.run(_migrate(settings))
    elif args.command == "seed-demo":
        asyncio.run(_seed(settings))
    elif args.command == "prune-checkpoints":
        days = settings.checkpoint_retention_days if args.days is None else args.days
        raise SystemExit(asyncio.run(_prune_checkpoints(settings, days)))
    elif args.command == "eval":
        logging.getLogger().setLevel(logging.WARNING)  # the progress bar and the summary are the output
        raise SystemExit(run_eval_command(args))


def _serve(settings, *, seed_demo: bool) -> None:  # noqa: ANN001
    """Resolve the stores once (starting embedded ones), then run N identical workers against them."""
    import os

    import uvicorn

    from api.services import resolve_admin_key, resolve_urls

    _raise_open_file_limit()
    database_url, redis_url = resolve_urls(settings)
    admin_key, generated = resolve_admin_key(settings)
    # Every worker reads these, so they share one Postgres, one Redis and one admin key.
    os.environ.update({"DATABASE_URL": database_url, "REDIS_URL": redis_url, "ORCH_ADMIN_KEY": admin_key})
    if seed_demo:
        asyncio.run(_seed(load_settings(host=settings.host, port=settings.port)))
    else:
        # The key is shown once, when it is made; after that it is only in the file (or the environment).
        where = (
            admin_key
            if generated
            else "from ORCH_ADMIN_KEY"
            if settings.admin_key
            else f"in {settings.resolved_data_dir() / 'admin_key'}"
        )
        print(
            f"\nOrchestrator on http://{settings.host}:{settings.port} ({settings.workers} worker(s), model: "
            f"{settings.llm_mode})\n  admin key: {where}\n",
            flush=True,
        )
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level.lower(),
        log_config=None,  # our JSON handler (api/logs.py) formats uvicorn's records too
        access_log=False,  # api/middleware.py logs each request with its request id instead
    )


def _raise_open_file_limit() -> None:
    """Each open SSE client holds a socket (and a Redis connection): allow as many files as the system does."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def _worker(settings) -> None:  # noqa: ANN001
    """A channel worker until SIGTERM/SIGINT: finishes the jobs in hand, leaves the rest to the queue."""
    import signal

    from api.services import start_services
    from channels.worker import ChannelWorker

    services = await start_services(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    worker = ChannelWorker(services)
    print(f"Orchestrator channel worker {worker.name} (model: {settings.llm_mode})", flush=True)
    try:
        await worker.run(stop)
    finally:
        await services.close()


async def _migrate(settings) -> None:  # noqa: ANN001
    from api.services import resolve_urls
    from llm.embeddings import create_embedder
    from stores.database import migrate

    database_url, _ = resolve_urls(settings)
    embedder = await create_embedder(settings.embedding_model, settings.openai_api_key, settings.openai_base_url)
    applied = await migrate(database_url, embedding_dim=embedder.dim)
    print(f"applied: {', '.join(applied) if applied else 'nothing, up to date'}")


async def _prune_checkpoints(settings, days: float) -> int:  # noqa: ANN001
    """One retention pass now, with a progress line per batch; exit status 1 when another process holds the job."""
    from datetime import timedelta

    from psycopg.errors import UndefinedTable

    from api.services import resolve_urls
    from stores.database import create_checkpoint_pool, create_pool
    from stores.retention import CheckpointRetention, PruneReport

    def progress(report: PruneReport) -> None:
        print(f"\r{report.threads_seen} threads checked, {report.threads_pruned} pruned", end="", flush=True)

    database_url, _ = resolve_urls(settings)
    async with create_pool(database_url, max_size=1) as pool, create_checkpoint_pool(database_url) as checkpoints:
        try:
            report = await CheckpointRetention(pool, checkpoints).prune(timedelta(days=days), progress=progress)
        except UndefinedTable:
            print("no checkpoints yet: the service has not run on this database")
            return 0
    if report.skipped:
        print("another process is pruning right now; nothing done")
        return 1
    print(
        f"\rpruned {report.threads_pruned} finished thread(s) older than {days:g} day(s); {report.threads_seen} checked"
    )
    return 0


async def _seed(settings) -> None:  # noqa: ANN001
    from api.seed import print_demo, seed_demo_data
    from api.services import start_services

    services = await start_services(settings)
    try:
        print_demo(services, await seed_demo_data(services))
    finally:
        await services.close()


if __name__ == "__main__":
    main()
