"""Per-client throttles for logins, registrations and password-reset requests (sliding windows).

Why throttling and not lockout: locking an account after N wrong passwords lets anyone lock anyone
out (admins included) from anywhere. Here failures are counted per client IP and per
(account, client IP) pair, so an attacker hammering one account from their machine is slowed down
while the rightful owner, on another client, logs in as usual; and one client cannot spray
passwords over many accounts or register accounts in bulk.

Each (scope, key) is a sliding-window log: the times of the events counted in the last `window`
seconds. An event is refused (with the seconds until the oldest counted one leaves the window)
when the window already holds `limit` events; refused events are not added, so a log never holds
more than `limit` entries however hard a client hammers. With REDIS_URL the log is a Redis sorted
set updated by one Lua script on Redis's own clock (shared by every process and host); without
Redis, or while it is down, a process-local copy of the same rule is used (limits then apply per
process). Keys are SHA-256 digests, so e-mail addresses are not stored in Redis.

Scopes and their settings (webapp/config.py; the login window is THROTTLE_LOGIN_WINDOW_SECONDS):
  login_ip       failed logins per client IP            THROTTLE_LOGIN_PER_IP per window
  login_account  failed logins per (e-mail, client IP)  THROTTLE_LOGIN_PER_ACCOUNT per window
  register       registration attempts per client IP    THROTTLE_REGISTER_PER_HOUR per hour
  reset          password-reset requests per client IP  THROTTLE_RESET_PER_HOUR per hour

A route guarding a request: `decision = throttle.hit("reset", throttle.client_ip())`; when
`not decision.allowed`, answer 429 with `Retry-After: decision.retry_after` and
`throttle.message(decision.retry_after)`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass

from flask import current_app, has_request_context, request

from webapp.services.queue import get_redis, redis_down

log = logging.getLogger(__name__)

# KEYS: the log. ARGV: limit, window seconds, add (1/0), member.
# Returns {1, '0'} when allowed (and counted when add=1), {0, wait} when the window is full.
_HIT = """
local key = KEYS[1]
local limit, window, add = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local n = redis.call('ZCARD', key)
if n >= limit then
  local e = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
  return {0, string.format('%.3f', tonumber(e[2]) + window - now)}
end
if add == 1 then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('EXPIRE', key, math.ceil(window))
end
return {1, '0'}
"""

_memory: dict[str, deque[float]] = {}
_memory_lock = threading.Lock()


@dataclass(frozen=True)
class Decision:
    """`allowed` False means refuse with 429 and `Retry-After: retry_after` (whole seconds)."""

    allowed: bool
    retry_after: int = 0


def _limits(scope: str) -> tuple[int, float]:
    cfg = current_app.config
    if scope == "login_ip":
        return int(cfg.get("THROTTLE_LOGIN_PER_IP", 30)), float(cfg.get("THROTTLE_LOGIN_WINDOW_SECONDS", 900))
    if scope == "login_account":
        return int(cfg.get("THROTTLE_LOGIN_PER_ACCOUNT", 5)), float(
            cfg.get("THROTTLE_LOGIN_WINDOW_SECONDS", 900)
        )
    if scope == "register":
        return int(cfg.get("THROTTLE_REGISTER_PER_HOUR", 10)), 3600.0
    if scope == "reset":
        return int(cfg.get("THROTTLE_RESET_PER_HOUR", 5)), 3600.0
    raise ValueError(f"unknown throttle scope {scope!r}")


def _key(scope: str, key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{current_app.config.get('QUEUE_PREFIX', '')}throttle:{scope}:{digest}"


def client_ip() -> str:
    """The client's address as the WSGI server saw it. X-Forwarded-For is not trusted here: an
    attacker would send a new one with every request. Behind a reverse proxy the deployment must
    set REMOTE_ADDR from the proxy (e.g. werkzeug's ProxyFix), or every client shares one bucket."""
    if not has_request_context():
        return "local"
    return (request.remote_addr or "unknown")[:64]


def _memory_hit(name: str, limit: int, window: float, add: bool) -> Decision:
    now = time.monotonic()
    with _memory_lock:
        entries = _memory.setdefault(name, deque())
        while entries and entries[0] <= now - window:
            entries.popleft()
        if len(entries) >= limit:
            wait = entries[len(entries) - limit] + window - now
            return Decision(False, max(1, math.ceil(wait)))
        if add:
            entries.append(now)
        elif not entries:
            _memory.pop(name, None)
        return Decision(True)


def _run(scope: str, key: str, add: bool) -> Decision:
    limit, window = _limits(scope)
    if limit <= 0:
        return Decision(True)
    name = _key(scope, key)
    conn = get_redis()
    if conn is not None:
        try:
            ok, wait = conn.eval(_HIT, 1, name, limit, window, 1 if add else 0, uuid.uuid4().hex)
            if int(ok) == 1:
                return Decision(True)
            return Decision(False, max(1, math.ceil(float(wait))))
        except redis_down():
            log.warning("throttle: Redis unreachable, counting %s in this process", scope)
    return _memory_hit(name, limit, window, add)


def hit(scope: str, key: str) -> Decision:
    """Count one event for (scope, key) unless the window is full; a refused event is not counted."""
    return _run(scope, key, add=True)


def check(scope: str, key: str) -> Decision:
    """Would the next event be refused? Counts nothing (used before checking a password)."""
    return _run(scope, key, add=False)


def clear(scope: str, key: str) -> None:
    """Forget the counted events (the owner of an account logged in from this client)."""
    name = _key(scope, key)
    conn = get_redis()
    if conn is not None:
        with contextlib.suppress(*redis_down()):
            conn.delete(name)
    with _memory_lock:
        _memory.pop(name, None)


def message(retry_after: int) -> str:
    """The text shown with a 429: what happened and when to try again."""
    minutes = max(1, math.ceil(retry_after / 60))
    when = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"Too many attempts from your connection. Try again in {when}."
