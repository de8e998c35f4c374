"""Per-agent orchestration config: defaults from the product spec, validated on every write."""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Tier = Literal["free", "follower", "paid"]
Layer = Literal["public", "friends", "intimate"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
IMMEDIATE_THRESHOLDS = {"lenient": 0.20, "standard": 0.30, "strict": 0.50}

# Which tiers each canonical-answer layer admits.
LAYER_TIERS: dict[str, tuple[str, ...]] = {
    "public": ("free", "follower", "paid"),
    "friends": ("follower", "paid"),
    "intimate": ("paid",),
}


def layers_for_tier(tier: str) -> list[str]:
    """The canonical-answer layers a user of this tier may be served."""
    return [layer for layer, tiers in LAYER_TIERS.items() if tier in tiers]


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


class AvailabilityWindows(BaseModel):
    """Weekly hours in a timezone during which escalations are offered; no hours at all means always."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = "UTC"
    hours: dict[str, list[tuple[str, str]]] = Field(
        default_factory=dict, description='e.g. {"mon": [["09:00", "17:00"]]}; days missing are closed'
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        for day, spans in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use one of {', '.join(WEEKDAYS)}")
            for start, end in spans:
                if not _HHMM.match(start) or not _HHMM.match(end):
                    raise ValueError(f"{day}: times must be HH:MM, got {start!r}-{end!r}")
                if start >= end:
                    raise ValueError(f"{day}: {start}-{end} ends before it starts")
        return value


HIGH_STAKES_CATEGORIES: dict[str, tuple[str, ...]] = {
    "medical": (
        "pain",
        "injury",
        "injured",
        "symptom",
        "diagnosis",
        "disease",
        "medication",
        "medicine",
        "prescription",
        "dose",
        "dosage",
        "pregnant",
        "pregnancy",
        "surgery",
        "doctor",
        "heart",
        "blood pressure",
        "diabetes",
        "cancer",
        "allergy",
        "allergic",
        "depression",
        "eating disorder",
        "herniated",
        "fracture",
        "concussion",
    ),
    "legal": (
        "lawsuit",
        "sue",
        "legal",
        "lawyer",
        "contract",
        "court",
        "illegal",
        "liability",
        "copyright",
        "visa",
        "immigration",
        "custody",
        "divorce",
    ),
    "financial": (
        "invest",
        "investing",
        "investment",
        "stock",
        "crypto",
        "bitcoin",
        "loan",
        "mortgage",
        "debt",
        "tax",
        "retirement",
        "savings",
        "bankruptcy",
        "insurance",
    ),
    "safety": (
        "suicide",
        "self-harm",
        "overdose",
        "weapon",
        "gun",
        "poison",
        "abuse",
        "emergency",
        "dangerous",
        "toxic",
    ),
}


class ConfidenceEscalation(BaseModel):
    """How a path A answer's own confidence can send it to the creator instead."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    mode: Literal["lenient", "standard", "strict"] = "standard"
    immediate_threshold: float | None = Field(
        None, ge=0, le=1, description="below it the answer is held back and escalation offered; null: from the mode"
    )
    review_threshold: float = Field(0.60, ge=0, le=1, description="below it: a disclaimer and 'ask the creator'")
    high_stakes_keywords: list[str] = Field(
        default_factory=list, description="the creator's own, on top of the medical/legal/financial/safety defaults"
    )
    never_auto_answer: list[str] = Field(
        default_factory=list,
        description="categories (medical, legal, financial, safety) or keywords never answered by the AI alone",
    )
    add_disclaimer: bool = True

    @property
    def effective_immediate_threshold(self) -> float:
        return self.immediate_threshold if self.immediate_threshold is not None else IMMEDIATE_THRESHOLDS[self.mode]

    @model_validator(mode="after")
    def _ordered_thresholds(self) -> ConfidenceEscalation:
        if self.effective_immediate_threshold > self.review_threshold:
            raise ValueError("immediate_threshold must not exceed review_threshold")
        return self


class AgentConfig(BaseModel):
    """The rules one agent's graph runs by; takes effect on the next message after a write."""

    model_config = ConfigDict(extra="forbid")

    escalation_enabled: bool = True
    max_escalations_per_day: int = Field(10, ge=0, le=100_000)
    max_escalations_per_week: int = Field(50, ge=0, le=1_000_000)
    auto_answer_confidence_threshold: float = Field(0.75, ge=0, le=1)
    canonical_similarity_threshold: float = Field(0.85, ge=0, le=1)
    novelty_escalation_threshold: float = Field(0.70, ge=0, le=1)
    complexity_escalation_threshold: float = Field(0.60, ge=0, le=1)
    clarification_enabled: bool = True
    blocked_topics: list[str] = Field(default_factory=list)
    allowed_user_tiers: list[Tier] = Field(default_factory=lambda: ["free", "follower", "paid"])
    escalation_user_tiers: list[Tier] = Field(default_factory=lambda: ["follower", "paid"])
    availability_windows: AvailabilityWindows | dict = Field(default_factory=dict)
    expected_response_hours: int = Field(24, ge=1, le=24 * 30)
    confidence_escalation: ConfidenceEscalation = Field(default_factory=ConfidenceEscalation)

    @field_validator("blocked_topics")
    @classmethod
    def _clean_topics(cls, value: list[str]) -> list[str]:
        cleaned = [" ".join(topic.split()) for topic in value]
        if any(not topic for topic in cleaned):
            raise ValueError("blocked topics must not be empty")
        if any(len(topic) > 200 for topic in cleaned):
            raise ValueError("a blocked topic is at most 200 characters")
        return cleaned

    @field_validator("availability_windows", mode="before")
    @classmethod
    def _parse_windows(cls, value: object) -> object:
        if value in ({}, None):
            return {}
        return AvailabilityWindows.model_validate(value)

    @model_validator(mode="after")
    def _week_covers_day(self) -> AgentConfig:
        if self.max_escalations_per_week < self.max_escalations_per_day:
            raise ValueError("max_escalations_per_week must be at least max_escalations_per_day")
        return self

    @property
    def windows(self) -> AvailabilityWindows | None:
        return self.availability_windows if isinstance(self.availability_windows, AvailabilityWindows) else None

    @property
    def timezone(self) -> ZoneInfo:
        """The agent's timezone: the availability windows' one, else UTC (quota days are counted in it)."""
        return ZoneInfo(self.windows.timezone if self.windows else "UTC")
