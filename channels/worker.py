"""The channel worker (`orchestrator worker`): consumes the channel job queue and runs each job.

At most WORKER_PREFETCH jobs are in flight. Besides taking new jobs it keeps its own in-flight jobs claimed (a slow
turn is not taken from a live worker), reclaims jobs a dead worker held for longer than
WORKER_VISIBILITY_TIMEOUT_MS, moves due retries back onto the queue, and re-queues agent messages whose delivery
job was lost (stored, but the process died before queueing it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid

import httpx

from api.services import Services
from channels.delivery import deliver, give_up
from channels.ingest import ingest
from channels.messages import Inbound
from channels.queue import ChannelQueue, Job

log = logging.getLogger(__name__)

MAINTENANCE_EVERY_S = 0.5
UNDELIVERED_SWEEP_EVERY_S = 10.0


class ChannelWorker:
    def __init__(self, services: Services, *, name: str | None = None) -> None:
        settings = services.settings
        self.services = services
        self.queue: ChannelQueue = services.context.channel_queue  # type: ignore[assignment]
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.prefetch = settings.worker_prefetch
        self.visibility_ms = settings.worker_visibility_timeout_ms
        self._slots = asyncio.Semaphore(self.prefetch)
        self._tasks: dict[str, asyncio.Task] = {}
        """In-flight jobs by stream id."""
        self._http = httpx.AsyncClient(timeout=settings.channel_http_timeout_s)

    async def run(self, stop: asyncio.Event) -> None:
        await self.queue.ensure_group()
        log.info("channel worker %s: prefetch %d, visibility %d ms", self.name, self.prefetch, self.visibility_ms)
        maintenance = asyncio.create_task(self._maintain(stop))
        try:
            while not stop.is_set():
                free = self.prefetch - len(self._tasks)
                if free == 0:
                    await asyncio.wait(self._tasks.values(), return_when=asyncio.FIRST_COMPLETED)
                    continue
                for job in await self.queue.take(self.name, free, block_ms=500):
                    self._start(job)
        finally:
            maintenance.cancel()
            if self._tasks:
                await asyncio.wait(self._tasks.values(), timeout=30)
            await self._http.aclose()

    def _start(self, job: Job) -> None:
        if job.id in self._tasks:
            return  # already ours and in hand
        task = asyncio.create_task(self._handle(job))
        self._tasks[job.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job.id, None))

    async def _handle(self, job: Job) -> None:
        body = job.body
        try:
            if body["kind"] == "inbound":
                item = Inbound.from_json(body["item"])
                await ingest(self.services, self._http, body["channel"], uuid.UUID(body["agent_id"]), item)
            elif body["kind"] == "deliver":
                await deliver(self.services, self._http, uuid.UUID(body["message_id"]), self.visibility_ms / 1000)
            await self.queue.ack(job)
        except Exception as exc:  # noqa: BLE001 - every failure is retried, then dead-lettered
            await self._failed(job, exc)

    async def _failed(self, job: Job, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"[:500]
        log.warning("channel job %s (%s) failed, attempt %d: %s", job.id, job.body["kind"], job.attempts + 1, error)
        retried = await self.queue.retry(job, error)
        agent_id, channel, message_id = await self._about(job)
        if not retried and job.body["kind"] == "deliver":
            await give_up(self.services, uuid.UUID(job.body["message_id"]))
        if agent_id is not None:
            await self.services.channels.record(
                agent_id,
                channel,
                "retry" if retried else "dead_letter",
                message_id=message_id,
                external_message_id=(job.body.get("item") or {}).get("external_id"),
                error=error,
                attempts=job.attempts + 1,
            )

    async def _about(self, job: Job) -> tuple[uuid.UUID | None, str, uuid.UUID | None]:
        """(agent, channel, message) a job is about, for the sync log."""
        body = job.body
        if body["kind"] == "inbound":
            return uuid.UUID(body["agent_id"]), body["channel"], None
        message = await self.services.context.conversations.message_for_delivery(uuid.UUID(body["message_id"]))
        if message is None:
            return None, "", None
        return message["agent_id"], message["channel"], message["id"]

    async def _maintain(self, stop: asyncio.Event) -> None:
        last_sweep = last_keep = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() - last_keep > self.visibility_ms / 3000:
                    last_keep = time.monotonic()
                    await self.queue.keep(self.name, list(self._tasks))
                await self.queue.promote_due()
                free = self.prefetch - len(self._tasks)
                if free > 0:
                    for job in await self.queue.reclaim(self.name, self.visibility_ms, free):
                        log.info("reclaimed channel job %s after %d ms idle", job.id, self.visibility_ms)
                        self._start(job)
                if time.monotonic() - last_sweep > UNDELIVERED_SWEEP_EVERY_S:
                    last_sweep = time.monotonic()
                    stale = 2 * self.visibility_ms / 1000
                    for message_id in await self.services.context.conversations.undelivered(stale):
                        await self.queue.enqueue_delivery(str(message_id))
            except Exception:  # Redis or Postgres away for a moment: the next round tries again
                log.exception("channel worker maintenance failed")
            await asyncio.sleep(MAINTENANCE_EVERY_S)
