"""Who may do what. One place, reused by every feature, so authorization is not re-invented
per route.

- Owned objects: the owner can do everything; staff and admins may VIEW everyone's (support,
  approvals) but not change them; anyone else gets 404, never 403, so ids are not confirmed.
- The media assistant (auto-format, library, shows, studio…) can be switched off per producer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, render_template
from flask_login import current_user, login_required

from webapp.extensions import db

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M")


def can_view(obj: Any, user: Any = None) -> bool:
    user = user or current_user
    return bool(user.is_authenticated and (obj.owner_id == user.id or user.is_staff))


def get_viewable_or_404(model: type[M], object_id: int) -> M:
    """The object if the current user owns it or is staff; 404 otherwise."""
    obj = db.session.get(model, object_id)
    if obj is None or not can_view(obj):
        abort(404)
    return obj


def get_owned_or_404(model: type[M], object_id: int) -> M:
    """The object if the current user owns it (for changes). Staff may see others' objects but
    get 403 when they try to change them; everyone else gets 404."""
    obj = db.session.get(model, object_id)
    if obj is None or not can_view(obj):
        abort(404)
    if obj.owner_id != current_user.id:
        abort(403)
    return obj


def media_assistant_required(view: F) -> F:
    """Log-in plus the per-producer `media_assistant_enabled` flag."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any):
        if not current_user.media_assistant_enabled:
            return render_template("not_enabled.html"), 403
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def role_required(*roles: str) -> Callable[[F], F]:
    """Only these roles (admins always pass). 404 for others, so admin URLs are not advertised."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any):
            if current_user.role != "admin" and current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


admin_required = role_required("admin")
staff_required = role_required("staff")
