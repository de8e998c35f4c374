"""Live events on Redis Streams: one stream per conversation and one per creator inbox.

Stream entry ids double as SSE event ids, so a client that reconnects with Last-Event-ID, to any worker,
gets exactly what it missed. Publishing never fails a turn: the message itself is already in Postgres.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

log = logging.getLogger(__name__)

STREAM_MAXLEN = 1000


def conversation_stream(conversation_id: uuid.UUID | str) -> str:
    return f"orch:conv:{conversation_id}"


def inbox_stream(creator_id: uuid.UUID | str) -> str:
    return f"orch:inbox:{creator_id}"


@dataclass(frozen=True, slots=True)
class LiveEvent:
    id: str
    event: str
    data: dict


class EventBus:
    """Publish and read named JSON events on Redis Streams."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def publish(self, stream: str, event: str, data: dict) -> str | None:
        try:
            entry_id = await self.redis.xadd(
                stream,
                {"event": event, "data": json.dumps(data, default=str)},
                maxlen=STREAM_MAXLEN,
                approximate=True,
            )
        except RedisError:
            log.warning("live event %s on %s not published: redis unavailable", event, stream)
            return None
        return entry_id.decode() if isinstance(entry_id, bytes) else entry_id

    async def read(self, stream: str, after: str, *, block_ms: int = 15_000, count: int = 100) -> list[LiveEvent]:
        """Events after the given entry id ('$' for only new ones), waiting up to block_ms for the first."""
        try:
            replies = await self.redis.xread({stream: after}, block=block_ms, count=count)
        except ResponseError as exc:  # a malformed Last-Event-ID
            raise ValueError(str(exc)) from exc
        events = []
        for _, entries in replies or []:
            for entry_id, fields in entries:
                raw = {k.decode() if isinstance(k, bytes) else k: v for k, v in fields.items()}
                events.append(
                    LiveEvent(
                        id=entry_id.decode() if isinstance(entry_id, bytes) else entry_id,
                        event=_text(raw["event"]),
                        data=json.loads(_text(raw["data"])),
                    )
                )
        return events

    async def last_id(self, stream: str) -> str:
        """The id of the newest entry, so a fresh subscriber starts exactly there."""
        entries = await self.redis.xrevrange(stream, count=1)
        if not entries:
            return "0-0"
        entry_id = entries[0][0]
        return entry_id.decode() if isinstance(entry_id, bytes) else entry_id


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
