"""The demo: a fitness creator with an agent, some knowledge, canonical answers in every layer and three users."""

from __future__ import annotations

import json

from api.services import Services
from stores.knowledge import chunk_text

CREATOR = {"handle": "mia", "display_name": "Mia Chen"}
AGENT = {
    "handle": "coachmia",
    "name": "Coach Mia",
    "persona": "Warm, direct strength coach. Plain words, no hype, always practical.",
}
KNOWLEDGE = [
    (
        "Protein",
        "Aim for 1.6 to 2.2 grams of protein per kilogram of bodyweight each day when you train for strength. "
        "Spread protein over three or four meals of 30 to 40 grams each. Whole foods come first: eggs, Greek "
        "yogurt, chicken, fish, tofu and lentils. A whey shake is a convenient top-up, not a requirement.",
    ),
    (
        "Sleep and recovery",
        "Sleep seven to nine hours a night; muscle is built while you recover, not while you train. Keep a "
        "regular bedtime and a dark, cool room. Take one or two full rest days a week and a lighter deload week "
        "every six to eight weeks.",
    ),
    (
        "Beginner strength program",
        "Beginners should train full body three times a week on non-consecutive days. Each session: a squat or "
        "leg press, a push such as the bench press, a pull such as the row, and a hinge such as the deadlift. "
        "Do three sets of five to eight reps and add a little weight each week while your form stays clean.",
    ),
    (
        "Warm-up",
        "Warm up for ten minutes before lifting: five minutes of easy cardio, then dynamic stretches, then two "
        "or three lighter sets of your first exercise. Save long static stretching for after the workout.",
    ),
]
CANONICAL = [
    (
        "Do you offer one-on-one coaching?",
        "Not right now. My small-group program opens twice a year; join the newsletter to hear first.",
        "public",
    ),
    (
        "Which protein powder do you use?",
        "I use an unflavoured whey isolate and mix it into oats. Any brand with third-party testing is fine.",
        "friends",
    ),
    (
        "What does your own weekly training split look like?",
        "Four days: upper, lower, rest, upper, lower, then two rest days with long walks. Sessions last about "
        "seventy minutes.",
        "intimate",
    ),
]
USERS = [("ann", "free"), ("bob", "follower"), ("cat", "paid")]


async def seed_demo_data(services: Services) -> dict:
    """Create the demo once; later runs return the keys saved on the first run."""
    keys_file = services.settings.resolved_data_dir() / "demo_keys.json"
    ctx = services.context
    if await ctx.accounts.find_creator(CREATOR["handle"]) is not None:
        return json.loads(keys_file.read_text()) if keys_file.exists() else {}
    creator, creator_key = await ctx.accounts.create_creator(**CREATOR)
    agent = await ctx.agents.create(creator["id"], AGENT["handle"], AGENT["name"], AGENT["persona"])
    for title, text in KNOWLEDGE:
        chunks = chunk_text(text)
        await ctx.knowledge.add_document(agent["id"], title, text, chunks, await ctx.embedder.embed(chunks))
    for question, answer, layer in CANONICAL:
        await ctx.canonical.create(agent["id"], question, answer, layer, await ctx.embedder.embed_one(question))
    keys = {"agent_id": str(agent["id"]), "creator": {"handle": creator["handle"], "api_key": creator_key}}
    for handle, tier in USERS:
        _, key = await ctx.accounts.create_user(handle, tier)
        keys[handle] = {"tier": tier, "api_key": key}
    keys_file.write_text(json.dumps(keys, indent=2) + "\n")
    keys_file.chmod(0o600)
    return keys


def print_demo(services: Services, keys: dict) -> None:
    settings = services.settings
    lines = [
        "",
        f"Orchestrator on http://{settings.host}:{settings.port}  (model: {settings.llm_mode}, "
        f"embeddings: {settings.embedding_model})",
        f"  admin key: {services.admin_key}",
    ]
    if keys:
        lines.append(f"  demo agent coachmia: {keys['agent_id']}")
        lines.append(f"  creator mia: {keys['creator']['api_key']}")
        lines += [f"  user {h} ({keys[h]['tier']}): {keys[h]['api_key']}" for h, _ in USERS if h in keys]
    print("\n".join(lines) + "\n", flush=True)
