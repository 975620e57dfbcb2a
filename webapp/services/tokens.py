"""Personal access tokens for the JSON API: created, shown once, stored hashed, revocable."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ApiToken, User, utcnow
from webapp.services import audit

SCOPES = ("read", "write", "admin")
PREFIX = "mq_"


class TokenError(ValueError):
    pass


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(user: User, name: str, scope: str) -> tuple[ApiToken, str]:
    """Returns the row and the plaintext token (shown once, never stored)."""
    name = (name or "").strip()[:80] or "API token"
    if scope not in SCOPES:
        raise TokenError("Choose read, write or admin.")
    if scope == "admin" and not user.is_admin:
        raise TokenError("Only admins can create admin tokens.")
    plaintext = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        owner_id=user.id, name=name, scope=scope, token_hash=_hash(plaintext), prefix=plaintext[:10]
    )
    db.session.add(row)
    audit.record("api_token.create", f"api_token:{row.prefix}", {"name": name, "scope": scope}, user)
    db.session.commit()
    return row, plaintext


def revoke(row: ApiToken, actor: User | None = None) -> None:
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record("api_token.revoke", f"api_token:{row.prefix}", {"name": row.name}, actor)
        db.session.commit()


def authenticate(token: str) -> tuple[User, ApiToken] | None:
    """The user behind a live token, or None. A revoked token stops working at once."""
    if not token or not token.startswith(PREFIX) or len(token) > 100:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None:
        return None
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
