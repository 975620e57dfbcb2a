"""Account administration: roles and feature flags."""

from __future__ import annotations

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Asset, Role, Show, User
from webapp.services import audit


class AdminError(ValueError):
    """A refused admin action, with the reason for the admin."""


def list_users(q: str = "", limit: int = 100, offset: int = 0) -> list[tuple[User, int, int]]:
    """Users with their asset and show counts, in one query."""
    assets = select(func.count()).where(Asset.owner_id == User.id).scalar_subquery()
    shows = select(func.count()).where(Show.owner_id == User.id).scalar_subquery()
    query = select(User, assets, shows).order_by(User.id).limit(limit).offset(offset)
    if q:
        query = query.where(User.email.ilike(f"%{q.strip().lower()}%"))
    return [(u, int(a), int(s)) for u, a, s in db.session.execute(query).all()]


def set_media_assistant(user: User, enabled: bool) -> None:
    flags = dict(user.feature_flags or {})
    flags["media_assistant_enabled"] = bool(enabled)
    user.feature_flags = flags  # reassign so the JSON column is marked dirty
    audit.record("user.media_assistant", f"user:{user.id}", {"email": user.email, "enabled": bool(enabled)})
    db.session.commit()


def set_role(actor: User, user: User, role: str) -> None:
    if role not in {r.value for r in Role}:
        raise AdminError(f"Unknown role {role!r}: choose producer, staff or admin.")
    if user.id == actor.id and role != Role.ADMIN.value:
        raise AdminError("You cannot remove your own admin role; ask another admin.")
    if user.role != role:
        audit.record(
            "user.role", f"user:{user.id}", {"email": user.email, "from": user.role, "to": role}, actor
        )
    user.role = role
    db.session.commit()
