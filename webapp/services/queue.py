"""The Redis connection and RQ queues, built lazily (nothing connects at import time)."""

from __future__ import annotations

import logging

import redis
from flask import current_app
from rq import Queue

log = logging.getLogger(__name__)

# Queues are named by purpose so operators can scale image work and AI work separately.
QUEUE_NAMES = ("images", "ai", "default")

# Errors that mean "the queue is not there right now": fall back to running in-process.
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


def get_redis() -> redis.Redis | None:
    """The app's Redis client, or None when REDIS_URL is not configured."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get("marquee_redis")
    if client is None:
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
    return Queue(queue_name(purpose), connection=conn)


def redis_available() -> bool:
    conn = get_redis()
    if conn is None:
        return False
    try:
        return bool(conn.ping())
    except REDIS_DOWN:
        return False
