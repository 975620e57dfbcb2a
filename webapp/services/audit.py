"""The audit log: every key operation and admin change, with who, when and from where."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from webapp.extensions import db
from webapp.models import AuditEvent, User


def record(action: str, target: str = "", detail: dict[str, Any] | None = None, actor: User | None = None) -> None:
    """Add an audit event to the current transaction (the caller commits with its change).

    `detail` must never hold a secret: callers pass key suffixes ("…9f3a") only.
    """
    who = actor
    if who is None and has_request_context() and current_user and current_user.is_authenticated:
        who = current_user._get_current_object()  # type: ignore[attr-defined]
    ip = ua = None
    if has_request_context():
        ip = (request.headers.get("X-Forwarded-For", "").split(",")[0].strip() or request.remote_addr or "")[:64]
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
