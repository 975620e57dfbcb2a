"""The Redis connection and RQ queues, built lazily (nothing connects at import time).

`redis` and `rq` are imported on first use, not with this module: together they cost ~100 ms of
start-up (redis pulls in asyncio, ssl and cryptography), which every CLI call and web process
would pay even with no REDIS_URL configured.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    import redis
    from rq import Queue

log = logging.getLogger(__name__)

# Queues are named by purpose so operators can scale image work and AI work separately.
QUEUE_NAMES = ("images", "ai", "default")


@functools.cache
def redis_down() -> tuple[type[BaseException], ...]:
    """Errors that mean "the queue is not there right now": fall back to running in-process.

    A function so that `except redis_down():` imports redis only when an exception is matched."""
    import redis

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


def __getattr__(name: str):
    """`REDIS_DOWN`, the tuple `redis_down()` returns, for callers that already imported redis."""
    if name == "REDIS_DOWN":
        return redis_down()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_redis() -> redis.Redis | None:
    """The app's Redis client, or None when REDIS_URL is not configured."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("marquee_redis")
    if client is None:
        import redis

        timeout = float(current_app.config.get("REDIS_CONNECT_TIMEOUT", 0.5))
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=5)
        current_app.extensions["marquee_redis"] = client
    return client


def queue_name(purpose: str) -> str:
    return f"{current_app.config.get('QUEUE_PREFIX', '')}{purpose}"


def get_queue(purpose: str) -> Queue | None:
    conn = get_redis()
    if conn is None:
        return None
    from rq import Queue

    return Queue(queue_name(purpose), connection=conn)


def redis_available() -> bool:
    conn = get_redis()
    if conn is None:
        return False
    try:
        return bool(conn.ping())
    except redis_down():
        return False
