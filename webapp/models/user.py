"""Accounts: producers make things, staff review, admins run the platform."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.extensions import db
from webapp.models.base import UTCDateTime, utcnow


class Role(enum.StrEnum):
    PRODUCER = "producer"
    STAFF = "staff"
    ADMIN = "admin"


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80), default="")
    role: Mapped[str] = mapped_column(String(16), default=Role.PRODUCER.value)
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    feature_flags: Mapped[dict] = mapped_column(JSON, default=dict)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Carried in every session and remember-me cookie (see get_id); bumping it ends them all at once.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Two-factor (TOTP): the secret is encrypted with the user vault; it is only in force once
    # `totp_enabled_at` is set (a secret without it is a setup not yet confirmed with a code).
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The last accepted time step: a code is accepted only for a later step, so it cannot be replayed.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Wrong second-step codes since the last good one (server side, so a replayed cookie cannot reset it).
    totp_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # How dates and prices read for this producer ("en_GB", "de_DE"); None: the browser's language.
    locale: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The auto-format choice last used (formats, custom sizes, fills), preselected next time (issue 17).
    format_prefs: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    def set_password(self, password: str) -> None:
        # Werkzeug's default is scrypt (n=2**15, r=8, p=1): memory-hard, salted per user.
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """Flask-Login's "alternative id": the session and the remember-me cookie both store
        "id:version", so a cookie issued before the version was bumped no longer loads anyone."""
        return f"{self.id}:{self.session_version or 0}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return bool(self.is_active_account)

    @property
    def mfa_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.STAFF.value, Role.ADMIN.value)

    @property
    def media_assistant_enabled(self) -> bool:
        """Admins switch the media assistant off per producer; staff and admins always have it."""
        if self.is_staff:
            return True
        return bool((self.feature_flags or {}).get("media_assistant_enabled", True))

    @property
    def name(self) -> str:
        return self.display_name or self.email.split("@", 1)[0]

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class RecoveryCode(db.Model):
    """One single-use two-factor recovery code, stored as a SHA-256 hash (the codes carry 80 random
    bits, so a fast hash cannot be reversed by guessing); `used_at` set when it is spent."""

    __tablename__ = "mfa_recovery_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
