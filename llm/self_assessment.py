"""The model's own view of its answer: a 0-1 score and a reason, asked for inline or in a second call.

Inline: the system prompt asks the model to end with `[[confidence: 0.NN | reason]]`; `TrailerFilter` keeps that
trailer out of the streamed tokens. Second call: a short rating prompt after the answer. Either way, output that
does not parse gives None and the analysis falls back to its other factors.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

INLINE_INSTRUCTION = (
    "After your answer, on a new line, rate how well the knowledge supports it, exactly like this: "
    "[[confidence: 0.85 | a few words why]] with a number from 0 to 1."
)
_TRAILER = re.compile(r"\[\[\s*confidence\s*:\s*([01](?:\.\d+)?|\.\d+)\s*\|\s*([^\]]{0,300}?)\s*\]\]", re.I)
_OPEN = "[["


@dataclass(frozen=True, slots=True)
class SelfAssessment:
    score: float
    reason: str


def parse_trailer(text: str) -> tuple[str, SelfAssessment | None]:
    """(the answer without any trailer, the parsed assessment or None)."""
    answer = text.split(_OPEN, 1)[0].rstrip()
    match = _TRAILER.search(text)
    if not match:
        return answer, None
    score = float(match.group(1))
    return answer, SelfAssessment(score, match.group(2).strip()) if 0.0 <= score <= 1.0 else None


class TrailerFilter:
    """Passes streamed text through until the trailer starts; holds back a possible partial '['."""

    def __init__(self) -> None:
        self._pending = ""
        self._stopped = False

    def feed(self, text: str) -> str:
        if self._stopped:
            return ""
        self._pending += text
        if _OPEN in self._pending:
            self._stopped = True
            out, self._pending = self._pending.split(_OPEN, 1)[0], ""
            return out
        keep = 1 if self._pending.endswith("[") else 0
        out = self._pending[: len(self._pending) - keep]
        self._pending = self._pending[len(out) :]
        return out

    def flush(self) -> str:
        out, self._pending = ("" if self._stopped else self._pending), ""
        return out


RATING_PROMPT = (
    "You check answers written by an AI agent from a creator's knowledge. Given the knowledge, the question and "
    'the answer, reply with JSON only: {"score": <0 to 1, how well the knowledge supports the answer>, '
    '"reason": "<a few words>"}'
)


async def rate_answer(model: BaseChatModel, knowledge: str, question: str, answer: str) -> SelfAssessment | None:
    """The second-call variant: one short, non-streamed request; None when the reply does not parse."""
    reply = await model.ainvoke(
        [
            SystemMessage(RATING_PROMPT),
            HumanMessage(f"Knowledge:\n{knowledge or '(none)'}\n\nQuestion: {question}\n\nAnswer: {answer}"),
        ]
    )
    return parse_rating(reply.content if isinstance(reply.content, str) else "")


def parse_rating(text: str) -> SelfAssessment | None:
    match = re.search(r"\{.*\}", text, re.S)
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
        score = float(data["score"])
    except (ValueError, KeyError, TypeError):
        return None
    if not 0.0 <= score <= 1.0:
        return None
    return SelfAssessment(score, str(data.get("reason", ""))[:300])
