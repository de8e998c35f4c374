"""One adapter per channel: how its webhooks are verified and read, and how a message is sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

import httpx

from channels import meta, telegram
from channels.messages import Inbound, Outbound


@dataclass(frozen=True)
class Adapter:
    channel: str
    verify: Callable[[dict[str, str], bytes, dict], bool]
    parse: Callable[[dict], list[Inbound]]
    send: Callable[[httpx.AsyncClient, dict, str, Outbound], Awaitable[str]]
    required_credentials: tuple[str, ...]
    default_api_base_url: str
    meta_verification: bool
    """Meta channels answer a GET `hub.challenge` and sign POSTs with the app secret; Telegram sends a token."""
    acknowledge_button: Callable[[httpx.AsyncClient, dict, Inbound], Awaitable[None]] | None = None
    """Platforms that want each button press acknowledged (Telegram's answerCallbackQuery)."""


ADAPTERS: dict[str, Adapter] = {
    "telegram": Adapter(
        "telegram",
        telegram.verify,
        telegram.parse,
        telegram.send,
        telegram.REQUIRED_CREDENTIALS,
        telegram.DEFAULT_API_BASE_URL,
        meta_verification=False,
        acknowledge_button=telegram.acknowledge_button,
    ),
    "whatsapp": Adapter(
        "whatsapp",
        meta.verify,
        meta.parse_whatsapp,
        meta.send_whatsapp,
        meta.WHATSAPP_CREDENTIALS,
        meta.DEFAULT_API_BASE_URL,
        meta_verification=True,
    ),
    "messenger": Adapter(
        "messenger",
        meta.verify,
        partial(meta.parse_page, expected_object="page"),
        meta.send_page,
        meta.PAGE_CREDENTIALS,
        meta.DEFAULT_API_BASE_URL,
        meta_verification=True,
    ),
    "instagram": Adapter(
        "instagram",
        meta.verify,
        partial(meta.parse_page, expected_object="instagram"),
        meta.send_page,
        meta.PAGE_CREDENTIALS,
        meta.DEFAULT_API_BASE_URL,
        meta_verification=True,
    ),
}
