"""Starting a user's turn from the API: the per-user message rate, and retries under an idempotency key."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

from api.errors import ApiError, rate_limited
from api.services import Services
from graphs.runner import TurnEvent
from stores.accounts import Principal

_NAMESPACE = uuid.UUID("0b8f4e4e-3d1a-4c55-8f0e-6a5f8e2d7c19")
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
IDEMPOTENCY_KEY_DOC = (
    "any 1-200 printable characters naming this message: sending it again with the same key (after a dropped "
    "connection) stores nothing twice and returns the same turn"
)


async def begin_turn(
    services: Services, conversation: dict, user: Principal, text: str, idempotency_key: str | None
) -> tuple[dict, AsyncIterator[TurnEvent]]:
    """Store the message and start (or replay) its turn; 429 past the user's message rate."""
    verdict = await services.limiter.hit(f"turns:{user.id}", services.settings.rate_limit_turns)
    if not verdict.allowed:
        raise rate_limited("too many messages", verdict.retry_after_s)
    if idempotency_key is None:
        return await services.runner.start(conversation, user.id, text)  # type: ignore[arg-type]
    if not _KEY.match(idempotency_key):
        raise ApiError(422, "validation_error", "Idempotency-Key: 1-200 printable ASCII characters")
    message_id = uuid.uuid5(_NAMESPACE, f"{conversation['id']}:{idempotency_key}")
    stored = await services.context.conversations.get_message(message_id)
    if stored is not None and stored["content"] != text:
        raise ApiError(409, "conflict", "this Idempotency-Key was already used for a different message")
    return await services.runner.retry(conversation, user.id, text, message_id, stored)  # type: ignore[arg-type]
