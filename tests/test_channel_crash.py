"""A channel worker killed after taking a message and before acknowledging it: another worker reclaims the
message after the visibility timeout, and the contact gets exactly one reply."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.utils.api import KNOWN_QUESTION, Api
from tests.utils.openai_stub import OpenAIStub
from tests.utils.platform_stubs import PlatformStub
from tests.utils.servers import WorkerProcess
from tests.utils.webhooks import connect, post_webhook, telegram_message


@pytest.fixture(scope="module")
def slow_model() -> Iterator[OpenAIStub]:
    """A model that takes 3 s before its first token: time enough to kill the worker mid-turn."""
    stub = OpenAIStub(first_token_delay_s=3.0).start()
    yield stub
    stub.stop()


async def test_a_killed_workers_message_is_reclaimed_and_answered_once(
    api: Api, server_env: dict, data_dir: Path, slow_model: OpenAIStub, database_url: str
) -> None:
    platform = PlatformStub().start()
    env = server_env | {
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": slow_model.base_url,
        "OPENAI_MODEL": "stub",
        "CONFIDENCE_SELF_ASSESSMENT": "off",
        "WORKER_VISIBILITY_TIMEOUT_MS": "2000",
    }
    first = WorkerProcess(env, data_dir / "crash-worker-1.log").start()
    second = None
    try:
        world = await api.world()
        await connect(api, world, "telegram", platform.url)
        chat = 90000 + uuid.uuid4().int % 10000
        await post_webhook(api, "telegram", world.agent_id, telegram_message(chat, KNOWN_QUESTION))

        deadline = time.monotonic() + 30
        while not slow_model.requests:  # the first worker took the message and is inside the turn
            assert time.monotonic() < deadline, "the first worker never asked the model"
            await asyncio.sleep(0.05)
        first.kill()
        assert platform.sent(chat_id=str(chat)) == []

        second = WorkerProcess(env, data_dir / "crash-worker-2.log").start()
        replies = await asyncio.to_thread(platform.wait_for, 1, 60, chat_id=str(chat))
        assert "protein" in replies[0]["body"]["text"]
        await asyncio.sleep(3)  # another visibility timeout: nothing else is reclaimed or resent
        assert len(platform.sent(chat_id=str(chat))) == 1
        assert len(slow_model.requests) == 2  # the turn ran again on the second worker, from its start

        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            cur = await conn.execute(
                "SELECT m.direction, m.delivery_status FROM messages m JOIN conversations c"
                " ON c.id = m.conversation_id WHERE c.external_contact_id = %s ORDER BY m.seq",
                (str(chat),),
            )
            assert await cur.fetchall() == [("inbound", None), ("outbound", "sent")]
    finally:
        first.stop()
        if second:
            second.stop()
        platform.stop()
