"""The channel job queue on Redis Streams: webhooks enqueue, workers consume in one consumer group.

Jobs are `inbound` (an item a webhook received) or `deliver` (a stored agent message to send). A job stays pending
until a worker acknowledges it; one a crashed worker held is reclaimed by another after the visibility timeout
(XAUTOCLAIM). A failed job goes to a retry set scored by when it is due (exponential backoff) and back onto the
stream from there; after `max_retries` it goes to the dead-letter stream. The moves between stream, retry set and
dead letters are Lua scripts, so a crash never loses or doubles a job in between.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

JOBS = "orch:channels:jobs"
RETRY = "orch:channels:retry"
DEAD = "orch:channels:dead"
GROUP = "workers"
SEEN_TTL_S = 7 * 24 * 3600  # platforms redeliver for hours at most; a week is ample

# Enqueue an inbound item unless its platform id was seen: the dedup mark and the job are one atomic step.
_ENQUEUE_ONCE = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
  redis.call('XADD', KEYS[1], '*', 'job', ARGV[1], 'attempts', '0')
  return 1
end
return 0
"""

# Acknowledge a job and schedule its retry, or dead-letter it, atomically.
_RETRY_OR_DEAD = """
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if tonumber(ARGV[4]) > tonumber(ARGV[5]) then  -- ARGV[4] failures so far; ARGV[5] retries allowed
  redis.call('XADD', KEYS[3], '*', 'job', ARGV[3], 'attempts', ARGV[4], 'error', ARGV[7])
  return 0
end
redis.call('ZADD', KEYS[2], ARGV[6], cjson.encode({job = ARGV[3], attempts = ARGV[4]}))
return 1
"""

# Move due retries back onto the stream.
_PROMOTE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, member in ipairs(due) do
  local entry = cjson.decode(member)
  redis.call('XADD', KEYS[1], '*', 'job', entry.job, 'attempts', entry.attempts)
  redis.call('ZREM', KEYS[2], member)
end
return #due
"""


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    """The stream entry id."""
    body: dict
    attempts: int


class ChannelQueue:
    def __init__(self, redis: aioredis.Redis, *, max_retries: int = 5, backoff_ms: float = 500) -> None:
        self.redis = redis
        self.max_retries = max_retries
        self.backoff_ms = backoff_ms
        self._enqueue_once = redis.register_script(_ENQUEUE_ONCE)
        self._retry_or_dead = redis.register_script(_RETRY_OR_DEAD)
        self._promote_due = redis.register_script(_PROMOTE_DUE)

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(JOBS, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def enqueue_inbound(self, channel: str, agent_id: str, item: dict, dedupe_key: str) -> bool:
        """Queue a webhook item once per dedupe key (its platform id); False for a redelivery already queued."""
        body = json.dumps({"kind": "inbound", "channel": channel, "agent_id": agent_id, "item": item})
        seen = f"orch:channels:seen:{channel}:{agent_id}:{dedupe_key}"
        return bool(await self._enqueue_once(keys=[JOBS, seen], args=[body, SEEN_TTL_S]))

    async def enqueue_delivery(self, message_id: str) -> None:
        await self.redis.xadd(JOBS, {"job": json.dumps({"kind": "deliver", "message_id": message_id}), "attempts": "0"})

    async def take(self, consumer: str, count: int, block_ms: int) -> list[Job]:
        """New jobs for this consumer (up to count), waiting at most block_ms for one."""
        reply = await self.redis.xreadgroup(GROUP, consumer, {JOBS: ">"}, count=count, block=block_ms)
        return [self._job(entry_id, fields) for _, entries in reply or [] for entry_id, fields in entries]

    async def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[Job]:
        """Jobs another consumer took and has not acknowledged for min_idle_ms: it is presumed dead."""
        reply = await self.redis.xautoclaim(JOBS, GROUP, consumer, min_idle_ms, start_id="0-0", count=count)
        return [self._job(entry_id, fields) for entry_id, fields in reply[1] if fields]

    async def keep(self, consumer: str, job_ids: list[str]) -> None:
        """Reset the idle time of jobs still being worked on, so no one reclaims a slow job from a live worker."""
        if job_ids:
            await self.redis.xclaim(JOBS, GROUP, consumer, 0, job_ids, justid=True)

    async def ack(self, job: Job) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.xack(JOBS, GROUP, job.id).xdel(JOBS, job.id).execute()

    async def retry(self, job: Job, error: str) -> bool:
        """Schedule the job again after a backoff; False when it was dead-lettered instead."""
        attempts = job.attempts + 1
        due = time.time() + self.backoff_ms * 2 ** (attempts - 1) / 1000
        return bool(
            await self._retry_or_dead(
                keys=[JOBS, RETRY, DEAD],
                args=[GROUP, job.id, json.dumps(job.body), attempts, self.max_retries, due, error[:500]],
            )
        )

    async def promote_due(self) -> int:
        return int(await self._promote_due(keys=[JOBS, RETRY], args=[time.time()]))

    async def dead_letters(self, count: int = 100) -> list[dict]:
        entries = await self.redis.xrange(DEAD, count=count)
        return [
            {"id": _text(i), "job": json.loads(f[b"job"]), "attempts": int(f[b"attempts"]), "error": _text(f[b"error"])}
            for i, f in entries
        ]

    @staticmethod
    def _job(entry_id: bytes, fields: dict) -> Job:
        return Job(_text(entry_id), json.loads(fields[b"job"]), int(fields.get(b"attempts", b"0")))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
