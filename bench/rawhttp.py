"""A minimal keep-alive HTTP/1.1 client for the load generator: POST a turn, read its SSE lines as they arrive.

httpx costs ~2 ms of CPU per streamed turn; on a 2-core machine that is CPU the server under test loses. This
client parses only what a turn response needs (status line, headers, chunked or sized body), so the load
process stays light and the numbers describe the server.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlsplit

TURN_EVENTS = {b"event: decision": "decision", b"event: token": "first_token"}
FINAL_EVENTS = (b"event: message", b"event: escalation_offer")
DATA_KEPT = {b"event: decision": "path", b"event: escalation_offer": "escalation_id"}


class RawConnection:
    """One kept-alive connection; a turn at a time."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def timed_turn(self, path: str, key: str, content: str) -> dict[str, Any]:
        """Milliseconds to the decision event, first token, final event and done (as bench.harness.timed_turn),
        with the path taken and, for an offer, its escalation id."""
        reused = self.writer is not None
        if not reused:
            await self._connect()
        assert self.reader is not None and self.writer is not None
        body = json.dumps({"content": content}).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        marks: dict[str, Any] = {}
        start = time.perf_counter()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        if not status_line:
            await self.close()
            if reused:  # the server had closed the idle kept-alive connection: it never saw this request
                return await self.timed_turn(path, key, content)
            raise ConnectionResetError("closed before a response")
        status = int(status_line.split(b" ", 2)[1])
        headers = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if status != 200:
            body = b"".join([chunk async for chunk in self._chunks(headers)])
            return {"error": f"status {status}: {body[:300].decode(errors='replace')}"}
        buffered = b""
        event = b""
        async for chunk in self._chunks(headers):
            buffered += chunk
            *lines, buffered = buffered.split(b"\n")
            now = (time.perf_counter() - start) * 1000
            for line in lines:
                line = line.rstrip(b"\r")
                if line.startswith(b"event: "):
                    event = line
                elif line.startswith(b"data: ") and event in DATA_KEPT:  # the path taken, the escalation offered
                    marks[DATA_KEPT[event]] = json.loads(line[6:])[DATA_KEPT[event]]
                elif line.startswith(b"data: ") and event == b"event: error":
                    marks["error"] = f"error event: {line[6:306].decode(errors='replace')}"
                if line in TURN_EVENTS:
                    marks.setdefault(TURN_EVENTS[line], now)
                elif line in FINAL_EVENTS:
                    marks["final"] = now
                elif line == b"event: done":
                    marks["done"] = now
        if headers.get("connection") == "close":
            await self.close()
        if "done" not in marks:
            marks.setdefault("error", "stream ended without done")
        return marks

    async def _chunks(self, headers: dict[str, str]):  # noqa: ANN202 - an async iterator of body pieces
        assert self.reader is not None
        if headers.get("transfer-encoding") != "chunked":
            yield await self.reader.readexactly(int(headers.get("content-length", "0")))
            return
        while True:
            size = int((await self.reader.readline()).split(b";")[0], 16)
            if size == 0:
                await self.reader.readline()  # the blank line after the last chunk (no trailers are sent)
                return
            yield await self.reader.readexactly(size)
            await self.reader.readline()
