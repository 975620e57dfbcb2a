"""The audit log: every key operation and admin change, with who, when and from where."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEvent, User


def record(
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
    actor: User | None = None,
    actor_label: str | None = None,
) -> None:
    """Add an audit event to the current transaction (the caller commits with its change).

    `detail` must never hold a secret: callers pass key suffixes ("…9f3a") only. `actor_label`
    names an actor that is not an account (e.g. "anonymous" for a failed login).
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
            actor_label=(who.email if who is not None else actor_label or "system (CLI or worker)")[:254],
            action=action,
            target=target[:128],
            detail=detail or {},
            ip=ip or ("cli" if not has_request_context() else None),
            user_agent=ua,
        )
    )


@dataclass(frozen=True)
class Filters:
    """What /admin/audit and /admin/audit.csv narrow the log to; every field optional.

    `start` is inclusive and `end` exclusive (the caller passes the day after the last day shown).
    """

    action: str | None = None
    actor: str | None = None
    target: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def _like(text: str) -> str:
    return f"%{text.replace('%', '').replace('_', '')}%"


def _filtered(filters: Filters):
    q = select(AuditEvent).order_by(AuditEvent.id.desc())
    if filters.action:
        q = q.where(AuditEvent.action == filters.action)
    if filters.actor:
        q = q.where(AuditEvent.actor_label.ilike(_like(filters.actor)))
    if filters.target:
        q = q.where(AuditEvent.target.ilike(_like(filters.target)))
    if filters.start:
        q = q.where(AuditEvent.created_at >= filters.start)
    if filters.end:
        q = q.where(AuditEvent.created_at < filters.end)
    return q


def page(
    action: str | None = None,
    actor: str | None = None,
    before: int | None = None,
    size: int = 50,
    filters: Filters | None = None,
) -> tuple[list[AuditEvent], int | None]:
    """Newest first, keyset-paginated on id: (events, id to pass as `before` for the next page)."""
    q = _filtered(filters or Filters(action=action, actor=actor)).limit(size + 1)
    if before:
        q = q.where(AuditEvent.id < before)
    rows = list(db.session.scalars(q))
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].id if more and rows else None)


def iter_events(filters: Filters, batch: int = 500) -> Iterator[AuditEvent]:
    """Every matching event, newest first, fetched in keyset batches so an export of the whole
    log never holds more than `batch` rows in memory."""
    before: int | None = None
    while True:
        q = _filtered(filters).limit(batch)
        if before is not None:
            q = q.where(AuditEvent.id < before)
        rows = list(db.session.scalars(q))
        yield from rows
        if len(rows) < batch:
            return
        before = rows[-1].id


def actions() -> list[str]:
    """Every action that has been recorded (for the filter's choices)."""
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
