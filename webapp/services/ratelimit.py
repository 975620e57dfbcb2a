"""Images-per-minute limits per API key, shared by every worker (Redis sliding window).

The window is a Redis sorted set per key fingerprint (never the key itself): each admitted image
adds a member scored by time; a request for n images is admitted only if the last 60 s hold at
most limit - n. The check-and-add is one Lua script, so two workers cannot both take the last
slot. Without Redis (development) a process-local window does the same job.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import deque

from webapp.services.queue import REDIS_DOWN, get_redis

WINDOW = 60.0

_LUA = """
local key, member = KEYS[1], ARGV[5]
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local limit, n = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count + n > limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  local wait = window
  if oldest[2] then wait = tonumber(oldest[2]) + window - now end
  return {0, tostring(wait)}
end
for i = 1, n do redis.call('ZADD', key, now, member .. ':' .. i) end
redis.call('EXPIRE', key, math.ceil(window) + 5)
return {1, '0'}
"""

_local: dict[str, deque[float]] = {}
_local_lock = threading.Lock()


def fingerprint(provider: str, key: str | None) -> str:
    digest = hashlib.sha256(f"{provider}:{key or 'no-key'}".encode()).hexdigest()[:24]
    return f"marquee:rl:{provider}:{digest}"


def try_acquire(bucket: str, limit: int, n: int = 1, now: float | None = None) -> float:
    """Admit n images now (returns 0.0) or return how many seconds to wait before retrying."""
    if limit <= 0:
        return 0.0
    n = min(n, limit)
    conn = get_redis()
    if conn is not None:
        try:
            # Redis's own clock (one clock for every worker host): with each worker's time.time(),
            # a worker whose clock runs ahead trims entries that are still inside the window for
            # the others, and the window admits more than `limit`.
            stamp = "" if now is None else now
            ok, wait = conn.eval(_LUA, 1, bucket, stamp, WINDOW, limit, n, uuid.uuid4().hex)
            return 0.0 if int(ok) == 1 else max(0.05, float(wait))
        except REDIS_DOWN:
            pass
    now = time.time() if now is None else now
    with _local_lock:
        q = _local.setdefault(bucket, deque())
        while q and q[0] <= now - WINDOW:
            q.popleft()
        if len(q) + n > limit:
            return max(0.05, q[0] + WINDOW - now)
        q.extend([now] * n)
        return 0.0


def acquire(bucket: str, limit: int, n: int = 1, max_wait: float = 120.0) -> bool:
    """Block until admitted (True) or until max_wait passes (False)."""
    deadline = time.monotonic() + max_wait
    while True:
        wait = try_acquire(bucket, limit, n)
        if wait == 0.0:
            return True
        if time.monotonic() + wait > deadline:
            return False
        time.sleep(min(wait, 5.0))
