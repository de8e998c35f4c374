"""The service's runtime pieces, started and stopped together: databases, models, stores and the graph.

Used by the API lifespan, the CLI and the evals, so they all run the same code on the same kind of stores.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis
from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg_pool import AsyncConnectionPool

from api.limits import RateLimiter, StreamSlots
from api.settings import Settings
from channels.queue import ChannelQueue
from graphs.context import Context
from graphs.orchestrator import builder
from graphs.runner import TurnRunner
from llm.answer_classifier import AnswerModels
from llm.chat import create_chat_model
from llm.embeddings import Embedder, create_embedder
from stores import embedded
from stores.accounts import AccountStore
from stores.agents import AgentStore
from stores.canonical import CanonicalStore
from stores.channels import ChannelStore
from stores.conversations import ConversationStore
from stores.database import create_checkpoint_pool, create_pool, migrate, migration_lock
from stores.decisions import DecisionStore
from stores.escalations import EscalationStore
from stores.event_log import EventLog
from stores.events import EventBus
from stores.knowledge import KnowledgeStore
from stores.variants import VariantStore

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a running Orchestrator holds; built by `start_services`, released by `close`."""

    settings: Settings
    database_url: str
    redis_url: str
    admin_key: str
    pool: AsyncConnectionPool
    checkpoint_pool: AsyncConnectionPool
    redis: aioredis.Redis
    context: Context
    runner: TurnRunner
    channels: ChannelStore
    limiter: RateLimiter
    streams: StreamSlots

    async def close(self) -> None:
        await self.runner.drain()
        await self.redis.aclose()
        await self.checkpoint_pool.close()
        await self.pool.close()


def resolve_urls(settings: Settings) -> tuple[str, str]:
    """The configured Postgres and Redis, or the embedded ones under the data dir."""
    data_dir = settings.resolved_data_dir()
    database_url = settings.database_url or embedded.start_postgres(data_dir)
    redis_url = settings.redis_url or embedded.start_redis(data_dir)
    return database_url, redis_url


def resolve_admin_key(settings: Settings) -> tuple[str, bool]:
    """ORCH_ADMIN_KEY, or the key in <data dir>/admin_key, generated on first start. (key, newly made)."""
    if settings.admin_key:
        return settings.admin_key, False
    path: Path = settings.resolved_data_dir() / "admin_key"
    if path.exists():
        return path.read_text().strip(), False
    key = f"orch_a_{secrets.token_urlsafe(32)}"
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key, True


async def start_services(
    settings: Settings, *, embedder: Embedder | None = None, chat_model: BaseChatModel | None = None
) -> Services:
    """Connect (starting embedded servers if needed), migrate, load the models and compile the graph."""
    database_url, redis_url = resolve_urls(settings)
    embedder = embedder or await create_embedder(
        settings.embedding_model, settings.openai_api_key, settings.openai_base_url
    )
    await migrate(database_url, embedding_dim=embedder.dim)

    pool = create_pool(database_url, max_size=settings.db_pool_size)
    checkpoint_pool = create_checkpoint_pool(database_url, max_size=max(5, settings.checkpointer_shards + 1))
    await pool.open(wait=True)
    await checkpoint_pool.open(wait=True)
    # Each saver serialises its calls on one lock (langgraph#7259): several share the pool, one per thread id.
    checkpointers = [AsyncPostgresSaver(checkpoint_pool) for _ in range(settings.checkpointer_shards)]  # type: ignore[arg-type]
    async with migration_lock(database_url):
        await checkpointers[0].setup()
    # Every open /events client blocks on its own XREAD: the pool must hold one connection per live client.
    redis = aioredis.Redis.from_url(
        redis_url, socket_connect_timeout=2, socket_timeout=30, max_connections=settings.redis_max_connections
    )

    context = Context(
        accounts=AccountStore(pool),
        agents=AgentStore(pool),
        knowledge=KnowledgeStore(pool),
        canonical=CanonicalStore(pool),
        variants=(variants := VariantStore(pool)),
        answer_models=AnswerModels(variants.training_data),
        conversations=ConversationStore(pool),
        escalations=EscalationStore(pool),
        decisions=DecisionStore(pool),
        events=EventBus(redis),
        embedder=embedder,
        event_log=EventLog(pool),
        chat_model=chat_model
        or create_chat_model(settings.openai_api_key, settings.openai_base_url, settings.openai_model),
        confidence_analysis=settings.enable_confidence_escalation,
        self_assessment=settings.confidence_self_assessment if settings.llm_mode == "openai" else "off",
        channel_queue=ChannelQueue(
            redis, max_retries=settings.worker_max_retries, backoff_ms=settings.worker_backoff_ms
        ),
    )
    admin_key, _ = resolve_admin_key(settings)
    await context.accounts.ensure_admin_key(admin_key)
    graphs = [builder.compile(checkpointer=saver, name="orchestrator") for saver in checkpointers]
    return Services(
        settings=settings,
        database_url=database_url,
        redis_url=redis_url,
        admin_key=admin_key,
        pool=pool,
        checkpoint_pool=checkpoint_pool,
        redis=redis,
        context=context,
        runner=TurnRunner(graphs, context),
        channels=ChannelStore(pool),
        limiter=RateLimiter(redis),
        streams=StreamSlots(redis),
    )
