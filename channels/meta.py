"""Meta's platforms: WhatsApp Cloud API, Messenger and Instagram messaging.

Webhooks are verified once with a GET (`hub.mode=subscribe`, `hub.verify_token`, answered with `hub.challenge`)
and every POST carries `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the app secret>`.
"""

from __future__ import annotations

import hashlib
import hmac

import httpx

from channels.messages import Inbound, Outbound

SIGNATURE_HEADER = "x-hub-signature-256"
DEFAULT_API_BASE_URL = "https://graph.facebook.com/v21.0"
WHATSAPP_CREDENTIALS = ("access_token", "phone_number_id")
PAGE_CREDENTIALS = ("access_token",)
WHATSAPP_STATUSES = {"sent", "delivered", "read", "failed"}


def verify(headers: dict[str, str], body: bytes, connection: dict) -> bool:
    secret = connection["signing_secret"]
    signature = headers.get(SIGNATURE_HEADER, "")
    if not secret or not signature.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature.removeprefix("sha256="), expected)


def sign(secret: str, body: bytes) -> str:
    """The header value Meta would send (used by the tests' stubs and by anyone replaying a webhook)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# WhatsApp


def parse_whatsapp(payload: dict) -> list[Inbound]:
    if payload.get("object") != "whatsapp_business_account" or not isinstance(payload.get("entry"), list):
        raise ValueError("not a WhatsApp Business Account webhook")
    items = []
    for entry in payload["entry"]:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            names = {c.get("wa_id"): (c.get("profile") or {}).get("name") for c in value.get("contacts") or []}
            for message in value.get("messages") or []:
                sender, message_id = message.get("from"), message.get("id")
                if not sender or not message_id:
                    raise ValueError("message without from or id")
                common = {"external_id": message_id, "contact_id": sender, "contact_name": names.get(sender)}
                if message.get("type") == "text":
                    items.append(Inbound(kind="message", text=(message.get("text") or {}).get("body", ""), **common))
                elif message.get("type") == "interactive":
                    reply = (message.get("interactive") or {}).get("button_reply") or {}
                    items.append(Inbound(kind="button", button=reply.get("id"), text=reply.get("title", ""), **common))
                elif message.get("type") == "button":  # a template's quick-reply button
                    button = message.get("button") or {}
                    items.append(
                        Inbound(kind="button", button=button.get("payload"), text=button.get("text", ""), **common)
                    )
            for status in value.get("statuses") or []:
                if status.get("status") in WHATSAPP_STATUSES and status.get("id"):
                    errors = status.get("errors") or [{}]
                    items.append(
                        Inbound(
                            kind="status",
                            external_id=status["id"],
                            contact_id=status.get("recipient_id", ""),
                            status=status["status"],
                            error=errors[0].get("title") if status["status"] == "failed" else None,
                        )
                    )
    return items


async def send_whatsapp(client: httpx.AsyncClient, connection: dict, recipient: str, message: Outbound) -> str:
    credentials = connection["credentials"]
    body: dict = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": recipient}
    if message.buttons:
        body |= {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": message.text},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": data, "title": label[:20]}} for label, data in message.buttons
                    ]
                },
            },
        }
    else:
        body |= {"type": "text", "text": {"body": message.text}}
    url = f"{connection['api_base_url'].rstrip('/')}/{credentials['phone_number_id']}/messages"
    data = await _post(client, url, credentials["access_token"], body)
    return data["messages"][0]["id"]


# Messenger and Instagram share the Send API and the webhook shape ("page" or "instagram" objects).


def parse_page(payload: dict, expected_object: str) -> list[Inbound]:
    if payload.get("object") != expected_object or not isinstance(payload.get("entry"), list):
        raise ValueError(f"not a {expected_object} webhook")
    items = []
    for entry in payload["entry"]:
        for event in entry.get("messaging") or []:
            sender = str((event.get("sender") or {}).get("id") or "")
            if not sender:
                raise ValueError("messaging event without sender.id")
            if message := event.get("message"):
                if message.get("is_echo"):
                    continue  # our own message, echoed back
                if not message.get("mid"):
                    raise ValueError("message without mid")
                quick = (message.get("quick_reply") or {}).get("payload")
                kind = "button" if quick else "message"
                if not quick and not isinstance(message.get("text"), str):
                    continue  # attachments only
                items.append(
                    Inbound(
                        kind=kind,
                        external_id=message["mid"],
                        contact_id=sender,
                        text=message.get("text", ""),
                        button=quick,
                    )
                )
            elif postback := event.get("postback"):
                items.append(
                    Inbound(
                        kind="button",
                        external_id=postback.get("mid") or f"postback:{sender}:{event.get('timestamp')}",
                        contact_id=sender,
                        text=postback.get("title", ""),
                        button=postback.get("payload"),
                    )
                )
            elif delivery := event.get("delivery"):
                items += [
                    Inbound(kind="status", external_id=mid, contact_id=sender, status="delivered")
                    for mid in delivery.get("mids") or []
                ]
            elif read := event.get("read"):
                items.append(
                    Inbound(
                        kind="status",
                        external_id=f"read:{sender}",
                        contact_id=sender,
                        status="read",
                        watermark_ms=read.get("watermark"),
                    )
                )
    return items


async def send_page(client: httpx.AsyncClient, connection: dict, recipient: str, message: Outbound) -> str:
    body: dict = {"recipient": {"id": recipient}, "messaging_type": "RESPONSE", "message": {"text": message.text}}
    if message.buttons:
        body["message"]["quick_replies"] = [
            {"content_type": "text", "title": label[:20], "payload": data} for label, data in message.buttons
        ]
    url = f"{connection['api_base_url'].rstrip('/')}/me/messages"
    data = await _post(client, url, connection["credentials"]["access_token"], body)
    return data["message_id"]


async def _post(client: httpx.AsyncClient, url: str, token: str, body: dict) -> dict:
    response = await client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    if response.status_code != 200:
        detail = ""
        if response.headers.get("content-type", "").startswith("application/json"):
            detail = str((response.json().get("error") or {}).get("message", ""))[:200]
        raise httpx.HTTPStatusError(
            f"Graph API {response.status_code} {detail}".strip(), request=response.request, response=response
        )
    return response.json()
