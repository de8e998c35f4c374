"""Abuse: rate limits per key, per address and per user's messages (429 + Retry-After), body and message size
limits (413/422), concurrent streams per key, clients that stop reading SSE, and logs that keep secrets out.

These run against a server of their own with small limits, on the session's Postgres and Redis.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import redis.asyncio as aioredis

from stores.events import EventBus, conversation_stream
from tests.utils.api import KNOWN_QUESTION, Api, bearer
from tests.utils.servers import ServerProcess

PER_KEY, PER_IP, TURNS, STREAMS, MAX_BODY = 40, 400, 3, 2, 65_536
EVENTS = 1200


@pytest.fixture(scope="module")
def strict_server(server_env: dict[str, str], data_dir: Path) -> Iterator[ServerProcess]:
    env = server_env | {
        "ORCH_RATE_LIMIT_PER_KEY": str(PER_KEY),
        "ORCH_RATE_LIMIT_PER_IP": str(PER_IP),
        "ORCH_RATE_LIMIT_TURNS": str(TURNS),
        "ORCH_MAX_STREAMS": str(STREAMS),
        "ORCH_MAX_BODY_BYTES": str(MAX_BODY),
        "ORCH_SSE_SEND_TIMEOUT_S": "2",
        "LOG_LEVEL": "info",
        "LOG_FORMAT": "json",
    }
    process = ServerProcess(env, data_dir / "strict-server.log").start()
    yield process
    process.stop()


@pytest.fixture
async def strict(strict_server: ServerProcess, admin_key: str) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=strict_server.url, timeout=60) as client:
        yield Api(client, admin_key)


async def test_a_key_past_its_rate_gets_429_with_retry_after(strict: Api) -> None:
    key = await strict.user("free")
    statuses, retry_after = [], set()
    for _ in range(PER_KEY + 8):
        response = await strict.client.get("/me", headers=bearer(key))
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.json()["error"]["code"] == "rate_limited"
            retry_after.add(int(response.headers["Retry-After"]))
    admitted = statuses.count(200)
    assert PER_KEY <= admitted <= PER_KEY + 1, statuses  # the burst, plus at most one refilled meanwhile
    assert statuses.count(429) == len(statuses) - admitted
    assert retry_after and all(1 <= s <= 2 for s in retry_after)  # one request every 60/40 s refills
    # Another key is not affected, and this one is admitted again once its Retry-After has passed.
    assert (await strict.client.get("/me", headers=bearer(await strict.user("free")))).status_code == 200
    await asyncio.sleep(max(retry_after))
    assert (await strict.client.get("/me", headers=bearer(key))).status_code == 200


async def test_messages_past_the_users_rate_are_refused_before_anything_is_stored(strict: Api) -> None:
    world = await strict.world()
    conversation = await strict.conversation(world, "paid")
    key = world.users["paid"]
    for i in range(TURNS):
        await strict.ask(conversation, key, f"{KNOWN_QUESTION} ({i})")
    refused = await strict.client.post(
        "/orchestrator/message", json={"conversation_id": conversation, "message": "one too many"}, headers=bearer(key)
    )
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    streamed = await strict.client.post(
        f"/messaging/conversations/{conversation}/stream", json={"content": "also too many"}, headers=bearer(key)
    )
    assert streamed.status_code == 429
    contents = [m["content"] for m in await strict.messages(conversation, key) if m["role"] == "user"]
    assert len(contents) == TURNS and "one too many" not in contents and "also too many" not in contents


async def test_bodies_and_messages_over_the_limits_are_refused_and_store_nothing(strict: Api) -> None:
    world = await strict.world()
    conversation = await strict.conversation(world, "paid")
    key = world.users["paid"]
    big = {"title": "big", "text": "word " * (MAX_BODY // 4)}
    response = await strict.client.post(
        f"/agents/{world.agent_id}/knowledge", json=big, headers=bearer(world.creator_key)
    )
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(MAX_BODY // 8192 + 2):
            yield b" " * 8192

    response = await strict.client.post(
        f"/agents/{world.agent_id}/knowledge",
        content=chunked(),
        headers=bearer(world.creator_key) | {"content-type": "application/json"},
    )
    assert response.status_code == 413, response.text

    too_long = "x" * 4001
    response = await strict.client.post(
        "/orchestrator/message", json={"conversation_id": conversation, "message": too_long}, headers=bearer(key)
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
    assert await strict.messages(conversation, key) == []


async def test_concurrent_streams_are_capped_per_key_and_freed_when_they_end(strict: Api) -> None:
    world = await strict.world()
    conversation = await strict.conversation(world, "paid")
    key = world.users["paid"]
    url = f"/messaging/conversations/{conversation}/events"
    async with (
        strict.client.stream("GET", url, headers=bearer(key)) as first,
        strict.client.stream("GET", url, headers=bearer(key)) as second,
    ):
        assert first.status_code == second.status_code == 200
        third = await strict.client.get(url, headers=bearer(key))
        assert third.status_code == 429 and "Retry-After" in third.headers
        turn = await strict.client.post(
            f"/messaging/conversations/{conversation}/stream", json={"content": "hi"}, headers=bearer(key)
        )
        assert turn.status_code == 429  # a turn's stream counts too, and its message was not stored
        # Another user's streams are their own.
        other = await strict.conversation(world, "follower")
        async with strict.client.stream(
            "GET", f"/messaging/conversations/{other}/events", headers=bearer(world.users["follower"])
        ) as theirs:
            assert theirs.status_code == 200
    await until_a_stream_opens(strict, url, key)  # the server notices the disconnects within moments
    turn = await strict.stream(conversation, key, KNOWN_QUESTION)  # both closed: slots are free again
    assert turn.names[-1] == "done"


async def until_a_stream_opens(api: Api, url: str, key: str, timeout_s: float = 5) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        async with api.client.stream("GET", url, headers=bearer(key)) as response:
            if response.status_code == 200:
                return
        assert time.monotonic() < deadline, "stream slots were never freed"
        await asyncio.sleep(0.1)


async def test_a_client_that_never_reads_is_cut_off_without_holding_memory(
    strict: Api, strict_server: ServerProcess, redis_url: str
) -> None:
    world = await strict.world()
    conversation = await strict.conversation(world, "paid")
    key = world.users["paid"]
    server = psutil.Process(strict_server.process.pid)  # type: ignore[union-attr]

    # A raw socket with a tiny receive buffer asks for the live stream and never reads a byte.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", strict_server.port))
    sock.sendall(
        f"GET /messaging/conversations/{conversation}/events HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {key}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    await asyncio.sleep(0.5)
    rss_before = server.memory_info().rss
    redis = aioredis.Redis.from_url(redis_url)
    bus = EventBus(redis)
    payload = {"text": "y" * 8000}
    for _ in range(EVENTS):  # ~10 MB of events into a socket that takes none of them
        await bus.publish(conversation_stream(conversation), "note", payload)
    await asyncio.sleep(4)  # past the 2 s send timeout
    grown_mb = (server.memory_info().rss - rss_before) / 2**20
    await redis.aclose()

    # Cut off: the slot it held is free again (the cap is 2: two new streams open side by side).
    url = f"/messaging/conversations/{conversation}/events"
    async with (
        strict.client.stream("GET", url, headers=bearer(key)) as first,
        strict.client.stream("GET", url, headers=bearer(key)) as second,
    ):
        assert first.status_code == second.status_code == 200
    sock.setblocking(False)
    received = b""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except BlockingIOError:
            await asyncio.sleep(0.05)
            continue
        if not chunk:
            break  # the server closed the connection
        received += chunk
    sock.close()
    assert not chunk, "the server kept the stalled connection open"
    # It got what fit in the kernel's socket buffers before the cut, not everything published.
    assert len(received) < 0.6 * EVENTS * len(payload["text"])
    assert grown_mb < 16, f"server memory grew {grown_mb:.1f} MB for a client that reads nothing"


async def test_logs_are_json_with_request_ids_and_keep_contents_and_keys_out(
    strict: Api, strict_server: ServerProcess
) -> None:
    world = await strict.world()
    conversation = await strict.conversation(world, "paid")
    key = world.users["paid"]
    secret = "MARKER-do-not-log-7f3a"
    response = await strict.client.post(
        "/orchestrator/message",
        json={"conversation_id": conversation, "message": f"{KNOWN_QUESTION} {secret}"},
        headers=bearer(key) | {"X-Request-ID": "trace-abc.123"},
    )
    assert response.status_code == 200 and response.headers["x-request-id"] == "trace-abc.123"
    response = await strict.client.get("/health")
    assert len(response.headers["x-request-id"]) == 32  # made here when the client sends none
    await asyncio.sleep(0.3)

    text = strict_server.log_path.read_text(errors="replace")
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    requests = [r for r in records if r.get("msg") == "request"]
    ours = [r for r in requests if r.get("request_id") == "trace-abc.123"]
    assert ours and ours[0]["path"] == "/orchestrator/message" and ours[0]["status"] == 200
    assert all("request_id" in r and "duration_ms" in r for r in requests)
    assert secret not in text and key not in text and world.creator_key not in text and strict.admin_key not in text


async def test_an_address_past_its_rate_gets_429_even_without_a_key(strict: Api) -> None:
    """Last in the module: it spends this address's budget."""
    statuses = [(await strict.client.get("/me")).status_code for _ in range(PER_IP + 10)]
    assert 429 in statuses and set(statuses) <= {401, 429}
    response = await strict.client.get("/me")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
    assert (await strict.client.get("/health")).status_code == 200  # probes are never limited
