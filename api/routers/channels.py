"""Messaging channels: a creator connects an agent to a platform; the platform's webhooks land here.

A webhook is verified (Telegram's secret token, Meta's X-Hub-Signature-256 HMAC), parsed, and each item is queued
once (a redelivered platform id is acknowledged and dropped) for a channel worker: the request does nothing else,
so it answers in milliseconds. A bad signature is 401 and nothing is stored or queued.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field, HttpUrl

from api.deps import OwnedAgentDep, ServicesDep
from api.errors import ApiError, not_found
from channels.messages import Inbound
from channels.registry import ADAPTERS
from stores.channels import token_matches

router = APIRouter(tags=["channels"])

MessagingChannel = Literal["telegram", "whatsapp", "messenger", "instagram"]
MAX_WEBHOOK_BYTES = 1_000_000


class ConnectionIn(BaseModel):
    credentials: dict[str, Annotated[str, Field(min_length=1, max_length=4096)]] = Field(
        description="telegram: bot_token; whatsapp: access_token, phone_number_id; messenger/instagram: access_token"
    )
    webhook_secret: str | None = Field(
        None,
        min_length=16,
        max_length=256,
        description="telegram: the secret_token given to setWebhook; Meta channels: the app secret that signs POSTs",
    )
    verify_token: str | None = Field(
        None, min_length=8, max_length=256, description="Meta channels: the token of the hub.challenge verification"
    )
    api_base_url: HttpUrl | None = Field(None, description="the platform's API; its public URL when left out")
    contact_tier: Literal["free", "follower", "paid"] = Field(
        "free", description="the tier of people who write through this channel"
    )
    enabled: bool = True


def connection_json(row: dict) -> dict:
    """A connection as its owner sees it: which credentials are set, never their values."""
    return {
        "agent_id": str(row["agent_id"]),
        "channel": row["channel"],
        "credentials": sorted(row["credentials"]),
        "webhook_path": f"/channels/{row['channel']}/{row['agent_id']}/webhook",
        "api_base_url": row["api_base_url"],
        "contact_tier": row["contact_tier"],
        "enabled": row["enabled"],
        "updated_at": row["updated_at"].isoformat(),
    }


@router.put("/agents/{agent_id}/channels/{channel}")
async def connect_channel(
    channel: MessagingChannel, body: ConnectionIn, agent: OwnedAgentDep, services: ServicesDep
) -> dict:
    """Connect (or reconnect) the agent to a messaging platform."""
    adapter = ADAPTERS[channel]
    if missing := [name for name in adapter.required_credentials if name not in body.credentials]:
        raise ApiError(422, "validation_error", f"{channel} needs credentials: {', '.join(missing)}")
    if not body.webhook_secret:
        raise ApiError(422, "validation_error", f"{channel} needs a webhook_secret to verify its webhooks")
    if adapter.meta_verification and not body.verify_token:
        raise ApiError(422, "validation_error", f"{channel} needs a verify_token for the hub.challenge GET")
    row = await services.channels.connect(
        agent["id"],
        channel,
        credentials=body.credentials,
        # Telegram's token is only compared (stored hashed); Meta's app secret signs, so it is kept as given.
        signing_secret=body.webhook_secret if adapter.meta_verification else None,
        verify_token=body.verify_token if adapter.meta_verification else body.webhook_secret,
        api_base_url=str(body.api_base_url or adapter.default_api_base_url),
        contact_tier=body.contact_tier,
        enabled=body.enabled,
    )
    return connection_json(row)


@router.get("/agents/{agent_id}/channels")
async def list_channels(agent: OwnedAgentDep, services: ServicesDep) -> list[dict]:
    """The agent's channel connections (without secrets)."""
    return [connection_json(row) for row in await services.channels.list(agent["id"])]


@router.get("/agents/{agent_id}/channels/events")
async def channel_events(agent: OwnedAgentDep, services: ServicesDep) -> list[dict]:
    """The sync log, newest first: received, sent, status updates, retries and dead letters with their errors."""
    return [
        {
            **{k: str(v) if isinstance(v, uuid.UUID) else v for k, v in row.items() if k != "created_at"},
            "created_at": row["created_at"].isoformat(),
        }
        for row in await services.channels.events(agent["id"])
    ]


async def _connection(services: ServicesDep, channel: str, agent_id: uuid.UUID) -> dict:
    connection = await services.channels.enabled(agent_id, channel)
    if connection is None:
        raise not_found("channel connection")
    return connection


@router.get("/channels/{channel}/{agent_id}/webhook", response_class=PlainTextResponse)
async def verify_webhook(
    channel: MessagingChannel,
    agent_id: uuid.UUID,
    services: ServicesDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    verify_token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=256)] = None,
) -> PlainTextResponse:
    """Meta's subscription check: echo hub.challenge when hub.verify_token is the one configured."""
    connection = await _connection(services, channel, agent_id)
    if not ADAPTERS[channel].meta_verification:
        raise not_found("webhook verification")
    if mode != "subscribe" or challenge is None or not token_matches(verify_token, connection["verify_token_hash"]):
        raise ApiError(403, "forbidden", "verification failed")
    return PlainTextResponse(challenge)


@router.post("/channels/{channel}/{agent_id}/webhook")
async def receive_webhook(
    channel: MessagingChannel, agent_id: uuid.UUID, request: Request, services: ServicesDep
) -> dict:
    """A platform's webhook: verify, parse, queue each item once; 200 for anything accepted or already seen."""
    connection = await _connection(services, channel, agent_id)
    body = await _read_limited(request)
    adapter = ADAPTERS[channel]
    if not adapter.verify({k.lower(): v for k, v in request.headers.items()}, body, connection):
        raise ApiError(401, "unauthorized", "webhook signature or secret token does not match")
    try:
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("the body is not a JSON object")
        items: list[Inbound] = adapter.parse(payload)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise ApiError(400, "bad_request", f"not a {channel} webhook body: {exc}"[:300]) from exc
    queue = services.context.channel_queue
    assert queue is not None
    queued = 0
    for item in items:
        queued += await queue.enqueue_inbound(channel, str(agent_id), item.to_json(), item.dedupe_key)
    return {"ok": True, "received": len(items), "queued": queued, "duplicates": len(items) - queued}


async def _read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_WEBHOOK_BYTES:
        raise ApiError(413, "payload_too_large", f"webhook bodies are limited to {MAX_WEBHOOK_BYTES} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_WEBHOOK_BYTES:
            raise ApiError(413, "payload_too_large", f"webhook bodies are limited to {MAX_WEBHOOK_BYTES} bytes")
    return body
