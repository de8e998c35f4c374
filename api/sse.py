"""Server-sent event streams as pure async generators, apart from the endpoints that return them."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse
from starlette.types import Receive, Scope, Send

from api.errors import ApiError, rate_limited, turn_error
from api.limits import Slot
from api.services import Services
from graphs.runner import TurnEvent
from stores.accounts import Principal
from stores.events import EventBus

log = logging.getLogger(__name__)

STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


def sse(event: str, data: dict, event_id: str | None = None) -> dict:
    item = {"event": event, "data": json.dumps(data, default=str)}
    if event_id:
        item["id"] = event_id
    return item


async def turn_stream(message_id: str, events: AsyncIterator[TurnEvent]) -> AsyncIterator[dict]:
    """decision, token*, message | escalation_offer, and always `done` last; failures become `error`."""
    try:
        async for event in events:
            yield sse(event.event, event.data)
    except Exception as exc:  # noqa: BLE001 - already logged by the runner; the client gets no internals
        error = turn_error(exc)
        yield sse("error", {"code": error.code, "message": error.message})
    yield sse("done", {"message_id": message_id})


async def live_stream(bus: EventBus, stream: str, after: str) -> AsyncIterator[dict]:
    """Events of a live stream after `after`, each with its stream id as the SSE id, until disconnect."""
    cursor = after
    while True:
        for event in await bus.read(stream, cursor):
            cursor = event.id
            yield sse(event.event, event.data, event_id=event.id)


async def take_stream_slot(services: Services, principal: Principal) -> Slot:
    """One of the caller's concurrent stream slots, or 429 when all are in use."""
    slot = await services.streams.take(f"{principal.role}:{principal.id}", services.settings.max_streams)
    if slot is None:
        raise rate_limited(f"at most {services.settings.max_streams} open streams per key", 5)
    return slot


def sse_response(services: Services, content: AsyncIterator[dict], slot: Slot) -> EventSourceResponse:
    """The SSE response holding `slot` while it streams.

    A client that stops reading cannot make the server buffer without bound: events are produced only as fast as
    they are sent (a turn's are at most one answer long), and a send that waits longer than the send timeout ends
    the stream and frees its slot.
    """
    return _SlotResponse(content, slot=slot, ping=15, send_timeout=services.settings.sse_send_timeout_s)


class _SlotResponse(EventSourceResponse):
    """Frees its stream slot however the response ends: done, client gone, or cut off by the send timeout."""

    def __init__(self, content: AsyncIterator[dict], *, slot: Slot, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.slot.keep_alive()
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.slot.release()


async def live_response(
    services: Services, principal: Principal, stream: str, last_event_id: str | None
) -> EventSourceResponse:
    """An SSE response following a live stream from Last-Event-ID, or from now on."""
    if last_event_id is not None and not STREAM_ID.match(last_event_id):
        raise ApiError(400, "bad_request", "Last-Event-ID must be an id this stream sent (like 1700000000000-0)")
    after = last_event_id or await services.context.events.last_id(stream)
    slot = await take_stream_slot(services, principal)
    return sse_response(services, live_stream(services.context.events, stream, after), slot)
