"""Messaging channels end to end: signed webhooks in, the channel worker runs the graph, replies reach local
stand-ins for the Telegram Bot API and Meta's Graph API over HTTP. Real Postgres, Redis and worker processes."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.utils.api import NOVEL_QUESTION, Api
from tests.utils.platform_stubs import PlatformStub
from tests.utils.servers import WorkerProcess
from tests.utils.webhooks import (
    META_VERIFY_TOKEN,
    PHONE_NUMBER_ID,
    connect,
    messenger_message,
    post_webhook,
    telegram_button,
    telegram_message,
    whatsapp_message,
    whatsapp_status,
)

CANONICAL = ("Do you offer one-on-one coaching?", "Not right now; the group program opens twice a year.", "public")
PARAPHRASE = "Do you offer 1-on-1 coaching?"
CREATOR_ANSWER = "Keep it boring: index funds, and talk to a fiduciary before touching retirement money."


@pytest.fixture(scope="module")
def platform() -> Iterator[PlatformStub]:
    stub = PlatformStub().start()
    yield stub
    stub.stop()


@pytest.fixture(scope="module")
def worker(server_env: dict, data_dir: Path, server) -> Iterator[WorkerProcess]:  # noqa: ANN001 - server first
    env = server_env | {
        "WORKER_MAX_RETRIES": "2",
        "WORKER_BACKOFF_MS": "100",
        "WORKER_VISIBILITY_TIMEOUT_MS": "5000",
        "LOG_LEVEL": "info",  # so the secrets test below sees everything the worker would log
    }
    process = WorkerProcess(env, data_dir / "channel-worker.log").start()
    yield process
    process.stop()


async def db_rows(database_url: str, query: str, *params: object) -> list[dict]:
    async with await psycopg.AsyncConnection.connect(database_url, row_factory=dict_row) as conn:
        return await (await conn.execute(query, params)).fetchall()


async def eventually(check, within_s: float = 30):  # noqa: ANN001, ANN201
    """Poll an async check until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        if result := await check():
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def test_a_telegram_message_is_answered_once_and_recorded(
    api: Api, platform: PlatformStub, worker: WorkerProcess, database_url: str
) -> None:
    world = await api.world(canonical=[CANONICAL])
    connection = await connect(api, world, "telegram", platform.url)
    assert "bot_token" in connection["credentials"] and "TEST-TOKEN" not in json.dumps(connection)
    chat = 7000 + uuid.uuid4().int % 10000
    update = telegram_message(chat, PARAPHRASE)

    response = await post_webhook(api, "telegram", world.agent_id, update)
    assert response.status_code == 200 and response.json()["queued"] == 1
    replay = await post_webhook(api, "telegram", world.agent_id, update)  # the platform redelivers
    assert replay.status_code == 200 and replay.json() == {"ok": True, "received": 1, "queued": 0, "duplicates": 1}

    sent = await asyncio.to_thread(platform.wait_for, 1, chat_id=str(chat))
    assert sent[0]["method"] == "sendMessage" and sent[0]["token"] == "123456:TEST-TOKEN"
    assert sent[0]["body"]["text"] == f"{CANONICAL[1]}\n\n— Answered by Mia Chen"  # served with attribution

    conversation = (
        await db_rows(database_url, "SELECT * FROM conversations WHERE external_contact_id = %s", str(chat))
    )[0]
    assert conversation["channel"] == "telegram" and conversation["external_contact_name"] == "Ann Lee"
    assert conversation["status"] == "active" and conversation["last_message_preview"] == CANONICAL[1]
    assert conversation["summary"] == PARAPHRASE and "coaching" in conversation["topics"]
    messages = await db_rows(
        database_url, "SELECT * FROM messages WHERE conversation_id = %s ORDER BY seq", conversation["id"]
    )
    assert [(m["direction"], m["sender_type"]) for m in messages] == [("inbound", "contact"), ("outbound", "agent")]
    assert messages[0]["external_message_id"] == f"{chat}:{update['message']['message_id']}"
    await eventually(
        lambda: db_rows(
            database_url, "SELECT 1 FROM messages WHERE id = %s AND delivery_status = 'sent'", messages[1]["id"]
        )
    )
    assert messages[1]["rag_context"]["canonical"]["similarity"] > 0.85
    assert conversation["message_count"] == 2

    # Writing again continues the same conversation.
    await post_webhook(api, "telegram", world.agent_id, telegram_message(chat, "Do you offer one-on-one coaching?"))
    await asyncio.to_thread(platform.wait_for, 2, chat_id=str(chat))
    rows = await db_rows(database_url, "SELECT id FROM conversations WHERE external_contact_id = %s", str(chat))
    assert len(rows) == 1

    await asyncio.sleep(1)  # nothing more arrives for the redelivered update
    assert len(platform.sent(chat_id=str(chat))) == 2
    log = await api.call("GET", f"/agents/{world.agent_id}/channels/events", world.creator_key)
    assert {"received", "sent"} <= {event["kind"] for event in log}
    assert "TEST-TOKEN" not in worker.log_path.read_text()  # bot tokens live in Telegram's URLs: never logged
    metrics = await api.call("GET", f"/orchestrator/metrics/{world.agent_id}", world.creator_key)
    assert metrics["channels"]["telegram"]["conversations"] == 1
    assert metrics["channels"]["telegram"]["received"] == 2 and metrics["channels"]["telegram"]["sent"] == 2


async def test_bad_secrets_and_bodies_are_rejected_without_side_effects(
    api: Api, platform: PlatformStub, worker: WorkerProcess, database_url: str
) -> None:
    world = await api.world(canonical=[CANONICAL])
    await connect(api, world, "telegram", platform.url)
    await connect(api, world, "whatsapp", platform.url)
    chat = 20000 + uuid.uuid4().int % 10000

    forged = await post_webhook(api, "telegram", world.agent_id, telegram_message(chat, PARAPHRASE), secret="x" * 20)
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "unauthorized"
    unsigned = await api.client.post(
        f"/channels/telegram/{world.agent_id}/webhook", json=telegram_message(chat, PARAPHRASE)
    )
    assert unsigned.status_code == 401
    badly_signed = await post_webhook(
        api, "whatsapp", world.agent_id, whatsapp_message("15550001111", PARAPHRASE), secret="not-the-app-secret"
    )
    assert badly_signed.status_code == 401
    assert (await post_webhook(api, "telegram", world.agent_id, b"{not json")).status_code == 400
    assert (await post_webhook(api, "telegram", world.agent_id, {"hello": "world"})).status_code == 400
    assert (await post_webhook(api, "whatsapp", world.agent_id, {"object": "page", "entry": []})).status_code == 400
    stranger = str(uuid.uuid4())
    assert (await post_webhook(api, "telegram", stranger, telegram_message(chat, "hi"))).status_code == 404

    await asyncio.sleep(1.5)
    assert platform.sent(chat_id=str(chat)) == []
    stored = await db_rows(
        database_url,
        "SELECT count(*) AS n FROM conversations WHERE agent_id = %s",
        uuid.UUID(world.agent_id),
    )
    assert stored[0]["n"] == 0
    events = await api.call("GET", f"/agents/{world.agent_id}/channels/events", world.creator_key)
    assert events == []

    # Someone else's agent: the connection routes are the owner's alone.
    other = await api.world()
    response = await api.client.put(
        f"/agents/{world.agent_id}/channels/telegram",
        json={"credentials": {"bot_token": "x"}, "webhook_secret": "y" * 16},
        headers={"Authorization": f"Bearer {other.creator_key}"},
    )
    assert response.status_code == 404
    missing = await api.client.put(
        f"/agents/{world.agent_id}/channels/whatsapp",
        json={"credentials": {"access_token": "x"}, "webhook_secret": "y" * 16, "verify_token": "z" * 8},
        headers={"Authorization": f"Bearer {world.creator_key}"},
    )
    assert missing.status_code == 422 and "phone_number_id" in missing.json()["error"]["message"]


async def test_an_escalation_over_telegram_answered_yes_then_by_the_creator(
    api: Api, platform: PlatformStub, worker: WorkerProcess
) -> None:
    world = await api.world()
    await connect(api, world, "telegram", platform.url, tier="follower")
    chat = 40000 + uuid.uuid4().int % 10000

    await post_webhook(api, "telegram", world.agent_id, telegram_message(chat, NOVEL_QUESTION))
    offer = (await asyncio.to_thread(platform.wait_for, 1, chat_id=str(chat)))[0]["body"]
    assert offer["text"].endswith("Reply yes or no.")
    buttons = offer["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == ["offer:accept", "offer:dismiss"]

    await post_webhook(api, "telegram", world.agent_id, telegram_message(chat, "yes please"))
    queued = (await asyncio.to_thread(platform.wait_for, 2, chat_id=str(chat)))[1]["body"]
    assert queued["text"].startswith("Sent to")

    pending = await api.call("GET", "/orchestrator/queue?status=pending", world.creator_key)
    escalation = next(e for e in pending if e["question"] == NOVEL_QUESTION)
    await api.call(
        "POST", f"/orchestrator/queue/{escalation['id']}/answer", world.creator_key, json={"answer": CREATOR_ANSWER}
    )
    answer = (await asyncio.to_thread(platform.wait_for, 3, chat_id=str(chat)))[2]["body"]
    assert answer["text"].startswith(CREATOR_ANSWER) and "Answered by" in answer["text"]

    # A button press on a second offer dismisses it; the press is acknowledged to Telegram.
    await post_webhook(
        api, "telegram", world.agent_id, telegram_message(chat, "Should I buy gold bars with my savings?")
    )
    await asyncio.to_thread(platform.wait_for, 4, chat_id=str(chat))
    await post_webhook(api, "telegram", world.agent_id, telegram_button(chat, "offer:dismiss"))
    await asyncio.to_thread(platform.wait_for, 1, method="answerCallbackQuery")
    await asyncio.sleep(1)
    assert len(platform.sent(chat_id=str(chat))) == 4  # a dismissed offer sends nothing more
    dismissed = await api.call("GET", "/orchestrator/queue", world.creator_key)
    assert not any(e["question"].startswith("Should I buy gold") for e in dismissed)


async def test_whatsapp_verification_reply_and_delivery_statuses(
    api: Api, platform: PlatformStub, worker: WorkerProcess, database_url: str
) -> None:
    world = await api.world(canonical=[CANONICAL])
    await connect(api, world, "whatsapp", platform.url)
    path = f"/channels/whatsapp/{world.agent_id}/webhook"
    ok = await api.client.get(
        path, params={"hub.mode": "subscribe", "hub.verify_token": META_VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = await api.client.get(
        path, params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}
    )
    assert wrong.status_code == 403

    wa_id = f"1555{uuid.uuid4().int % 10**7:07d}"
    assert (await post_webhook(api, "whatsapp", world.agent_id, whatsapp_message(wa_id, PARAPHRASE))).status_code == 200
    sent = (await asyncio.to_thread(platform.wait_for, 1, to=wa_id))[0]
    assert sent["path"] == f"/{PHONE_NUMBER_ID}/messages" and sent["headers"]["authorization"] == "Bearer EAAG-test"
    assert sent["body"]["text"]["body"].startswith(CANONICAL[1])

    async def outbound() -> dict | None:
        rows = await db_rows(
            database_url,
            "SELECT m.* FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            " WHERE c.external_contact_id = %s AND m.direction = 'outbound' AND m.delivery_status IS NOT NULL"
            " AND m.external_message_id IS NOT NULL",
            wa_id,
        )
        return rows[0] if rows else None

    reply = await eventually(outbound)
    for status in ("delivered", "read", "delivered"):  # a late "delivered" does not undo "read"
        response = await post_webhook(
            api, "whatsapp", world.agent_id, whatsapp_status(wa_id, reply["external_message_id"], status)
        )
        assert response.status_code == 200
    await eventually(lambda: _status_is(database_url, reply["id"], "read"))
    await asyncio.sleep(0.5)
    assert await _status_is(database_url, reply["id"], "read")
    metrics = await api.call("GET", f"/orchestrator/metrics/{world.agent_id}", world.creator_key)
    assert metrics["channels"]["whatsapp"]["read"] == 1


async def _status_is(database_url: str, message_id: uuid.UUID, status: str) -> bool:
    rows = await db_rows(database_url, "SELECT delivery_status FROM messages WHERE id = %s", message_id)
    return rows[0]["delivery_status"] == status


async def test_messenger_reply_goes_through_the_send_api(
    api: Api, platform: PlatformStub, worker: WorkerProcess
) -> None:
    world = await api.world(canonical=[CANONICAL])
    await connect(api, world, "messenger", platform.url)
    psid = str(uuid.uuid4().int % 10**15)
    assert (
        await post_webhook(api, "messenger", world.agent_id, messenger_message(psid, PARAPHRASE))
    ).status_code == 200
    sent = (await asyncio.to_thread(platform.wait_for, 1, method="page", recipient={"id": psid}))[0]
    assert sent["body"]["message"]["text"].startswith(CANONICAL[1]) and sent["body"]["messaging_type"] == "RESPONSE"


async def test_failed_sends_are_retried_then_dead_lettered(
    api: Api, platform: PlatformStub, worker: WorkerProcess, database_url: str
) -> None:
    world = await api.world(canonical=[CANONICAL])
    await connect(api, world, "telegram", platform.url)

    chat = 60000 + uuid.uuid4().int % 10000
    platform.fail_next = 1  # one 500, then the retry goes through
    await post_webhook(api, "telegram", world.agent_id, telegram_message(chat, PARAPHRASE))
    attempts = await asyncio.to_thread(platform.wait_for, 2, chat_id=str(chat))
    assert len(attempts) == 2

    chat = 70000 + uuid.uuid4().int % 10000
    platform.fail_next = 3  # the first try and both retries fail (WORKER_MAX_RETRIES=2)
    await post_webhook(api, "telegram", world.agent_id, telegram_message(chat, PARAPHRASE))

    async def dead_lettered() -> list:
        events = await api.call("GET", f"/agents/{world.agent_id}/channels/events", world.creator_key)
        return [e for e in events if e["kind"] == "dead_letter"]

    dead = (await eventually(dead_lettered))[0]
    assert dead["attempts"] == 3 and "500" in dead["error"] and "TEST-TOKEN" not in dead["error"]
    kinds = [e["kind"] for e in await api.call("GET", f"/agents/{world.agent_id}/channels/events", world.creator_key)]
    assert kinds.count("retry") == 3  # one for the first chat, two for this one
    assert len(platform.sent(chat_id=str(chat))) == 3
    failed = await db_rows(
        database_url,
        "SELECT m.delivery_status FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.external_contact_id = %s AND m.direction = 'outbound'",
        str(chat),
    )
    assert [row["delivery_status"] for row in failed] == ["failed"]
