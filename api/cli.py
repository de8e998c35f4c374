"""The `orchestrator` command: serve, migrate, seed-demo."""

from __future__ import annotations

import argparse
import asyncio
import logging

from api.settings import load_settings
from evals.cli import add_eval_commands, run_eval_command


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="orchestrator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the API (embedded Postgres and Redis unless configured)")
    serve.add_argument("--host", help="bind address (default HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default PORT or 8000)")
    serve.add_argument("--seed-demo", action="store_true", help="create the demo creator, agent and users")
    commands.add_parser("migrate", help="apply database migrations")
    commands.add_parser("seed-demo", help="create the demo data and print its keys")
    add_eval_commands(commands)
    args = parser.parse_args(argv)

    overrides = {k: v for k, v in {"host": args.__dict__.get("host"), "port": args.__dict__.get("port")}.items() if v}
    settings = load_settings(**overrides)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # it logs every pg_ctl call at INFO

    if args.command == "serve":
        import uvicorn

        from api.main import create_app

        app = create_app(settings, seed_demo=args.seed_demo)
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower())
    elif args.command == "migrate":
        asyncio.run(_migrate(settings))
    elif args.command == "seed-demo":
        asyncio.run(_seed(settings))
    elif args.command == "eval":
        logging.getLogger().setLevel(logging.WARNING)  # the progress bar and the summary are the output
        raise SystemExit(run_eval_command(args))


async def _migrate(settings) -> None:  # noqa: ANN001
    from api.services import resolve_urls
    from llm.embeddings import create_embedder
    from stores.database import migrate

    database_url, _ = resolve_urls(settings)
    embedder = await create_embedder(settings.embedding_model, settings.openai_api_key, settings.openai_base_url)
    applied = await migrate(database_url, embedding_dim=embedder.dim)
    print(f"applied: {', '.join(applied) if applied else 'nothing, up to date'}")


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
