"""Sending a stored agent message to the contact on its channel, once.

A sender first claims the message (pending -> sending in Postgres), so two workers never send it both; a claim
left by a worker that died mid-send expires after the visibility timeout. An escalation offer goes out with
yes/no buttons, and its text still works where buttons do not.
"""

from __future__ import annotations

import uuid

import httpx

from api.services import Services
from channels.messages import OFFER_BUTTONS, Outbound
from channels.registry import ADAPTERS

DONE = ("sent", "delivered", "read")


def outbound_for(message: dict) -> Outbound:
    metadata = message["metadata"] or {}
    if message["path"] == "D" and metadata.get("escalation_id"):
        return Outbound(f"{message['content']} Reply yes or no.", OFFER_BUTTONS)
    if attribution := metadata.get("attribution"):
        return Outbound(f"{message['content']}\n\n— {attribution}")
    return Outbound(message["content"])


async def deliver(services: Services, http: httpx.AsyncClient, message_id: uuid.UUID, stale_after_s: float) -> None:
    """Send the message unless it was sent already or another worker is sending it; raises to be retried."""
    conversations = services.context.conversations
    message = await conversations.message_for_delivery(message_id)
    if message is None or message["delivery_status"] is None or message["delivery_status"] in DONE:
        return
    channel, agent_id = message["channel"], message["agent_id"]
    connection = await services.channels.enabled(agent_id, channel)
    if connection is None:
        await conversations.set_delivery(message_id, "failed")
        await services.channels.record(
            agent_id, channel, "failed", message_id=message_id, error="channel not connected"
        )
        return
    if not await conversations.claim_delivery(message_id, stale_after_s):
        return
    try:
        external_id = await ADAPTERS[channel].send(
            http, connection, message["external_contact_id"], outbound_for(message)
        )
    except Exception:
        await conversations.set_delivery(message_id, "pending")  # free the claim for the retry
        raise
    await conversations.set_delivery(message_id, "sent", external_id)
    await services.channels.record(
        agent_id,
        channel,
        "sent",
        conversation_id=message["conversation_id"],
        message_id=message_id,
        external_message_id=external_id,
        status="sent",
    )


async def give_up(services: Services, message_id: uuid.UUID) -> None:
    """After the last retry: the message stays stored, marked failed (the creator sees it in the metrics)."""
    await services.context.conversations.set_delivery(message_id, "failed")
