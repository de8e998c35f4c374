"""Deployment settings, read once from the environment (upper-case names)."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a deployment can change; explicit arguments always win over the environment."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    database_url: str | None = Field(None, alias="DATABASE_URL")
    redis_url: str | None = Field(None, alias="REDIS_URL")
    openai_api_key: str | None = Field(None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    openai_model: str = Field("gpt-4o-mini", alias="OPENAI_MODEL")
    embedding_model: str = Field(
        "local",
        alias="EMBEDDING_MODEL",
        description="'local' (all-MiniLM-L6-v2) or an OpenAI embedding model",
    )
    host: str = Field("127.0.0.1", alias="HOST")
    port: int = Field(8000, alias="PORT")
    data_dir: Path = Field(Path(".data"), alias="ORCH_DATA_DIR")
    admin_key: str | None = Field(None, alias="ORCH_ADMIN_KEY")
    enable_confidence_escalation: bool = Field(
        True, alias="ENABLE_CONFIDENCE_ESCALATION", description="analyse every path A answer (deployment-wide switch)"
    )
    confidence_self_assessment: Literal["inline", "second_call", "off"] = Field(
        "inline",
        alias="CONFIDENCE_SELF_ASSESSMENT",
        description="how a real model rates its own answer: in the same call, in a second call, or not at all",
    )
    workers: int = Field(1, alias="ORCH_WORKERS", ge=1, le=64, description="API worker processes")
    db_pool_size: int = Field(10, alias="ORCH_DB_POOL_SIZE")
    redis_max_connections: int = Field(
        5000, alias="ORCH_REDIS_MAX_CONNECTIONS", description="one per open /events client, plus a few"
    )
    checkpointer_shards: int = Field(
        4,
        alias="ORCH_CHECKPOINTER_SHARDS",
        ge=1,
        le=64,
        description="checkpointer instances per process: each serialises its calls on one lock (langgraph#7259)",
    )
    worker_max_retries: int = Field(
        5, alias="WORKER_MAX_RETRIES", ge=0, description="channel jobs: attempts after the first before dead-lettering"
    )
    worker_visibility_timeout_ms: int = Field(
        30000,
        alias="WORKER_VISIBILITY_TIMEOUT_MS",
        ge=100,
        description="a channel job a worker took and has not acknowledged this long is reclaimed by another",
    )
    worker_prefetch: int = Field(8, alias="WORKER_PREFETCH", ge=1, description="channel jobs in flight per worker")
    worker_backoff_ms: int = Field(
        500, alias="WORKER_BACKOFF_MS", ge=1, description="first retry delay; doubles with every attempt"
    )
    channel_http_timeout_s: float = Field(10.0, alias="CHANNEL_HTTP_TIMEOUT_S", description="platform API calls")
    log_level: str = Field("info", alias="LOG_LEVEL")
    log_format: Literal["json", "text"] = Field(
        "json", alias="LOG_FORMAT", description="json: one object per line with the request id; text: for a terminal"
    )
    rate_limit_per_key: int = Field(
        600, alias="ORCH_RATE_LIMIT_PER_KEY", description="requests per minute per API key (0: unlimited)"
    )
    rate_limit_per_ip: int = Field(
        1200, alias="ORCH_RATE_LIMIT_PER_IP", description="requests per minute per client address (0: unlimited)"
    )
    rate_limit_turns: int = Field(
        30, alias="ORCH_RATE_LIMIT_TURNS", description="messages per minute per user (0: unlimited)"
    )
    max_streams: int = Field(
        5, alias="ORCH_MAX_STREAMS", description="open SSE streams per key across workers (0: unlimited)"
    )
    max_body_bytes: int = Field(
        1_048_576, alias="ORCH_MAX_BODY_BYTES", ge=1024, description="larger request bodies get 413"
    )
    checkpoint_retention_days: float = Field(
        30.0,
        alias="ORCH_CHECKPOINT_RETENTION_DAYS",
        ge=0,
        description="a finished thread's checkpoints are deleted this long after its last step (0: kept forever)",
    )
    checkpoint_prune_every_s: float = Field(
        3600.0, alias="ORCH_CHECKPOINT_PRUNE_EVERY_S", gt=0, description="how often the retention job runs"
    )
    malloc_trim_every_s: float = Field(
        60.0,
        alias="ORCH_MALLOC_TRIM_EVERY_S",
        ge=0,
        description="how often each worker hands malloc's free memory back to the system (0: never)",
    )
    sse_send_timeout_s: float = Field(
        30.0, alias="ORCH_SSE_SEND_TIMEOUT_S", gt=0, description="an SSE client that reads nothing this long is cut off"
    )

    @cached_property
    def llm_mode(self) -> str:
        """'openai' when a key is configured, else the deterministic offline model."""
        return "openai" if self.openai_api_key else "offline"

    def resolved_data_dir(self) -> Path:
        path = self.data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides on top."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return Settings(**overrides)  # type: ignore[arg-type]
