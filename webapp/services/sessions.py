"""Browser sessions you can end: a per-account version, an idle timeout and an absolute lifetime.

Sessions live in the signed cookie, so on their own they cannot be revoked: a copy keeps working
after logout. Every session and remember-me cookie therefore carries the account's
`session_version` (`User.get_id()` is "id:version") and every request checks it against the
database; bumping it (logout, password change, an admin's "sign out everywhere") ends them all at
once. The session also records when the person logged in and when they were last seen, so an
abandoned or very old session stops working after SESSION_IDLE_MINUTES / SESSION_MAX_HOURS.
"""

from __future__ import annotations

import time

from flask import current_app, flash, has_request_context, request, session
from flask_login import login_user
from sqlalchemy import update

from webapp.extensions import db
from webapp.models import User

LOGIN_AT = "_login_at"
SEEN_AT = "_seen_at"
# Last-seen is rewritten at most this often, so not every request re-sends the session cookie.
SEEN_GRANULARITY_SECONDS = 60


def clock() -> float:
    """Seconds since the epoch. One function, so tests can move time forward without sleeping."""
    return time.time()


def parse_id(user_id: str) -> tuple[int, int] | None:
    """("id", "version") from a session id "12:3"; None for anything else (old-format cookies)."""
    uid, sep, version = (user_id or "").partition(":")
    if not sep:
        return None
    try:
        return int(uid), int(version)
    except ValueError:
        return None


def start(user: User, remember: bool = False) -> None:
    """Log `user` in on a fresh session: nothing from the anonymous session (CSRF secret, flashes,
    anything an attacker planted before login) carries over, and the clocks start now."""
    session.clear()
    login_user(user, remember=remember)
    now = clock()
    session[LOGIN_AT] = now
    session[SEEN_AT] = now


def _expired(now: float) -> str | None:
    """Why this session is too old or idle, or None if it may go on."""
    cfg = current_app.config
    login_at = session.get(LOGIN_AT)
    seen_at = session.get(SEEN_AT)
    if not isinstance(login_at, int | float) or not isinstance(seen_at, int | float):
        return None  # a session just restored from the remember-me cookie: clocks start below
    max_seconds = int(cfg.get("SESSION_MAX_HOURS", 24 * 14)) * 3600
    idle_seconds = int(cfg.get("SESSION_IDLE_MINUTES", 120)) * 60
    if max_seconds > 0 and now - login_at > max_seconds:
        return "Your session reached its maximum length. Please log in again."
    if idle_seconds > 0 and now - seen_at > idle_seconds:
        return "You were logged out after a period of inactivity. Please log in again."
    return None


def load_user(user_id: str) -> User | None:
    """Flask-Login's user_loader: the account only if the cookie's version is current and, for
    the session cookie, the session is neither idle nor too old.

    Called with the session's id first and, when that yields nobody, with the remember-me
    cookie's id. An expired session also clears the remember-me cookie, or it would simply log
    the person straight back in.
    """
    parsed = parse_id(user_id)
    if parsed is None:
        return None
    uid, version = parsed
    user = db.session.get(User, uid)
    if user is None or (user.session_version or 0) != version or not user.is_active:
        return None  # a disabled account's sessions and remember-me cookies stop at once
    if not has_request_context():
        return user
    now = clock()
    from_session = session.get("_user_id") == user_id
    if from_session:
        reason = _expired(now)
        if reason is not None:
            session.clear()
            session["_remember"] = "clear"
            if not request.path.startswith("/api/"):
                flash(reason, "info")
            return None
    if not isinstance(session.get(LOGIN_AT), int | float):
        session[LOGIN_AT] = now  # restored from the remember-me cookie: a new session begins
        session[SEEN_AT] = now
    elif now - session.get(SEEN_AT, 0) >= SEEN_GRANULARITY_SECONDS:
        session[SEEN_AT] = now
    return user


def end_all_sessions(user: User, keep_current: bool = False) -> None:
    """End every session and remember-me cookie of `user` by bumping its version, and commit.

    Call it on logout, password change and an admin's "sign out everywhere"; the caller records
    the audit event first (it is committed here, with the bump). With `keep_current`, the browser
    making this request stays logged in (e.g. the person who just changed their password): its
    session is re-issued with the new version, keeping its login time.
    """
    unwrap = getattr(user, "_get_current_object", None)  # accept `current_user` as it is
    if unwrap is not None:
        user = unwrap()
    db.session.execute(
        update(User).where(User.id == user.id).values(session_version=User.session_version + 1)
    )
    db.session.commit()
    db.session.refresh(user)
    if keep_current and has_request_context() and session.get("_user_id", "").split(":")[0] == str(user.id):
        login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
        cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        login_user(user, remember=cookie in request.cookies)
        if login_at is not None:
            session[LOGIN_AT] = login_at
            session[SEEN_AT] = seen_at
