"""Eval datasets (YAML or JSON): loaded, validated, with errors that name the case and its line."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from graphs.config import AgentConfig, Layer, Tier

PathName = Literal["A", "B", "C", "D", "E", "F"]


class DatasetError(ValueError):
    """A dataset that cannot be used, with a message that says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentSpec(_Strict):
    handle: str
    name: str
    persona: str = ""
    config: dict[str, Any] = Field(default_factory=dict)


class KnowledgeSpec(_Strict):
    title: str
    text: str


class CanonicalSpec(_Strict):
    question: str
    answer: str
    layer: Layer = "public"
    key: str | None = Field(None, description="a name cases use in expected_answer")
    variants: list[str] = Field(default_factory=list, description="other phrasings of the question it answers")


class UserSpec(_Strict):
    handle: str
    tier: Tier


class Case(_Strict):
    """One message, replayed in order; state (answers, quotas, history) carries over to later cases."""

    id: str
    user: str
    message: str = Field(min_length=1)
    expected_path: PathName
    expected_reason: str | None = None
    then: Literal["accept", "dismiss"] | None = Field(None, description="the user's answer to an escalation offer")
    expected_followup: Literal["E", "F"] | None = Field(None, description="the path after `then: accept`")
    creator_answer: str | None = None
    creator_layer: Layer = "public"
    creator_decline: bool = False
    conversation: str = Field("main", description="cases of one user with the same name share a conversation")
    config: dict[str, Any] | None = Field(None, description="agent config changes applied from this case on")
    at: datetime | None = Field(None, description="the clock for this case (availability hours, quota days)")
    near_miss: bool = Field(False, description="a near-miss or its paraphrase: reported separately for path C")
    expected_answer: str | None = Field(
        None, description="key of the canonical answer path C must serve, or creator:<case id> for a creator's answer"
    )
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        if self.creator_answer is not None and self.creator_decline:
            raise ValueError("a case has creator_answer or creator_decline, not both")
        if (self.creator_answer is not None or self.creator_decline) and self.then != "accept":
            raise ValueError("creator_answer / creator_decline need `then: accept`")
        if self.expected_followup and self.then != "accept":
            raise ValueError("expected_followup needs `then: accept`")
        if self.at is not None and self.at.tzinfo is None:
            raise ValueError("`at` needs a timezone, e.g. 2026-11-23T10:00:00+01:00")
        return self


class Dataset(_Strict):
    name: str
    description: str = ""
    agent: AgentSpec
    knowledge: list[KnowledgeSpec] = Field(default_factory=list)
    canonical_answers: list[CanonicalSpec] = Field(default_factory=list)
    users: list[UserSpec] = Field(min_length=1)
    cases: list[Case] = Field(min_length=1)

    @model_validator(mode="after")
    def _valid_agent_config(self) -> Dataset:
        AgentConfig.model_validate(self.agent.config)
        return self


def load_dataset(path: str | Path) -> Dataset:
    """Read and validate a dataset file; DatasetError says what is wrong and where."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: no such file")
    text = path.read_text()
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise DatasetError(f"{path}: not valid YAML at {where}: {getattr(exc, 'problem', exc)}") from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: not valid JSON at line {exc.lineno}: {exc.msg}") from exc
    if not isinstance(raw, dict):
        raise DatasetError(f"{path}: a dataset is a mapping with name, agent, users and cases")
    lines = _case_lines(text, path)
    try:
        dataset = Dataset.model_validate(raw)
    except ValidationError as exc:
        raise DatasetError(f"{path}: " + _describe(exc, raw, lines)) from exc
    _check_references(dataset, lines, path)
    return dataset


def _check_references(dataset: Dataset, lines: list[int], path: Path) -> None:
    """Case ids are unique; users and canonical-answer keys that cases name exist."""
    handles = {user.handle for user in dataset.users}
    keys = {answer.key for answer in dataset.canonical_answers if answer.key}
    seen: set[str] = set()
    for index, case in enumerate(dataset.cases):
        if case.creator_answer is not None:
            keys.add(f"creator:{case.id}")  # later cases can expect the answer this case's creator wrote
        where = f"{path}: case {case.id!r}" + (f", line {lines[index]}" if index < len(lines) else "")
        if case.id in seen:
            raise DatasetError(f"{where}: duplicate case id")
        seen.add(case.id)
        if case.user not in handles:
            raise DatasetError(f"{where}: user {case.user!r} is not one of the dataset's users {sorted(handles)}")
        if case.expected_answer and case.expected_answer not in keys:
            raise DatasetError(f"{where}: expected_answer {case.expected_answer!r} names no canonical answer key")


def _describe(exc: ValidationError, raw: dict, lines: list[int]) -> str:
    problems = []
    for error in exc.errors()[:5]:
        loc = error["loc"]
        where = ".".join(str(part) for part in loc) or "dataset"
        if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int):
            case = raw["cases"][loc[1]] if loc[1] < len(raw.get("cases", [])) else {}
            case_id = case.get("id", "?") if isinstance(case, dict) else "?"
            line = f", line {lines[loc[1]]}" if loc[1] < len(lines) else ""
            where = f"case {case_id!r}{line}: {'.'.join(str(p) for p in loc[2:]) or 'case'}"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "is missing"
        problems.append(f"{where} {message}" if error["type"] == "missing" else f"{where}: {message}")
    return "; ".join(problems)


def _case_lines(text: str, path: Path) -> list[int]:
    """The line each case starts on (YAML only), for error messages."""
    if path.suffix == ".json":
        return []
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return []
    for key, value in getattr(root, "value", []):
        if getattr(key, "value", None) == "cases" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []
