"""Telegram Bot API: updates in (secret-token header), sendMessage out, inline keyboard buttons.

https://core.telegram.org/bots/api — a webhook set with `secret_token` makes Telegram send it back in
X-Telegram-Bot-Api-Secret-Token on every update.
"""

from __future__ import annotations

import httpx

from channels.messages import Inbound, Outbound
from stores.channels import token_matches

SECRET_HEADER = "x-telegram-bot-api-secret-token"
DEFAULT_API_BASE_URL = "https://api.telegram.org"
REQUIRED_CREDENTIALS = ("bot_token",)


def verify(headers: dict[str, str], body: bytes, connection: dict) -> bool:
    return token_matches(headers.get(SECRET_HEADER), connection["verify_token_hash"])


def parse(payload: dict) -> list[Inbound]:
    """An update: a text message or a button press (callback query); anything else is acknowledged and skipped."""
    if not isinstance(payload.get("update_id"), int):
        raise ValueError("not a Telegram update: update_id missing")
    if message := payload.get("message"):
        chat, sender = message.get("chat") or {}, message.get("from") or {}
        if "id" not in chat or "message_id" not in message:
            raise ValueError("message without chat.id or message_id")
        if not isinstance(message.get("text"), str):
            return []  # photos, stickers, joins...: nothing to answer
        return [
            Inbound(
                kind="message",
                external_id=f"{chat['id']}:{message['message_id']}",
                contact_id=str(chat["id"]),
                contact_name=_name(sender),
                conversation_id=str(chat["id"]),
                text=message["text"],
            )
        ]
    if query := payload.get("callback_query"):
        chat = ((query.get("message") or {}).get("chat")) or {}
        if "id" not in query or "id" not in chat:
            raise ValueError("callback_query without id or message.chat.id")
        return [
            Inbound(
                kind="button",
                external_id=f"callback:{query['id']}",
                contact_id=str(chat["id"]),
                contact_name=_name(query.get("from") or {}),
                conversation_id=str(chat["id"]),
                button=str(query.get("data") or ""),
            )
        ]
    return []


def _name(user: dict) -> str | None:
    name = " ".join(part for part in (user.get("first_name"), user.get("last_name")) if part)
    return name or user.get("username")


async def send(client: httpx.AsyncClient, connection: dict, recipient: str, message: Outbound) -> str:
    """sendMessage; returns "<chat id>:<message id>", the id Telegram gave the message."""
    body: dict = {"chat_id": recipient, "text": message.text}
    if message.buttons:
        body["reply_markup"] = {
            "inline_keyboard": [[{"text": label, "callback_data": data} for label, data in message.buttons]]
        }
    result = await _call(client, connection, "sendMessage", body)
    return f"{recipient}:{result['message_id']}"


async def acknowledge_button(client: httpx.AsyncClient, connection: dict, item: Inbound) -> None:
    """answerCallbackQuery: stops the button's spinner in the contact's app."""
    await _call(client, connection, "answerCallbackQuery", {"callback_query_id": item.external_id.split(":", 1)[1]})


async def _call(client: httpx.AsyncClient, connection: dict, method: str, body: dict) -> dict:
    url = f"{connection['api_base_url'].rstrip('/')}/bot{connection['credentials']['bot_token']}/{method}"
    response = await client.post(url, json=body)
    data = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 200 or not data.get("ok"):
        raise httpx.HTTPStatusError(
            f"Telegram {method} failed: {response.status_code} {data.get('description', '')}".strip(),
            request=response.request,
            response=response,
        )
    return data["result"]
