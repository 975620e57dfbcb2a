"""Accounts: creation and login with throttling.

Throttling is per account (a lockout after repeated failures) so guessing one producer's password
is slow, and the same work is done for unknown e-mails so response time does not reveal which
addresses have accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.extensions import db
from webapp.models import Role, User, utcnow

MIN_PASSWORD = 10
MAX_PASSWORD = 256
_DUMMY_HASH = generate_password_hash("not-a-real-password-just-for-timing")


class AccountError(ValueError):
    """A refusal with a message for the person at the form."""


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Use at least {MIN_PASSWORD} characters for your password.")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"Use at most {MAX_PASSWORD} characters for your password.")


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def create_user(email: str, password: str, display_name: str = "", role: Role = Role.PRODUCER) -> User:
    """Create and commit an account. Raises AccountError when the e-mail is taken."""
    email = normalise_email(email)
    check_password_policy(password)
    if find_user(email) is not None:
        raise AccountError("An account with this e-mail already exists. Log in instead.")
    user = User(email=email, display_name=display_name.strip()[:80], role=role.value)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


@dataclass
class LoginOutcome:
    user: User | None
    message: str | None = None


def authenticate(email: str, password: str) -> LoginOutcome:
    """Check credentials, counting failures and locking the account for a while after too many."""
    user = find_user(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)  # same cost as a real check
        return LoginOutcome(None, "Wrong e-mail or password.")
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        return LoginOutcome(None, f"Too many failed attempts. Try again in {minutes} min.")
    if not user.check_password(password):
        user.failed_logins = (user.failed_logins or 0) + 1
        limit = int(current_app.config.get("LOGIN_MAX_FAILURES", 5))
        if user.failed_logins >= limit:
            seconds = int(current_app.config.get("LOGIN_LOCKOUT_SECONDS", 900))
            user.locked_until = now + timedelta(seconds=seconds)
            user.failed_logins = 0
            db.session.commit()
            return LoginOutcome(
                None, f"Too many failed attempts. The account is locked for {max(1, seconds // 60)} min."
            )
        db.session.commit()
        return LoginOutcome(None, "Wrong e-mail or password.")
    if not user.is_active:
        return LoginOutcome(None, "This account is disabled. Contact your administrator.")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    db.session.commit()
    return LoginOutcome(user)
