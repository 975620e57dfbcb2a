"""Personal access tokens for the JSON API: created, shown once, stored hashed, revocable, and
optionally expiring — admin-scope tokens always expire (TOKEN_ADMIN_DAYS by default, at most
TOKEN_ADMIN_MAX_DAYS), because a forgotten admin token in a script is a standing key to the
providers' money."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ApiToken, User, utcnow
from webapp.services import audit

SCOPES = ("read", "write", "admin")
PREFIX = "mq_"


MAX_DAYS = 3650  # a typo such as 30000 days is refused rather than taken as "never" in disguise


class TokenError(ValueError):
    pass


class ExpiryError(TokenError):
    """The chosen expiry is not allowed (shown next to the expiry field)."""


class TokenExpired(Exception):
    """A token that was valid and is past its expiry. Only the holder of the token itself (190
    random bits) can provoke this answer, so saying "expired on <date>" reveals nothing to anyone
    else; unknown and revoked tokens keep the one generic answer."""

    def __init__(self, expires_at: datetime):
        super().__init__(f"expired at {expires_at.isoformat()}")
        self.expires_at = expires_at


def admin_limits() -> tuple[int, int]:
    """(default days, maximum days) for admin-scope tokens."""
    cfg = current_app.config
    return int(cfg.get("TOKEN_ADMIN_DAYS", 30)), int(cfg.get("TOKEN_ADMIN_MAX_DAYS", 90))


def resolve_expiry(expiry: str | None, scope: str, now: datetime | None = None) -> datetime | None:
    """When a new token stops working, from what the producer chose.

    `expiry` is "never", a number of days, a date (YYYY-MM-DD: the token works through that day,
    UTC), or None/"" for the default — never for read and write tokens, TOKEN_ADMIN_DAYS for admin
    ones. Admin tokens cannot be "never" nor last longer than TOKEN_ADMIN_MAX_DAYS."""
    now = now or utcnow()
    default_days, max_days = admin_limits()
    choice = (expiry or "").strip().lower()
    if choice in ("", "default"):
        return now + timedelta(days=default_days) if scope == "admin" else None
    if choice == "never":
        if scope == "admin":
            raise ExpiryError(
                f"Admin tokens always expire: choose {max_days} days or fewer "
                f"(the default is {default_days})."
            )
        return None
    if choice.isdigit():
        days = int(choice)
        if days < 1:
            raise ExpiryError("Choose at least 1 day, or “never”.")
        at = now + timedelta(days=days)
    else:
        try:
            day = date.fromisoformat(choice)
        except ValueError:
            raise ExpiryError(
                "Expiry must be never, a number of days (7, 30, 90) or a date as YYYY-MM-DD."
            ) from None
        at = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
        if at <= now:
            raise ExpiryError("That date is in the past: choose a later one.")
    if scope == "admin" and at > now + timedelta(days=max_days):
        raise ExpiryError(f"Admin tokens can last at most {max_days} days: choose an earlier expiry.")
    if at > now + timedelta(days=MAX_DAYS):
        raise ExpiryError(f"Choose at most {MAX_DAYS} days, or “never”.")
    return at


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(user: User, name: str, scope: str, expiry: str | None = None) -> tuple[ApiToken, str]:
    """Returns the row and the plaintext token (shown once, never stored). `expiry`: see
    `resolve_expiry`; the default is no expiry for read/write and TOKEN_ADMIN_DAYS for admin."""
    name = (name or "").strip()[:80] or "API token"
    if scope not in SCOPES:
        raise TokenError("Choose read, write or admin.")
    if scope == "admin" and not user.is_admin:
        raise TokenError("Only admins can create admin tokens.")
    expires_at = resolve_expiry(expiry, scope)
    plaintext = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        owner_id=user.id,
        name=name,
        scope=scope,
        token_hash=_hash(plaintext),
        prefix=plaintext[:10],
        expires_at=expires_at,
    )
    db.session.add(row)
    detail = {
        "name": name,
        "scope": scope,
        "expires_at": expires_at.isoformat(timespec="seconds") if expires_at else None,
    }
    audit.record("api_token.create", f"api_token:{row.prefix}", detail, user)
    db.session.commit()
    return row, plaintext


def revoke(row: ApiToken, actor: User | None = None) -> None:
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record("api_token.revoke", f"api_token:{row.prefix}", {"name": row.name}, actor)
        db.session.commit()


def authenticate(token: str) -> tuple[User, ApiToken] | None:
    """The user behind a live token, or None. A revoked token stops working at once; an expired
    one raises TokenExpired (its last use stays what it was)."""
    if not token or not token.startswith(PREFIX) or len(token) > 100:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    if row.expired():
        raise TokenExpired(row.expires_at)
    user = db.session.get(User, row.owner_id)
    if user is None or not user.is_active:
        return None
    row.last_used_at = utcnow()
    db.session.commit()
    return user, row


def for_user(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(select(ApiToken).where(ApiToken.owner_id == user.id).order_by(ApiToken.id.desc()))
    )


def allows(row_scope: str, needed: str) -> bool:
    order = {"read": 0, "write": 1, "admin": 2}
    return order[row_scope] >= order[needed]
