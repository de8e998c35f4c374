"""Abuse limits that hold across workers: request rates (per key, per IP, turns per user) and concurrent streams.

Rates use GCRA (the generic cell rate algorithm): one Redis key per bucket holds the theoretical arrival time, so
a bucket of `limit` per `period` admits a burst of `limit` and then one request every `period / limit`, and a
refused caller learns exactly when to retry. Concurrent streams are a sorted set of slots per principal, each
with an expiry that a live stream keeps pushing forward, so a crashed worker's slots free themselves.

When Redis does not answer, the same algorithms run in this process's memory: limits then hold per worker
instead of across them, which keeps abuse bounded without turning a Redis outage into an outage of chat.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Every script reads the time from Redis itself: workers' clocks may disagree, and the script stays atomic.
_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS[1] bucket; ARGV period_ms, limit. Returns {1, 0} admitted or {0, retry_after_ms}.
_GCRA = (
    _NOW_MS
    + """
local period = tonumber(ARGV[1])
local interval = period / tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - period
if allow_at > now then return {0, math.ceil(allow_at - now)} end
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now))
return {1, 0}
"""
)

# KEYS[1] the principal's slots; ARGV ttl_ms, cap, slot id. Returns 1 taken, 0 at the cap.
_TAKE_SLOT = (
    _NOW_MS
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""
)

# KEYS[1] the principal's slots; ARGV ttl_ms, slot id: push a live slot's expiry forward.
_KEEP_SLOT = (
    _NOW_MS
    + """
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""
)

_LOCAL_BUCKETS_MAX = 100_000  # memory bound of the in-process fallback (oldest buckets are forgotten first)


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0


class RateLimiter:
    """GCRA buckets on Redis, with an in-process fallback while Redis is down."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._script = redis.register_script(_GCRA)
        self._local: OrderedDict[str, float] = OrderedDict()

    async def hit(self, bucket: str, limit: int, period_s: float = 60.0) -> Verdict:
        """Count one request against `limit` per `period_s`; a limit of 0 or less means unlimited."""
        if limit <= 0:
            return Verdict(True)
        period_ms = period_s * 1000
        try:
            allowed, retry_ms = await self._script(keys=[f"orch:rl:{bucket}"], args=[period_ms, limit])
        except RedisError:
            allowed, retry_ms = self._hit_locally(bucket, limit, period_ms)
        return Verdict(bool(allowed), max(1, math.ceil(int(retry_ms) / 1000)) if not allowed else 0)

    def _hit_locally(self, bucket: str, limit: int, period_ms: float) -> tuple[int, float]:
        now = time.monotonic() * 1000
        tat = max(self._local.pop(bucket, now), now)
        new_tat = tat + period_ms / limit
        if (allow_at := new_tat - period_ms) > now:
            self._local[bucket] = tat
            return 0, allow_at - now
        self._local[bucket] = new_tat
        while len(self._local) > _LOCAL_BUCKETS_MAX:
            self._local.popitem(last=False)
        return 1, 0


class StreamSlots:
    """At most `cap` open SSE streams per principal, across workers."""

    def __init__(self, redis: aioredis.Redis, *, ttl_s: float = 60.0) -> None:
        self.redis = redis
        self.ttl_ms = int(ttl_s * 1000)
        self._take = redis.register_script(_TAKE_SLOT)
        self._keep = redis.register_script(_KEEP_SLOT)
        self._local: dict[str, set[str]] = {}

    async def take(self, principal: str, cap: int) -> Slot | None:
        """A slot for one more stream, or None when the principal already has `cap` open."""
        slot = Slot(self, principal, uuid.uuid4().hex)
        if cap <= 0:
            slot.unlimited = True
            return slot
        try:
            taken = await self._take(keys=[_slots_key(principal)], args=[self.ttl_ms, cap, slot.id])
        except RedisError:
            held = self._local.setdefault(principal, set())
            if len(held) >= cap:
                return None
            held.add(slot.id)
            slot.local = True
            return slot
        return slot if taken else None


def _slots_key(principal: str) -> str:
    return f"orch:streams:{principal}"


class Slot:
    """One open stream: keeps its slot alive while the stream runs, and frees it when the stream ends."""

    def __init__(self, slots: StreamSlots, principal: str, slot_id: str) -> None:
        self.slots, self.principal, self.id = slots, principal, slot_id
        self.local = self.unlimited = False
        self._keeper: asyncio.Task | None = None

    def keep_alive(self) -> None:
        if not (self.local or self.unlimited) and self._keeper is None:
            self._keeper = asyncio.create_task(self._keep_forever())

    async def _keep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.slots.ttl_ms / 3000)
            try:
                await self.slots._keep(keys=[_slots_key(self.principal)], args=[self.slots.ttl_ms, self.id])
            except RedisError:
                log.warning("stream slot %s not refreshed: redis unavailable", self.id)

    async def release(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
        if self.unlimited:
            return
        if self.local:
            self.slots._local.get(self.principal, set()).discard(self.id)
            return
        try:
            await self.slots.redis.zrem(_slots_key(self.principal), self.id)
        except RedisError:  # it expires on its own within the slot ttl
            log.warning("stream slot %s not released: redis unavailable", self.id)
