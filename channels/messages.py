"""What the adapters exchange with the rest of the service: normalised inbound items and outbound messages."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Literal

OFFER_ACCEPT = "offer:accept"
OFFER_DISMISS = "offer:dismiss"
OFFER_BUTTONS = (("Yes, ask them", OFFER_ACCEPT), ("No, thanks", OFFER_DISMISS))

_YES = re.compile(r"^\s*(yes|yeah|yep|yup|sure|ok|okay|please( do)?|y|go ahead|do it|ask( them)?)\b", re.I)
_NO = re.compile(r"^\s*(no|nope|nah|n|no thanks|don'?t|never ?mind|cancel)\b", re.I)


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a platform told us: a contact's message, a button press, or a delivery status of ours."""

    kind: Literal["message", "button", "status"]
    external_id: str
    """The platform's id: a message id (deduplication key), a button press id, or the id of the message a status
    is about."""
    contact_id: str = ""
    contact_name: str | None = None
    conversation_id: str | None = None
    text: str = ""
    button: str | None = None
    status: str | None = None
    """For kind "status": sent, delivered, read or failed."""
    watermark_ms: int | None = None
    """Messenger's read receipts name a time, not a message: everything sent up to it has been read."""
    error: str | None = None

    @property
    def dedupe_key(self) -> str:
        """What makes a redelivery the same item: the message id, or for a status report the status too."""
        if self.kind == "status":
            return f"status:{self.external_id}:{self.status}:{self.watermark_ms or ''}"
        return self.external_id

    def to_json(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_json(cls, data: dict) -> Inbound:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class Outbound:
    text: str
    buttons: tuple[tuple[str, str], ...] = field(default=())
    """(label, payload) pairs the platform shows as buttons; the text always stands on its own as well."""


def offer_reply(text: str | None = None, button: str | None = None) -> Literal["accept", "dismiss"] | None:
    """A contact's answer to an escalation offer, from a button or a yes/no in their own words."""
    if button in (OFFER_ACCEPT, OFFER_DISMISS):
        return "accept" if button == OFFER_ACCEPT else "dismiss"
    if text and len(text) <= 40 and "?" not in text:  # a question is a new question, even one starting "ok"
        if _NO.match(text):
            return "dismiss"
        if _YES.match(text):
            return "accept"
    return None
