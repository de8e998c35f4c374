"""The state of one question's thread, from the user's message to the creator's answer."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

Path = Literal["A", "B", "C", "D", "E", "F"]


class TurnInput(TypedDict):
    """What starts a thread: the stored user message (its id is the thread id)."""

    message_id: str
    conversation_id: str
    agent_id: str
    user_id: str
    text: str
    channel: NotRequired[str]
    """Where the question came from: web, api, telegram, whatsapp, messenger or instagram."""
    deliver: NotRequired[bool]
    """Whether the agent's messages must also be sent out on the channel (a messaging contact's conversation)."""
    not_answered: NotRequired[bool]
    """The user said the answer to this question did not answer it: no canonical answer, offer the creator."""


class State(TurnInput, total=False):
    """Everything the nodes of one question's thread read and write."""

    started_at: float
    """Wall-clock start of the current run (the turn, or a resume): decision latency is measured from it."""
    phase: Literal["turn", "offer_reply", "creator_reply"]
    """Which run of the thread this is; messages of resumed runs are also published live."""
    agent: dict[str, Any]
    """The agent row (name, persona, enabled, config) with its creator's display name."""
    user_tier: str
    history: list[dict[str, Any]]
    """The conversation's earlier messages, oldest first (from the conversation store, not the thread)."""
    signals: dict[str, float]
    """similarity, novelty, complexity, confidence, and the parts they were made of."""
    knowledge: list[dict[str, Any]]
    """Retrieved knowledge chunks: title, text, similarity."""
    canonical_match: dict[str, Any] | None
    """The canonical answer that similarity nominated and verification accepted, if any."""
    canonical_rejected: list[dict[str, Any]]
    """Nominated candidates that verification turned down, and why."""
    refusal: str | None
    """Why the question is refused outright (blocked topic, tier, agent disabled), if it is."""
    escalation_block: str | None
    """Why the creator cannot be asked right now (disabled, tier, quota, hours), if they cannot."""
    analyse_answers: bool
    """Whether path A answers get a confidence analysis (deployment switch and the agent's config)."""
    hold: bool
    """Path A only: draft the answer without streaming it, so it can be held back after the analysis."""
    draft: str
    """The AI's answer, before the analysis decides what to do with it."""
    self_assessment: dict[str, Any] | None
    """The model's own {score, reason} for its draft, when it gave one that parsed."""
    analysis: dict[str, Any] | None
    """The confidence of the draft: score, level, action, factors."""
    path: Path
    reason: str
    escalation_id: str | None
    offer_reply: dict[str, Any]
    """The user's answer to the escalation offer: {"action": "accept" | "dismiss"}."""
    creator_reply: dict[str, Any]
    """The creator's decision: {"action": "answer", "answer", "layer"}, {"action": "link", "answer_id"} or {"action": "decline", "reason"}."""
    reply: dict[str, Any]
    """The last agent message this thread stored."""
