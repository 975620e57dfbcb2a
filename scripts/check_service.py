"""Is the PostgreSQL or Redis that the tests will use up, and will it let us in? (used by scripts/test)

    python scripts/check_service.py postgres URL    # exit 0 ok, 10 nothing answers, 11 it refuses us
    python scripts/check_service.py redis URL
    python scripts/check_service.py where URL       # prints "HOST PORT LOCAL" (LOCAL is 1 or 0)

It runs with the project's .venv (psycopg and redis are dependencies), so a machine whose Postgres
or Redis is elsewhere needs neither psql/pg_isready nor redis-cli. "Nothing answers" (no TCP
listener) is what scripts/test may fix by starting a local server; "refuses us" (wrong password,
no such role, no right to create databases) it must not fix on a server it did not set up, so it
is told apart and reported with the server's own words.
"""

from __future__ import annotations

import socket
import sys
from urllib.parse import urlsplit

OK, DOWN, REFUSED = 0, 10, 11
DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "redis": 6379, "rediss": 6379}
LOCAL_HOSTS = {"", "127.0.0.1", "localhost", "::1"}


def where(url: str) -> tuple[str, int, bool]:
    """Host, port and whether this machine could serve it (loopback or a Unix socket directory)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
    return host, port, host in LOCAL_HOSTS or host.startswith("/")


def _listening(host: str, port: int) -> bool:
    """True when something accepts a TCP connection there (Unix sockets: left to the client)."""
    if not host or host.startswith("/"):
        return True
    try:
        with socket.create_connection((host, port), timeout=5):
            return True
    except OSError:
        return False


def check_postgres(url: str) -> tuple[int, str]:
    """Connects as the tests will and checks the role may create the per-session test database."""
    import psycopg

    host, port, _ = where(url)
    if not _listening(host, port):
        return DOWN, f"nothing accepts connections at {host}:{port}"
    try:
        with psycopg.connect(url, connect_timeout=10, autocommit=True) as conn:
            row = conn.execute(
                "select current_user, rolsuper or rolcreatedb from pg_roles where rolname = current_user"
            ).fetchone()
    except psycopg.Error as exc:
        text = str(exc).strip().replace("\n", " ")
        if "No such file or directory" in text or "Connection refused" in text:
            return DOWN, text
        return REFUSED, text
    if not row or not row[1]:
        return REFUSED, f"role {row[0] if row else '?'} may not create databases (needs CREATEDB)"
    return OK, f"PostgreSQL at {host}:{port} lets {row[0]} create databases"


def check_redis(url: str) -> tuple[int, str]:
    """PING as the tests will."""
    import redis

    host, port, _ = where(url)
    if not _listening(host, port):
        return DOWN, f"nothing accepts connections at {host}:{port}"
    try:
        redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10).ping()
    except redis.exceptions.ConnectionError as exc:
        # A TCP listener that is not Redis (or closes on us) also lands here.
        return REFUSED, f"{type(exc).__name__}: {exc}"
    except redis.exceptions.RedisError as exc:
        return REFUSED, f"{type(exc).__name__}: {exc}"
    return OK, f"Redis at {host}:{port} answers PING"


def main(argv: list[str]) -> int:
    """Dispatches the sub-command; prints one line for the calling script to show."""
    if len(argv) != 3 or argv[1] not in {"postgres", "redis", "where"}:
        print(__doc__, file=sys.stderr)
        return 2
    kind, url = argv[1], argv[2]
    if kind == "where":
        host, port, local = where(url)
        print(host or "localhost", port, int(local))
        return OK
    code, message = check_postgres(url) if kind == "postgres" else check_redis(url)
    print(message)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
