"""Replaying a dataset through the real graph on real stores, case by case, as users and the creator would."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.services import Services, start_services
from api.settings import load_settings
from evals.dataset import Case, Dataset
from graphs import gates
from graphs.config import AgentConfig
from graphs.runner import TurnEvent
from llm.embeddings import Embedder
from stores import embedded
from stores.knowledge import chunk_text


class Clock:
    """The graph's clock during a replay: a case's `at`, else the real time."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed or datetime.now(UTC)


@contextlib.asynccontextmanager
async def isolated_services(model: str = "offline", embedder: Embedder | None = None) -> AsyncIterator[Services]:
    """A fresh embedded Postgres + Redis used by nothing else, with the service's stores and graph on top."""
    data_dir = Path(tempfile.mkdtemp(prefix="orch-eval-"))
    try:
        overrides: dict[str, Any] = {
            "database_url": embedded.start_postgres(data_dir, cleanup_mode="delete"),
            "redis_url": embedded.start_redis(data_dir),
            "data_dir": data_dir / "service",
        }
        settings = load_settings(**overrides)
        if model == "offline":
            settings = load_settings(**overrides, openai_api_key=None, embedding_model="local")
        elif not settings.openai_api_key:
            raise RuntimeError("--model openai needs OPENAI_API_KEY (and OPENAI_BASE_URL for other servers)")
        services = await start_services(settings, embedder=embedder)
        try:
            yield services
        finally:
            await services.close()
    finally:
        embedded.stop_redis(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


def merge_config(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Config changes on top of a config; nested sections merge key by key, and an empty mapping clears one."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and value and isinstance(merged.get(key), dict) and merged[key]:
            merged[key] = merge_config(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass
class SeededAgent:
    """The dataset's agent, knowledge, canonical answers and users, created in the store."""

    agent_id: uuid.UUID
    config: dict[str, Any]
    users: dict[str, tuple[uuid.UUID, str]]
    canonical_keys: dict[str, str] = field(default_factory=dict)
    """canonical answer id -> the dataset's key (or its question)."""


async def seed_agent(services: Services, dataset: Dataset, overrides: dict[str, Any], suffix: str = "") -> SeededAgent:
    """Create everything the dataset describes; `suffix` keeps handles unique when many runs share a store."""
    ctx = services.context
    creator, _ = await ctx.accounts.create_creator(f"{dataset.agent.handle}-creator{suffix}", "the creator")
    config = AgentConfig.model_validate(merge_config(dataset.agent.config, overrides))
    agent = await ctx.agents.create(
        creator["id"], f"{dataset.agent.handle}{suffix}", dataset.agent.name, dataset.agent.persona, config
    )
    for document in dataset.knowledge:
        chunks = chunk_text(document.text)
        await ctx.knowledge.add_document(
            agent["id"], document.title, document.text, chunks, await ctx.embedder.embed(chunks)
        )
    keys: dict[str, str] = {}
    questions = [answer.question for answer in dataset.canonical_answers]
    embeddings = await ctx.embedder.embed(questions) if questions else []
    for answer, embedding in zip(dataset.canonical_answers, embeddings, strict=True):
        row = await ctx.canonical.create(agent["id"], answer.question, answer.answer, answer.layer, embedding)
        keys[str(row["id"])] = answer.key or answer.question
        variants = await ctx.embedder.embed(answer.variants) if answer.variants else []
        for phrasing, vector in zip(answer.variants, variants, strict=True):
            await ctx.variants.add(row["id"], phrasing, vector, "creator")
    users = {}
    for user in dataset.users:
        row, _ = await ctx.accounts.create_user(f"{user.handle}{suffix}", user.tier)
        users[user.handle] = (row["id"], user.tier)
    return SeededAgent(agent["id"], config.model_dump(mode="json"), users, keys)


@dataclass
class CaseResult:
    id: str
    user: str
    message: str
    expected_path: str
    actual_path: str
    reason: str | None
    signals: dict[str, float]
    latency_ms: float
    expected_reason: str | None = None
    expected_followup: str | None = None
    followup_path: str | None = None
    expected_answer: str | None = None
    served_answer: str | None = None
    near_miss: bool = False
    tags: list[str] = field(default_factory=list)
    confidence: dict | None = None
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def path_correct(self) -> bool:
        return self.actual_path == self.expected_path

    @property
    def correct(self) -> bool:
        """The path, and every other expectation the case states (reason, follow-up, served answer)."""
        return (
            self.path_correct
            and self.expected_reason in (None, self.reason)
            and self.expected_followup in (None, self.followup_path)
            and self.expected_answer in (None, self.served_answer)
        )

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"correct": self.correct, "path_correct": self.path_correct}


def _first(events: list[TurnEvent], name: str) -> dict[str, Any] | None:
    return next((event.data for event in events if event.event == name), None)


class Replayer:
    """Plays a dataset's cases in order against one seeded agent."""

    def __init__(self, services: Services, seeded: SeededAgent, clock: Clock) -> None:
        self.services = services
        self.seeded = seeded
        self.clock = clock
        self.conversations: dict[tuple[str, str], dict] = {}
        services.context.clock = clock

    async def play(self, cases: list[Case], progress: Callable[[], None] | None = None) -> list[CaseResult]:
        results = []
        for case in cases:
            results.append(await self.play_case(case))
            if progress:
                progress()
        return results

    async def play_case(self, case: Case) -> CaseResult:
        ctx = self.services.context
        if case.config:
            self.seeded.config = merge_config(self.seeded.config, case.config)
            await ctx.agents.update_config(self.seeded.agent_id, AgentConfig.model_validate(self.seeded.config))
        self.clock.fixed = case.at
        user_id, _ = self.seeded.users[case.user]
        result = CaseResult(
            id=case.id,
            user=case.user,
            message=case.message,
            expected_path=case.expected_path,
            actual_path="error",
            reason=None,
            signals={},
            latency_ms=0.0,
            expected_reason=case.expected_reason,
            expected_followup=case.expected_followup,
            expected_answer=case.expected_answer,
            near_miss=case.near_miss,
            tags=case.tags,
        )
        try:
            conversation = await self._conversation(case, user_id)
            started = time.perf_counter()
            _, stream = await self.services.runner.start(conversation, user_id, case.message)
            events = await self.services.runner.collect(stream)
            result.latency_ms = round((time.perf_counter() - started) * 1000, 2)
            self._read_turn(result, events)
            await self._human_steps(case, result, events)
        except Exception as exc:  # noqa: BLE001 - one broken case is reported, not fatal to the run
            result.error = f"{type(exc).__name__}: {exc}"
        return result

    async def _conversation(self, case: Case, user_id: uuid.UUID) -> dict:
        key = (case.user, case.conversation)
        if key not in self.conversations:
            self.conversations[key] = await self.services.context.conversations.create(
                self.seeded.agent_id, user_id, "api"
            )
        return self.conversations[key]

    def _read_turn(self, result: CaseResult, events: list[TurnEvent]) -> None:
        decision = _first(events, "decision") or {}
        final = _first(events, "message") or _first(events, "escalation_offer") or {}
        result.actual_path = decision.get("path", "error")
        result.reason = decision.get("reason")
        result.signals = decision.get("signals", {})
        result.confidence = final.get("confidence")
        if answer_id := final.get("canonical_answer_id"):
            result.served_answer = self.seeded.canonical_keys.get(answer_id, answer_id)
        result.details = {"reply": final.get("content", ""), "escalation_id": final.get("escalation_id")}

    async def _human_steps(self, case: Case, result: CaseResult, events: list[TurnEvent]) -> None:
        """The user's answer to an offer, then the creator's answer or decline, as the case says."""
        runner, escalations = self.services.runner, self.services.context.escalations
        escalation_id = result.details.get("escalation_id")
        if case.then is None or escalation_id is None:
            return
        escalation = await escalations.get(uuid.UUID(escalation_id))
        if case.then == "dismiss":
            await gates.dismiss_offer(runner, escalation)
            return
        followup = _first(await gates.accept_offer(runner, escalation), "decision") or {}
        result.followup_path = followup.get("path")
        escalation = await escalations.get(uuid.UUID(escalation_id))
        if escalation["status"] != "pending":
            return
        if case.creator_answer is not None:
            await gates.answer_escalation(runner, escalation, case.creator_answer, case.creator_layer)
            answered = await escalations.get(uuid.UUID(escalation_id))
            self.seeded.canonical_keys[str(answered["canonical_answer_id"])] = f"creator:{case.id}"
        elif case.creator_decline:
            await gates.decline_escalation(runner, escalation, None)
