"""What every node gets through the runtime context: stores, models and settings, never module globals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from langchain_core.language_models import BaseChatModel

from channels.queue import ChannelQueue
from llm.answer_classifier import AnswerModels
from llm.embeddings import Embedder
from stores.accounts import AccountStore
from stores.agents import AgentStore
from stores.canonical import CanonicalStore
from stores.conversations import ConversationStore
from stores.decisions import DecisionStore
from stores.escalations import EscalationStore
from stores.event_log import EventLog
from stores.events import EventBus
from stores.knowledge import KnowledgeStore
from stores.variants import VariantStore


@dataclass(kw_only=True)
class Context:
    """Per-run dependencies of the orchestration graph."""

    accounts: AccountStore = field(metadata={"description": "creators, users and keys"})
    agents: AgentStore = field(metadata={"description": "agents and their config"})
    knowledge: KnowledgeStore = field(metadata={"description": "knowledge chunks with embeddings"})
    canonical: CanonicalStore = field(metadata={"description": "the creator's canonical answers"})
    variants: VariantStore = field(metadata={"description": "answers' question variants, negative pairs, feedback"})
    answer_models: AnswerModels = field(metadata={"description": "per-agent answer classifiers, kept current"})
    conversations: ConversationStore = field(metadata={"description": "conversations and messages"})
    escalations: EscalationStore = field(metadata={"description": "escalations and quotas"})
    decisions: DecisionStore = field(metadata={"description": "the decisions log"})
    events: EventBus = field(metadata={"description": "live events on Redis Streams"})
    embedder: Embedder = field(metadata={"description": "question and knowledge embeddings"})
    event_log: EventLog = field(metadata={"description": "product events such as human_handoff.requested"})
    chat_model: BaseChatModel = field(metadata={"description": "the model that writes path A answers"})
    channel_queue: ChannelQueue | None = field(
        default=None, metadata={"description": "delivery jobs for messages to messaging-channel contacts"}
    )
    clock: Callable[[], datetime] = field(
        default=lambda: datetime.now(UTC),
        metadata={"description": "the current time (quota days, availability hours); evals and simulations set it"},
    )
    confidence_analysis: bool = field(
        default=True, metadata={"description": "ENABLE_CONFIDENCE_ESCALATION: analyse path A answers at all"}
    )
    self_assessment: Literal["inline", "second_call", "off"] = field(
        default="off", metadata={"description": "how the model rates its own answer ('off' for the offline model)"}
    )
