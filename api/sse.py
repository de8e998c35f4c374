"""Server-sent event streams as pure async generators, apart from the endpoints that return them."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse

from api.errors import ApiError
from api.services import Services
from graphs.runner import TurnEvent
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
    except Exception:  # noqa: BLE001 - already logged by the runner; the client gets no internals
        yield sse("error", {"code": "turn_failed", "message": "the answer could not be completed; please retry"})
    yield sse("done", {"message_id": message_id})


async def live_stream(bus: EventBus, stream: str, after: str) -> AsyncIterator[dict]:
    """Events of a live stream after `after`, each with its stream id as the SSE id, until disconnect."""
    cursor = after
    while True:
        for event in await bus.read(stream, cursor):
            cursor = event.id
            yield sse(event.event, event.data, event_id=event.id)


async def live_response(services: Services, stream: str, last_event_id: str | None) -> EventSourceResponse:
    """An SSE response following a live stream from Last-Event-ID, or from now on."""
    if last_event_id is not None and not STREAM_ID.match(last_event_id):
        raise ApiError(400, "bad_request", "Last-Event-ID must be an id this stream sent (like 1700000000000-0)")
    after = last_event_id or await services.context.events.last_id(stream)
    return EventSourceResponse(live_stream(services.context.events, stream, after), ping=15)
