"""A thin async client for the API, and a factory that builds a creator's world to test against."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

import httpx
from httpx_sse import aconnect_sse

KNOWLEDGE = [
    (
        "Protein",
        "Aim for 1.6 to 2.2 grams of protein per kilogram of bodyweight each day when you train for strength. "
        "Spread protein over three or four meals of 30 to 40 grams each. Whole foods come first: eggs, Greek "
        "yogurt, chicken, fish, tofu and lentils.",
    ),
    (
        "Sleep and recovery",
        "Sleep seven to nine hours a night; muscle is built while you recover, not while you train. Take one or "
        "two full rest days a week and a lighter deload week every six to eight weeks.",
    ),
    (
        "Beginner strength program",
        "Beginners should train full body three times a week on non-consecutive days. Do three sets of five to "
        "eight reps and add a little weight each week while your form stays clean.",
    ),
    (
        "Pain and injuries",
        "If a lift causes sharp pain, stop the set and do not train through it. Pain that lasts more than a few "
        "days needs a physiotherapist or a doctor, not more training.",
    ),
]
KNOWN_QUESTION = "How much protein should I eat per day?"
VAGUE_QUESTION = "protein?"
NOVEL_QUESTION = "What do you think about investing in crypto for my retirement savings?"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Turn:
    """A streamed turn: its events in order, with shortcuts to the ones tests look at."""

    events: list[tuple[str, dict]]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def first(self, name: str) -> dict:
        return next(data for event, data in self.events if event == name)

    @property
    def decision(self) -> dict:
        return self.first("decision")

    @property
    def text(self) -> str:
        return "".join(data["text"] for event, data in self.events if event == "token")


@dataclass
class World:
    """A creator with an agent (knowledge and canonical answers) and a user of each tier."""

    creator_key: str
    agent_id: str
    users: dict[str, str] = field(default_factory=dict)  # tier -> key


class Api:
    """Calls the API over real HTTP; every method returns parsed JSON or raises on an unexpected status."""

    def __init__(self, client: httpx.AsyncClient, admin_key: str) -> None:
        self.client = client
        self.admin_key = admin_key

    async def call(self, method: str, path: str, key: str | None, *, expect: int = 200, **kwargs) -> dict | list:  # noqa: ANN003
        response = await self.client.request(method, path, headers=bearer(key) if key else {}, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return {} if response.status_code == 204 else response.json()

    async def creator(self) -> tuple[str, str]:
        body = await self.call(
            "POST",
            "/admin/creators",
            self.admin_key,
            expect=201,
            json={"handle": unique("creator"), "display_name": "Mia Chen"},
        )
        return body["id"], body["api_key"]

    async def user(self, tier: str) -> str:
        body = await self.call(
            "POST", "/admin/users", self.admin_key, expect=201, json={"handle": unique(tier), "tier": tier}
        )
        return body["api_key"]

    async def world(self, *, config: dict | None = None, canonical: list[tuple[str, str, str]] = ()) -> World:
        _, creator_key = await self.creator()
        agent = await self.call(
            "POST",
            "/agents",
            creator_key,
            expect=201,
            json={"handle": unique("agent"), "name": "Coach Mia", "persona": "Warm, direct strength coach."},
        )
        for title, text in KNOWLEDGE:
            await self.call(
                "POST", f"/agents/{agent['id']}/knowledge", creator_key, expect=201, json={"title": title, "text": text}
            )
        for question, answer, layer in canonical:
            await self.call(
                "POST",
                f"/agents/{agent['id']}/canonical-answers",
                creator_key,
                expect=201,
                json={"question": question, "answer": answer, "layer": layer},
            )
        if config:
            current = await self.call("GET", f"/orchestrator/config/{agent['id']}", creator_key)
            await self.call("PUT", f"/orchestrator/config/{agent['id']}", creator_key, json=current | config)
        world = World(creator_key=creator_key, agent_id=agent["id"])
        for tier in ("free", "follower", "paid"):
            world.users[tier] = await self.user(tier)
        return world

    async def conversation(self, world: World, tier: str) -> str:
        body = await self.call(
            "POST", "/messaging/conversations", world.users[tier], expect=201, json={"agent_id": world.agent_id}
        )
        return body["id"]

    async def stream(self, conversation_id: str, key: str, content: str) -> Turn:
        events = []
        async with aconnect_sse(
            self.client,
            "POST",
            f"/messaging/conversations/{conversation_id}/stream",
            json={"content": content},
            headers=bearer(key),
        ) as source:
            assert source.response.status_code == 200, await source.response.aread()
            async for sse in source.aiter_sse():
                events.append((sse.event, json.loads(sse.data)))
        return Turn(events)

    async def ask(self, conversation_id: str, key: str, message: str) -> dict:
        return await self.call(
            "POST", "/orchestrator/message", key, json={"conversation_id": conversation_id, "message": message}
        )

    async def messages(self, conversation_id: str, key: str) -> list[dict]:
        return await self.call("GET", f"/messaging/conversations/{conversation_id}/messages", key)
