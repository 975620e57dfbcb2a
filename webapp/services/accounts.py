"""Accounts: creation and login with throttling.

Failed logins are throttled per client and per (account, client) (services.throttle), never by
locking the account, and the same work is done for unknown e-mails so neither the answer nor the
response time reveals which addresses have accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.extensions import db
from webapp.models import Role, User, utcnow
from webapp.services import audit, throttle

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


def register_account(email: str, password: str, display_name: str = "") -> None:
    """Self-service sign-up that does not reveal whether the e-mail already has an account.

    A new e-mail gets an account and a welcome message; an existing one gets no second account and
    its owner is told by e-mail that someone tried to sign up with it. Both paths hash the password
    and send one e-mail, so they cost about the same. Raises AccountError only for the password
    policy, which says nothing about who has an account.
    """
    from sqlalchemy.exc import IntegrityError

    from webapp.mail import send_mail

    email = normalise_email(email)
    check_password_policy(password)
    existing = find_user(email)
    if existing is None:
        try:
            user = create_user(email, password, display_name)
        except (AccountError, IntegrityError):  # a simultaneous sign-up with the same e-mail won
            db.session.rollback()
            existing = find_user(email)
        else:
            audit.record("auth.register", f"user:{user.id}", {}, actor=user)
            db.session.commit()
            send_mail(
                [email],
                "Welcome to Marquee",
                "Your Marquee account is ready. Log in with this e-mail address and the password you chose.",
            )
            return
    generate_password_hash(password)  # the same work as creating an account
    audit.record(
        "auth.register.existing_email",
        f"user:{existing.id}" if existing else email,
        {},
        actor_label="anonymous",
    )
    db.session.commit()
    send_mail(
        [email],
        "Someone tried to create a Marquee account with your e-mail",
        "Someone (perhaps you) tried to sign up to Marquee with this e-mail address, which already has an "
        "account. If it was you, log in with your password. If not, you can ignore this message: nothing "
        "was changed.",
    )


@dataclass
class LoginOutcome:
    user: User | None
    message: str | None = None
    retry_after: int = 0  # > 0: throttled; answer 429 with Retry-After


LOGIN_FAILED = "Wrong e-mail or password."


def authenticate(email: str, password: str, client: str) -> LoginOutcome:
    """Check credentials, throttling failures per client and per (account, client).

    Every failure path does the same work and says the same thing: the password hash is always
    verified (against a dummy hash for unknown e-mails, and also when throttled), and unknown
    e-mails are counted and throttled exactly like known ones, so neither the answer nor its
    timing tells whether an account exists. No lockout: the owner on another client is never
    affected by failures counted elsewhere.
    """
    email = normalise_email(email)
    pair = f"{email}|{client}"
    refused = throttle.check("login_ip", client)
    if refused.allowed:
        refused = throttle.check("login_account", pair)
    user = find_user(email)
    ok = user.check_password(password) if user is not None else check_password_hash(_DUMMY_HASH, password)
    if not refused.allowed:
        audit.record(
            "auth.login.throttled",
            f"account:{email}",
            {"retry_after": refused.retry_after},
            actor_label="anonymous",
        )
        db.session.commit()
        return LoginOutcome(None, throttle.message(refused.retry_after), refused.retry_after)
    if user is None or not ok:
        throttle.hit("login_ip", client)
        throttle.hit("login_account", pair)
        audit.record("auth.login.failed", f"account:{email}", {}, actor_label="anonymous")
        db.session.commit()
        return LoginOutcome(None, LOGIN_FAILED)
    if not user.is_active:
        return LoginOutcome(None, "This account is disabled. Contact your administrator.")
    throttle.clear("login_account", pair)
    user.last_login_at = utcnow()
    db.session.commit()
    return LoginOutcome(user)
