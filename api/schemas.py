"""Request and response shapes shared by several routers, and the JSON forms of stored rows."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from graphs.config import Layer

_HANDLE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,39}$")


def _handle(value: str) -> str:
    if not _HANDLE.match(value):
        raise ValueError("2-40 characters: lower-case letters, digits, '_', '.', '-'")
    return value


def storable(value: str) -> str:
    """Text Postgres can store: no NUL characters and no unpaired surrogates (both valid in JSON strings)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no unpaired surrogates)") from None
    return value


def _not_blank(value: str) -> str:
    if not storable(value).strip():
        raise ValueError("must not be blank")
    return value


StorableText = Annotated[str, AfterValidator(storable)]


Handle = Annotated[str, AfterValidator(_handle)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=120), AfterValidator(_not_blank)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=4000), AfterValidator(_not_blank)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=200_000), AfterValidator(_not_blank)]
AnswerText = Annotated[str, StringConstraints(min_length=1, max_length=10_000), AfterValidator(_not_blank)]
LayerField = Annotated[Layer, Field(description="public: every tier; friends: follower, paid; intimate: paid")]


def canonical_json(row: dict) -> dict:
    return {
        "id": str(row["id"]),
        "agent_id": str(row["agent_id"]),
        "question": row["question"],
        "answer": row["answer"],
        "layer": row["layer"],
        "times_reused": row["times_reused"],
        "variants": row.get("variants", 1),
        "escalation_id": str(row["escalation_id"]) if row["escalation_id"] else None,
        "created_at": row["created_at"].isoformat(),
    }


def escalation_json(row: dict) -> dict:
    ids = ("id", "agent_id", "conversation_id", "message_id", "canonical_answer_id")
    times = ("created_at", "queued_at", "resolved_at", "delivered_at")
    body = {key: (str(row[key]) if row[key] else None) for key in ids}
    body |= {key: (row[key].isoformat() if row[key] else None) for key in times}
    body |= {
        key: row[key]
        for key in (
            "question",
            "reason",
            "status",
            "context_summary",
            "signals",
            "user_tier",
            "answer",
            "answer_layer",
            "decline_reason",
            "ai_draft",
            "ai_confidence",
        )
    }
    body |= {"agent_handle": row.get("agent_handle"), "user_handle": row.get("user_handle")}
    return body


def message_json(row: dict) -> dict:
    return {
        "id": str(row["id"]),
        "conversation_id": str(row["conversation_id"]),
        "role": row["role"],
        "content": row["content"],
        "path": row["path"],
        "reply_to": str(row["reply_to"]) if row["reply_to"] else None,
        "metadata": row["metadata"],
        "created_at": row["created_at"].isoformat(),
    }
