"""The audit log: every key operation and admin change, with who, when and from where."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEvent, User


def record(
    action: str, target: str = "", detail: dict[str, Any] | None = None, actor: User | None = None
) -> None:
    """Add an audit event to the current transaction (the caller commits with its change).

    `detail` must never hold a secret: callers pass key suffixes ("…9f3a") only.
    """
    who = actor
    if who is None and has_request_context() and current_user and current_user.is_authenticated:
        who = current_user._get_current_object()  # type: ignore[attr-defined]
    ip = ua = None
    if has_request_context():
        ip = (request.headers.get("X-Forwarded-For", "").split(",")[0].strip() or request.remote_addr or "")[
            :64
        ]
        ua = (request.user_agent.string or "")[:300]
    db.session.add(
        AuditEvent(
            actor_id=who.id if who is not None else None,
            actor_label=(who.email if who is not None else "system (CLI or worker)")[:254],
            action=action,
            target=target[:128],
            detail=detail or {},
            ip=ip or ("cli" if not has_request_context() else None),
            user_agent=ua,
        )
    )


def page(
    action: str | None = None, actor: str | None = None, before: int | None = None, size: int = 50
) -> tuple[list[AuditEvent], int | None]:
    """Newest first, keyset-paginated on id: (events, id to pass as `before` for the next page)."""
    q = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(size + 1)
    if action:
        q = q.where(AuditEvent.action == action)
    if actor:
        q = q.where(AuditEvent.actor_label.ilike(f"%{actor.replace('%', '').replace('_', '')}%"))
    if before:
        q = q.where(AuditEvent.id < before)
    rows = list(db.session.scalars(q))
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].id if more and rows else None)


def actions() -> list[str]:
    """Every action that has been recorded (for the filter's choices)."""
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
