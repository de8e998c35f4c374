"""What a channel worker does with one inbound item: a contact's message runs the graph, a yes/no answers an open
escalation offer, a status report updates the message it is about.

Everything here may run twice for one item (a worker that died before acknowledging it): the message id derives
from the platform's id, a thread that already ran is not run again, and gate decisions are compare-and-set.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import UTC, datetime

import httpx

from api.services import Services
from channels.messages import Inbound, offer_reply
from channels.registry import ADAPTERS
from graphs.gates import GateConflict, accept_offer, dismiss_offer

log = logging.getLogger(__name__)

_NAMESPACE = uuid.UUID("0b7f6a52-3c0e-4b57-9a1e-6a3f3c1d2e90")


def channel_message_id(channel: str, agent_id: uuid.UUID, external_id: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{channel}:{agent_id}:{external_id}")


async def ingest(services: Services, http: httpx.AsyncClient, channel: str, agent_id: uuid.UUID, item: Inbound) -> None:
    connection = await services.channels.enabled(agent_id, channel)
    if connection is None:
        await services.channels.record(
            agent_id, channel, "failed", external_message_id=item.external_id, error="channel not connected"
        )
        return
    if item.kind == "status":
        await _status_update(services, channel, agent_id, item)
        return

    ctx = services.context
    user = await ctx.accounts.user_for_contact(agent_id, channel, item.contact_id, connection["contact_tier"])
    conversation = await ctx.conversations.for_contact(
        agent_id,
        channel,
        item.contact_id,
        user_id=user["id"],
        contact_name=item.contact_name,
        external_conversation_id=item.conversation_id,
    )
    message_id = channel_message_id(channel, agent_id, item.external_id)
    record = {"conversation_id": conversation["id"], "message_id": message_id, "external_message_id": item.external_id}

    acknowledge = ADAPTERS[channel].acknowledge_button
    if item.kind == "button" and acknowledge is not None:
        with contextlib.suppress(httpx.HTTPError):  # cosmetic: the button stops spinning
            await acknowledge(http, connection, item)

    if (answer := offer_reply(item.text, item.button)) and (
        offer := await ctx.escalations.open_offer(conversation["id"])
    ):
        await ctx.conversations.add_message(
            conversation["id"], "user", item.text or answer, message_id=message_id, external_message_id=item.external_id
        )
        with contextlib.suppress(GateConflict):  # already decided: a redelivery, or the web page was quicker
            await (accept_offer if answer == "accept" else dismiss_offer)(services.runner, offer)
        await services.channels.record(agent_id, channel, "received", status=f"offer_{answer}", **record)
        return
    if not item.text.strip():
        return  # a stray button with nothing to ask

    if not await services.runner.thread_exists(message_id):
        _, events = await services.runner.start(
            conversation, user["id"], item.text, message_id=message_id, external_message_id=item.external_id
        )
        await services.runner.collect(events)
    await services.channels.record(agent_id, channel, "received", **record)


async def _status_update(services: Services, channel: str, agent_id: uuid.UUID, item: Inbound) -> None:
    conversations = services.context.conversations
    assert item.status is not None
    if item.watermark_ms is not None:
        watermark = datetime.fromtimestamp(item.watermark_ms / 1000, UTC)
        updated = await conversations.mark_read_until(agent_id, channel, item.contact_id, watermark)
    else:
        found = await conversations.update_delivery_by_external(agent_id, channel, item.external_id, item.status)
        updated = [found] if found else []
    for message_id in updated:
        await services.channels.record(
            agent_id,
            channel,
            "status_update",
            message_id=message_id,
            external_message_id=item.external_id,
            status=item.status,
            error=item.error,
        )
