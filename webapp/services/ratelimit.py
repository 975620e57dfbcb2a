"""Images-per-minute limits per API key, shared by every worker and process (Redis).

The provider counts a call when it *arrives*; a limiter that counts at admission and then lets
the caller spend a variable time (a budget reservation, a commit, building the request, a TLS
handshake) before sending lets two calls that were 60 s apart at admission arrive 59.8 s apart,
and the provider answers 429. So a call is given a *slot*, the time it may be sent, and the
caller sleeps until that slot and sends at once: what is recorded is the call's start, not the
moment it asked.

Each key fingerprint (never the key itself) has a Redis sorted set of slots. A call for n images
gets the earliest slot s >= now, >= the latest slot already given (first come, first served) and
>= any hold set after a provider 429, such that the window (s - W - margin, s] holds at most
limit - n other images. The margin (2 s) covers the jitter between the slot and the provider's
arrival clock (sleep overshoot, connection set-up, network): arrivals k and k + limit are then
at least 60 s apart at the provider whenever that jitter stays under the margin, so no 60 s
window there ever holds more than `limit`. The cost is throughput: `limit` per 62 s, not 60.

Slot-taking is one Lua script using Redis's own clock (`TIME`), so two workers cannot take the
same slot and workers on hosts whose clocks disagree still share one timeline. A slot further
away than the caller will wait is not taken. A taken slot that is never used (the worker died)
only makes the limiter stricter. Without Redis (development) a process-local copy of the same
rule does the job.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid

from flask import current_app

from webapp.services.queue import get_redis, redis_down

WINDOW = 60.0
MARGIN = 2.0

# KEYS: the slot set, the hold key. ARGV: limit, n, window (margin included), max_wait, member.
# Returns {1, wait} when a slot `wait` seconds from now was taken, {0, wait} when the earliest
# slot is further than max_wait (nothing taken). Waits are strings: Lua numbers returned to
# Redis are truncated to integers.
_RESERVE = """
local key, hold_key = KEYS[1], KEYS[2]
local limit, n, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local max_wait, member = tonumber(ARGV[4]), ARGV[5]
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local slot = now
local hold = tonumber(redis.call('GET', hold_key) or '')
if hold and hold > slot then slot = hold end
local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
if last[2] and tonumber(last[2]) > slot then slot = tonumber(last[2]) end
local k = limit - n + 1
if redis.call('ZCARD', key) >= k then
  local kth = redis.call('ZRANGE', key, -k, -k, 'WITHSCORES')
  local free = tonumber(kth[2]) + window
  if free > slot then slot = free end
end
local wait = slot - now
if wait > max_wait then return {0, string.format('%.6f', wait)} end
for i = 1, n do redis.call('ZADD', key, string.format('%.6f', slot), member .. ':' .. i) end
redis.call('PEXPIRE', key, math.ceil((wait + window + 5) * 1000))
return {1, string.format('%.6f', wait)}
"""

# KEYS: the hold key. ARGV: seconds. No slot before Redis-now + seconds (a later hold wins).
_HOLD = """
local t = redis.call('TIME')
local until_ = tonumber(t[1]) + tonumber(t[2]) / 1000000 + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '')
if current and current >= until_ then return 0 end
redis.call('SET', KEYS[1], string.format('%.6f', until_), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
return 1
"""

_local_slots: dict[str, list[float]] = {}
_local_holds: dict[str, float] = {}
_local_lock = threading.Lock()


def fingerprint(provider: str, key: str | None) -> str:
    """The bucket for one provider key: the platform key and each producer's own key apart.

    Under the deployment's QUEUE_PREFIX, like every other Redis key of ours, so two deployments
    (or two test sessions) sharing one Redis never spend each other's slots.
    """
    digest = hashlib.sha256(f"{provider}:{key or 'no-key'}".encode()).hexdigest()[:24]
    try:
        prefix = current_app.config.get("QUEUE_PREFIX", "")
    except RuntimeError:  # outside an app: the bare namespace
        prefix = ""
    return f"{prefix}marquee:rl:{provider}:{digest}"


def reserve(
    bucket: str,
    limit: int,
    n: int = 1,
    max_wait: float = 120.0,
    *,
    window: float | None = None,
    margin: float | None = None,
) -> tuple[bool, float]:
    """Take the earliest slot for n images: (True, seconds until it) — send then, not before —
    or (False, seconds until the earliest slot) when that is further than max_wait."""
    if limit <= 0:
        return True, 0.0
    n = max(1, min(n, limit))
    span = (WINDOW if window is None else window) + (MARGIN if margin is None else margin)
    conn = get_redis()
    if conn is not None:
        try:
            ok, wait = conn.eval(
                _RESERVE, 2, bucket, f"{bucket}:hold", limit, n, span, max_wait, uuid.uuid4().hex
            )
            return int(ok) == 1, max(0.0, float(wait))
        except redis_down():
            pass
    return _reserve_local(bucket, limit, n, max_wait, span)


def _reserve_local(bucket: str, limit: int, n: int, max_wait: float, span: float) -> tuple[bool, float]:
    """The Lua script's rule for one process (no Redis), on this process's clock."""
    now = time.time()
    with _local_lock:
        slots = [s for s in _local_slots.get(bucket, []) if s > now - span]
        slot = max(now, _local_holds.get(bucket, 0.0), slots[-1] if slots else now)
        k = limit - n + 1
        if len(slots) >= k:
            slot = max(slot, slots[-k] + span)
        wait = slot - now
        if wait > max_wait:
            _local_slots[bucket] = slots
            return False, wait
        _local_slots[bucket] = slots + [slot] * n
        return True, wait


def hold(bucket: str, seconds: float) -> None:
    """No slot on this key for `seconds` (the provider said 429 + Retry-After): every worker
    sharing the key backs off, not only the one that was refused."""
    if seconds <= 0:
        return
    conn = get_redis()
    if conn is not None:
        try:
            conn.eval(_HOLD, 1, f"{bucket}:hold", seconds)
            return
        except redis_down():
            pass
    with _local_lock:
        _local_holds[bucket] = max(_local_holds.get(bucket, 0.0), time.time() + seconds)
