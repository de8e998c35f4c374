"""The soak's traffic: user messages arriving as a Poisson stream at a set rate, in a fixed mix of path C questions,
path A questions and escalation flows (the offer, the user's accept a second later, the creator's answer or decline
a few seconds after that), every request timed.

Open loop: a message arrives on time whether or not the server kept up, so a rate the server cannot sustain shows
as growing latency instead of a politely slower client.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from dataclasses import dataclass

import httpx

from bench.rawhttp import RawConnection
from tests.utils.api import bearer

ACCEPT_AFTER_S = 1.0
ANSWER_AFTER_S = 3.0


@dataclass(frozen=True, slots=True)
class Sample:
    at: float
    """Seconds since the traffic began."""
    kind: str
    """`turn C`, `turn A`, `turn D`... (by the path the server took), `conversation` (a new one), `accept`,
    `answer` or `decline`."""
    ms: float
    ok: bool
    asked: str = ""
    """For a turn, what the mix asked for: C, A or E (an escalation flow's question)."""
    error: str = ""
    """What went wrong, for a failed request: the status and body, the error event, or the exception."""


@dataclass(frozen=True, slots=True)
class Chat:
    key: str
    conversation_id: str


@dataclass
class Questions:
    canonical: list[str]
    """Served from a creator's answer (path C)."""
    knowledge: list[str]
    """Answered from the knowledge (path A)."""
    novel: deque[str]
    """Each asked once, to start an escalation flow (path D)."""


class Traffic:
    """Sends the mix against one server and keeps every sample."""

    def __init__(
        self,
        url: str,
        agent_id: str,
        creator_key: str,
        user_keys: list[str],
        questions: Questions,
        *,
        answer_share: float,
        seed: int,
    ) -> None:
        self.url = url
        self.agent_id = agent_id
        self.creator_key = creator_key
        self.user_keys = user_keys
        self.questions = questions
        self.answer_share = answer_share
        self.rng = random.Random(seed)
        self.http = httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=500))
        self.connections: list[RawConnection] = []
        self.chats: deque[Chat] = deque()
        self.flow_chats: deque[Chat] = deque()
        self.samples: list[Sample] = []
        self.in_flight = 0
        self.started = time.perf_counter()

    async def close(self) -> None:
        await self.http.aclose()
        for connection in self.connections:
            await connection.close()

    async def run(self, rate: float, seconds: float, mix: tuple[float, float, float]) -> list[Sample]:
        """`rate` messages a second for `seconds`, kinds drawn by `mix` (C, A, escalation); returns its samples."""
        first = len(self.samples)
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        next_at = loop.time()
        tasks: set[asyncio.Task] = set()
        while (next_at := next_at + self.rng.expovariate(rate)) < end:
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            kind = self.rng.choices("CAE", weights=mix)[0]
            task = asyncio.create_task(self._escalation_flow() if kind == "E" else self._chat_turn(kind))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        return self.samples[first:]

    async def _chat_turn(self, kind: str) -> None:
        if (chat := await self._take(self.chats)) is None:
            return
        pool = self.questions.canonical if kind == "C" else self.questions.knowledge
        marks = await self._turn(chat, self.rng.choice(pool), kind)
        if "error" not in marks:
            self.chats.append(chat)

    async def _escalation_flow(self) -> None:
        if (chat := await self._take(self.flow_chats)) is None:
            return
        marks = await self._turn(chat, self.questions.novel.popleft(), "E")
        escalation = marks.get("escalation_id")
        if "error" in marks:
            return
        if escalation is None:  # the question was not novel after all: the flow ends with its answer
            self.flow_chats.append(chat)
            return
        await asyncio.sleep(ACCEPT_AFTER_S)
        if await self._post("accept", f"/orchestrator/queue/{escalation}/accept", chat.key, {}) is None:
            return
        await asyncio.sleep(ANSWER_AFTER_S)
        if self.rng.random() < self.answer_share:
            body = {"answer": f"Thanks for asking; here is what I do ({escalation[:8]}).", "layer": "public"}
            done = await self._post("answer", f"/orchestrator/queue/{escalation}/answer", self.creator_key, body)
        else:
            body = {"reason": "Outside what I coach."}
            done = await self._post("decline", f"/orchestrator/queue/{escalation}/decline", self.creator_key, body)
        if done is not None:
            self.flow_chats.append(chat)

    async def _take(self, chats: deque[Chat]) -> Chat | None:
        """An idle conversation, or a new one (one flow at a time uses a conversation, as one person would); None
        when starting one failed (a `conversation` sample says why)."""
        if chats:
            return chats.popleft()
        key = self.rng.choice(self.user_keys)
        started = await self._post("conversation", "/messaging/conversations", key, {"agent_id": self.agent_id}, 201)
        return None if started is None else Chat(key, started["id"])

    async def _turn(self, chat: Chat, text: str, asked: str) -> dict:
        connection = self.connections.pop() if self.connections else RawConnection(self.url)
        at = time.perf_counter() - self.started
        self.in_flight += 1
        try:
            marks = await connection.timed_turn(
                f"/messaging/conversations/{chat.conversation_id}/stream", chat.key, text
            )
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            await connection.close()
            marks = {"error": f"{type(exc).__name__}: {exc}"}
        else:
            self.connections.append(connection)
        finally:
            self.in_flight -= 1
        ok = "error" not in marks
        elapsed = marks["done"] if ok else (time.perf_counter() - self.started - at) * 1000
        self.samples.append(Sample(at, f"turn {marks.get('path', '?')}", elapsed, ok, asked, marks.get("error", "")))
        return marks

    async def _post(self, kind: str, path: str, key: str, body: dict, expect: int = 200) -> dict | None:
        """POST, timed as a `kind` sample; the response body, or None when it failed."""
        at = time.perf_counter() - self.started
        self.in_flight += 1
        error, answer = "", None
        try:
            response = await self.http.post(path, json=body, headers=bearer(key))
            if response.status_code == expect:
                answer = response.json()
            else:
                error = f"status {response.status_code}: {response.text[:300]}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            self.in_flight -= 1
        self.samples.append(Sample(at, kind, (time.perf_counter() - self.started - at) * 1000, not error, error=error))
        return answer
