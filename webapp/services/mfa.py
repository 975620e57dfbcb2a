"""Two-factor authentication (TOTP, RFC 6238) with single-use recovery codes.

Why here and not in the routes: the same checks serve the login's second step, the settings page
and the API's admin-token rule, and every outcome is audited in one place.

- The secret is encrypted with the user vault (the key set that protects producers' own keys).
- A code is accepted for the current 30-second step or one step either side (clock drift), and
  only for a step later than the last one accepted: the same code cannot be used twice. The
  "later than" is one conditional UPDATE, so two concurrent requests cannot both spend it.
- Recovery codes carry 80 random bits and are stored as SHA-256 hashes; spending one is also a
  conditional UPDATE (`used_at IS NULL`).
- `clock` is the only source of time here, so tests freeze it instead of sleeping.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import delete, select, update

from webapp.crypto import user_vault
from webapp.extensions import db
from webapp.models import User, utcnow
from webapp.models.user import RecoveryCode
from webapp.services import audit

if TYPE_CHECKING:  # pyotp and segno (~50 ms with its XML writers) load on first use, not at start-up
    import pyotp

ISSUER = "Marquee"
RECOVERY_CODES = 10
VALID_WINDOW = 1  # steps either side of now: tolerates 30 s of clock drift
MAX_SECOND_STEP_FAILURES = 5  # then the password must be entered again


def clock() -> float:
    """Seconds since the epoch. Tests monkeypatch this to freeze time."""
    return time.time()


class MfaError(ValueError):
    """A refusal to show the user as it is (wrong code, not set up…)."""


@dataclass
class Setup:
    secret: str
    uri: str
    qr_svg: str


def required_for(user: User) -> bool:
    """MARQUEE_REQUIRE_ADMIN_MFA=1 makes two-factor mandatory for admins and staff."""
    return bool(current_app.config.get("MARQUEE_REQUIRE_ADMIN_MFA")) and user.is_staff


def _totp(user: User) -> pyotp.TOTP:
    if user.totp_secret is None:
        raise MfaError("Two-factor is not set up.")
    import pyotp

    return pyotp.TOTP(user_vault().decrypt(user.totp_secret))


def begin_setup(user: User) -> None:
    """A new secret, pending until confirmed with a code (replaces an unconfirmed one)."""
    if user.mfa_enabled:
        raise MfaError("Two-factor is already on.")
    import pyotp

    user.totp_secret = user_vault().encrypt(pyotp.random_base32())
    user.totp_last_step = None
    db.session.commit()


def pending_setup(user: User) -> Setup | None:
    """What the setup page shows: the secret in text, the otpauth:// URI and its QR code as inline
    SVG markup (the CSP allows no data: images we would need for a PNG)."""
    if user.mfa_enabled or user.totp_secret is None:
        return None
    totp = _totp(user)
    uri = totp.provisioning_uri(name=user.email, issuer_name=ISSUER)
    import segno

    svg = segno.make(uri, error="m").svg_inline(scale=4, title="QR code for your authenticator app")
    return Setup(secret=totp.secret, uri=uri, qr_svg=svg)


def _matching_step(user: User, code: str) -> int | None:
    """The time step `code` belongs to (now ± VALID_WINDOW), or None."""
    code = "".join((code or "").split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = _totp(user)
    now = clock()
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            return totp.timecode(now) + offset
    return None


def _spend_step(user: User, step: int) -> bool:
    """Record `step` as used unless it (or a later one) already was. Atomic."""
    result = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .where((User.totp_last_step.is_(None)) | (User.totp_last_step < step))
        .values(totp_last_step=step, totp_failures=0)
    )
    return result.rowcount == 1


def _hash_code(code: str) -> str:
    normal = "".join(ch for ch in (code or "").lower() if ch.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(10)  # 80 bits
        code = "-".join(raw[i : i + 5] for i in range(0, 20, 5))
        codes.append(code)
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_code(code)))
    return codes


def confirm_setup(user: User, code: str) -> list[str]:
    """Turn two-factor on once a code from the app proves it holds the secret; returns the recovery
    codes in plaintext, to be shown once (only their hashes are kept)."""
    if user.mfa_enabled:
        raise MfaError("Two-factor is already on.")
    if user.totp_secret is None:
        raise MfaError("Start the setup first.")
    step = _matching_step(user, code)
    if step is None or not _spend_step(user, step):
        audit.record("mfa.failed", f"user:{user.id}", {"during": "setup"}, user)
        db.session.commit()
        raise MfaError("That code is not right. Check the time on your device and try the current code.")
    db.session.refresh(user)
    user.totp_enabled_at = utcnow()
    codes = _new_recovery_codes(user)
    audit.record("mfa.enabled", f"user:{user.id}", {}, user)
    db.session.commit()
    return codes


def verify(user: User, code: str, during: str = "login") -> bool:
    """A current TOTP code (each step once) or an unused recovery code. Audited either way."""
    if not user.mfa_enabled:
        return False
    step = _matching_step(user, code)
    if step is not None and _spend_step(user, step):
        db.session.commit()
        db.session.refresh(user)
        return True
    if step is None:
        spent = db.session.execute(
            update(RecoveryCode)
            .where(RecoveryCode.user_id == user.id)
            .where(RecoveryCode.code_hash == _hash_code(code))
            .where(RecoveryCode.used_at.is_(None))
            .values(used_at=utcnow())
        )
        if spent.rowcount == 1:
            db.session.execute(update(User).where(User.id == user.id).values(totp_failures=0))
            left = remaining_recovery_codes(user)
            audit.record("mfa.recovery_code_used", f"user:{user.id}", {"remaining": left}, user)
            db.session.commit()
            db.session.refresh(user)
            return True
    db.session.execute(update(User).where(User.id == user.id).values(totp_failures=User.totp_failures + 1))
    reason = "reused" if step is not None else "wrong"
    audit.record("mfa.failed", f"user:{user.id}", {"during": during, "reason": reason}, user)
    db.session.commit()
    db.session.refresh(user)
    return False


def remaining_recovery_codes(user: User) -> int:
    return len(
        list(
            db.session.scalars(
                select(RecoveryCode.id)
                .where(RecoveryCode.user_id == user.id)
                .where(RecoveryCode.used_at.is_(None))
            )
        )
    )


def regenerate_recovery_codes(user: User, proof: str) -> list[str]:
    """Replace every recovery code at once (all old ones stop working in the same commit) and
    return the new ones in plaintext, to be shown once.

    `proof` is the account password or a current code from the app: a session left open on
    someone else's screen must not be enough to mint codes that bypass the second factor. A
    recovery code is not accepted as proof — it is what is being replaced, and a leaked one must
    not be able to buy ten fresh ones. A 6-digit string cannot be a password (passwords are at
    least 12 characters), so one field serves both."""
    if not user.mfa_enabled:
        raise MfaError("Two-factor is not on.")
    proof = (proof or "").strip()
    compact = "".join(proof.split())
    if len(compact) == 6 and compact.isdigit():
        step = _matching_step(user, compact)
        ok = step is not None and _spend_step(user, step)
        reason = "wrong" if step is None else "reused"
    else:
        ok = user.check_password(proof)
        reason = "password"
    if not ok:
        db.session.execute(
            update(User).where(User.id == user.id).values(totp_failures=User.totp_failures + 1)
        )
        audit.record("mfa.failed", f"user:{user.id}", {"during": "regenerate", "reason": reason}, user)
        db.session.commit()
        raise MfaError("That is not your password or a current code from the app.")
    db.session.refresh(user)
    codes = _new_recovery_codes(user)
    audit.record("mfa.recovery_codes_regenerated", f"user:{user.id}", {"count": len(codes)}, user)
    db.session.commit()
    return codes


def disable(user: User, password: str, code: str) -> None:
    """Turn two-factor off: needs the password and a current code (or a recovery code), so a
    session left open on someone else's screen cannot remove the second factor."""
    if not user.mfa_enabled:
        raise MfaError("Two-factor is not on.")
    if not user.check_password(password or ""):
        audit.record("mfa.failed", f"user:{user.id}", {"during": "disable", "reason": "password"}, user)
        db.session.commit()
        raise MfaError("Wrong password or code.")
    if not verify(user, code, during="disable"):
        raise MfaError("Wrong password or code.")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record("mfa.disabled", f"user:{user.id}", {}, user)
    db.session.commit()
