"""Webhook bodies as the platforms send them, and the calls that connect an agent to a platform stub."""

from __future__ import annotations

import itertools
import json
import secrets

from channels.meta import sign
from tests.utils.api import Api, World

TELEGRAM_SECRET = "tg-secret-" + "x" * 16
META_APP_SECRET = "meta-app-secret-0123456789"
META_VERIFY_TOKEN = "verify-me-please"
PHONE_NUMBER_ID = "109876543210"
_ids = itertools.count(1)


async def connect(api: Api, world: World, channel: str, stub_url: str, tier: str = "follower") -> dict:
    credentials = {
        "telegram": {"bot_token": "123456:TEST-TOKEN"},
        "whatsapp": {"access_token": "EAAG-test", "phone_number_id": PHONE_NUMBER_ID},
    }.get(channel, {"access_token": "EAAG-page"})
    body = {
        "credentials": credentials,
        "webhook_secret": TELEGRAM_SECRET if channel == "telegram" else META_APP_SECRET,
        "api_base_url": stub_url,
        "contact_tier": tier,
    }
    if channel != "telegram":
        body["verify_token"] = META_VERIFY_TOKEN
    return await api.call("PUT", f"/agents/{world.agent_id}/channels/{channel}", world.creator_key, json=body)


def telegram_message(chat_id: int, text: str, *, message_id: int | None = None) -> dict:
    return {
        "update_id": next(_ids),
        "message": {
            "message_id": message_id or next(_ids),
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ann", "last_name": "Lee"},
            "chat": {"id": chat_id, "type": "private", "first_name": "Ann"},
            "date": 1700000000,
            "text": text,
        },
    }


def telegram_button(chat_id: int, data: str) -> dict:
    return {
        "update_id": next(_ids),
        "callback_query": {
            "id": str(secrets.randbits(40)),
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ann"},
            "message": {"message_id": next(_ids), "chat": {"id": chat_id, "type": "private"}},
            "data": data,
        },
    }


def whatsapp_message(wa_id: str, text: str, *, message_id: str | None = None) -> dict:
    return _whatsapp(
        {
            "contacts": [{"profile": {"name": "Bea"}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": message_id or f"wamid.in{next(_ids)}",
                    "timestamp": "1700000000",
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        }
    )


def whatsapp_status(wa_id: str, message_id: str, status: str) -> dict:
    return _whatsapp(
        {"statuses": [{"id": message_id, "status": status, "timestamp": "1700000001", "recipient_id": wa_id}]}
    )


def _whatsapp(value: dict) -> dict:
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE_NUMBER_ID}} | value
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA1", "changes": [{"field": "messages", "value": value}]}],
    }


def messenger_message(psid: str, text: str) -> dict:
    return {
        "object": "page",
        "entry": [
            {
                "id": "PAGE1",
                "time": 1700000000000,
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": "PAGE1"},
                        "timestamp": 1700000000000,
                        "message": {"mid": f"m_in{next(_ids)}", "text": text},
                    }
                ],
            }
        ],
    }


async def post_webhook(api: Api, channel: str, agent_id: str, payload: dict | bytes, *, secret: str | None = None):  # noqa: ANN201
    """POST a webhook as the platform would: Telegram's secret header or Meta's signature (of the exact bytes)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if channel == "telegram":
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret if secret is not None else TELEGRAM_SECRET
    else:
        headers["X-Hub-Signature-256"] = sign(secret if secret is not None else META_APP_SECRET, body)
    return await api.client.post(f"/channels/{channel}/{agent_id}/webhook", content=body, headers=headers)
