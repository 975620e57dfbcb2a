"""Two-factor (TOTP) for everyone who wants it, mandatory for admins and staff when configured.

HTTP level against the real app and Postgres. Time is frozen through `services.mfa.clock` (the one
source of time the TOTP checks use), so codes are computed with pyotp's `at(for_time)` and no test
sleeps or depends on the wall clock's 30-second boundaries.
"""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("app")

T0 = 1_800_000_000.0  # a step boundary (divisible by 30): T0 + 29 is still the same step


@pytest.fixture
def frozen(monkeypatch):
    """A clock the test moves by hand."""
    from webapp.services import mfa as mfa_service

    now = {"t": T0}
    monkeypatch.setattr(mfa_service, "clock", lambda: now["t"])
    return now


def _audit(app, action: str) -> list:
    from webapp.extensions import db
    from webapp.models import AuditEvent

    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _user(app, uid: int):
    from webapp.extensions import db
    from webapp.models import User

    with app.app_context():
        user = db.session.get(User, uid)
        db.session.expunge(user)
        return user


def _enable(client, frozen) -> tuple[str, list[str]]:
    """Set two-factor up through the settings pages; returns (secret, recovery codes)."""
    assert client.post("/settings/two-factor/start").status_code == 302
    page = client.get("/settings/two-factor").get_data(as_text=True)
    secret = re.search(r"<code data-secret>([A-Z2-7]+)</code>", page).group(1)
    resp = client.post("/settings/two-factor/confirm", data={"code": pyotp.TOTP(secret).at(frozen["t"])})
    assert resp.status_code == 200, resp.data[:500]
    codes = re.findall(r"<li><code>([0-9a-f-]+)</code></li>", resp.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def _password_step(client, email: str):
    return client.post("/login", data={"email": email, "password": PASSWORD})


def test_setup_shows_qr_and_secret_and_needs_a_valid_code(app, client, login, frozen):
    uid, email = login()
    assert client.post("/settings/two-factor/start").status_code == 302
    resp = client.get("/settings/two-factor")
    page = resp.get_data(as_text=True)
    assert resp.headers["Cache-Control"] == "no-store"
    secret = re.search(r"<code data-secret>([A-Z2-7]+)</code>", page).group(1)
    assert "<svg" in page and 'class="segno"' in page  # inline SVG: no data: image for the CSP to refuse
    assert f"otpauth://totp/Marquee:{email.replace('@', '%40')}?secret={secret}" in page
    # The secret is stored encrypted, and is not in force yet.
    user = _user(app, uid)
    assert user.totp_secret and secret.encode() not in user.totp_secret and not user.mfa_enabled

    totp = pyotp.TOTP(secret)
    wrong = f"{(int(totp.at(T0)) + 1) % 1_000_000:06d}"
    resp = client.post("/settings/two-factor/confirm", data={"code": wrong})
    assert resp.status_code == 422 and "not right" in resp.get_data(as_text=True)
    assert not _user(app, uid).mfa_enabled
    # A code from two steps away (a minute off) is refused too: only one step of drift either side.
    assert client.post("/settings/two-factor/confirm", data={"code": totp.at(T0 + 60)}).status_code == 422
    assert not _user(app, uid).mfa_enabled

    resp = client.post("/settings/two-factor/confirm", data={"code": totp.at(T0)})
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([0-9a-f-]+)</code></li>", resp.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert _user(app, uid).mfa_enabled
    # Shown once: the page afterwards has no codes, only how many are left.
    page = client.get("/settings/two-factor").get_data(as_text=True)
    assert codes[0] not in page and "Recovery codes left: 10" in page
    assert [e.actor_id for e in _audit(app, "mfa.enabled")] == [uid]
    failed = _audit(app, "mfa.failed")
    assert len(failed) == 2 and all(e.ip and e.target == f"user:{uid}" for e in failed)
    assert not any(secret in str(e.detail) for e in failed)


def test_login_needs_the_second_step_and_refuses_wrong_and_replayed_codes(app, client, login, frozen):
    _uid, email = login()
    secret, _ = _enable(client, frozen)
    totp = pyotp.TOTP(secret)
    client.post("/logout")
    frozen["t"] = T0 + 30  # the setup spent step T0

    browser = app.test_client()
    resp = _password_step(browser, email)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login/verify")
    # Not logged in until the second step.
    assert browser.get("/settings").status_code == 302
    assert browser.get("/api/v1/jobs").status_code == 401

    wrong = f"{(int(totp.at(frozen['t'])) + 1) % 1_000_000:06d}"
    resp = browser.post("/login/verify", data={"code": wrong})
    assert resp.status_code == 422 and "not right" in resp.get_data(as_text=True)
    assert browser.get("/settings").status_code == 302
    assert any(e.detail.get("during") == "login" for e in _audit(app, "mfa.failed"))

    code = totp.at(frozen["t"])
    resp = browser.post("/login/verify", data={"code": code})
    assert resp.status_code == 302
    assert browser.get("/settings").status_code == 200

    # The same code again, still inside its 30 s window, from another browser: refused.
    frozen["t"] += 10
    other = app.test_client()
    _password_step(other, email)
    assert other.post("/login/verify", data={"code": code}).status_code == 422
    assert other.get("/settings").status_code == 302
    assert any(e.detail.get("reason") == "reused" for e in _audit(app, "mfa.failed"))
    # The next step's code works.
    frozen["t"] += 30
    assert other.post("/login/verify", data={"code": totp.at(frozen["t"])}).status_code == 302
    assert other.get("/settings").status_code == 200


def test_too_many_wrong_codes_void_the_password_step(app, client, login, frozen):
    _uid, email = login()
    secret, _ = _enable(client, frozen)
    frozen["t"] = T0 + 30
    browser = app.test_client()
    _password_step(browser, email)
    for _ in range(5):
        assert browser.post("/login/verify", data={"code": "000000"}).status_code == 422
    # Even the right code is not taken now: the password has to be entered again.
    resp = browser.post("/login/verify", data={"code": pyotp.TOTP(secret).at(frozen["t"])})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    assert browser.get("/settings").status_code == 302
    # The rightful owner, starting over, is not locked out.
    _password_step(browser, email)
    assert browser.post("/login/verify", data={"code": pyotp.TOTP(secret).at(frozen["t"])}).status_code == 302
    assert browser.get("/settings").status_code == 200


def test_a_recovery_code_works_once(app, client, login, frozen):
    uid, email = login()
    _, codes = _enable(client, frozen)
    client.post("/logout")

    browser = app.test_client()
    _password_step(browser, email)
    assert browser.post("/login/verify", data={"code": codes[3].upper()}).status_code == 302
    assert browser.get("/settings").status_code == 200
    used = _audit(app, "mfa.recovery_code_used")
    assert [e.actor_id for e in used] == [uid] and used[0].detail == {"remaining": 9}
    browser.post("/logout")

    _password_step(browser, email)
    assert browser.post("/login/verify", data={"code": codes[3]}).status_code == 422
    assert browser.get("/settings").status_code == 302
    assert browser.post("/login/verify", data={"code": codes[4]}).status_code == 302


def test_a_session_from_before_two_factor_is_sent_to_the_second_step(app, client, login, frozen):
    _uid, email = login()
    older = app.test_client()
    assert _password_step(older, email).status_code == 302
    assert older.get("/settings").status_code == 200
    secret, _ = _enable(client, frozen)
    # The session that turned it on stays in; the other one must give the second factor.
    assert client.get("/settings").status_code == 200
    resp = older.get("/settings")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login/verify")
    assert older.get("/settings").status_code == 302
    frozen["t"] = T0 + 30
    resp = older.post("/login/verify", data={"code": pyotp.TOTP(secret).at(frozen["t"])})
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/settings")
    assert older.get("/settings").status_code == 200


def test_turning_two_factor_off_needs_password_and_code(app, client, login, frozen):
    uid, email = login()
    secret, _ = _enable(client, frozen)
    frozen["t"] = T0 + 30
    code = pyotp.TOTP(secret).at(frozen["t"])
    resp = client.post("/settings/two-factor/disable", data={"password": "wrong password!", "code": code})
    assert resp.status_code == 422 and _user(app, uid).mfa_enabled
    resp = client.post("/settings/two-factor/disable", data={"password": PASSWORD, "code": "123456"})
    assert resp.status_code == 422 and _user(app, uid).mfa_enabled
    resp = client.post("/settings/two-factor/disable", data={"password": PASSWORD, "code": code})
    assert resp.status_code == 302
    user = _user(app, uid)
    assert not user.mfa_enabled and user.totp_secret is None
    assert [e.actor_id for e in _audit(app, "mfa.disabled")] == [uid]
    client.post("/logout")
    assert _password_step(client, email).headers["Location"] != "/login/verify"
    assert client.get("/settings").status_code == 200


def _admin_token(app, uid: int) -> str:
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import tokens

    with app.app_context():
        _, plaintext = tokens.create(db.session.get(User, uid), "ops", "admin")
        return plaintext


def test_require_admin_mfa_forces_setup_and_refuses_admin_tokens(app, client, login, frozen, monkeypatch):
    monkeypatch.setitem(app.config, "MARQUEE_REQUIRE_ADMIN_MFA", True)
    uid, _ = login(role="admin")
    old_token = _admin_token(app, uid)
    bearer = {"Authorization": f"Bearer {old_token}"}

    for path in ("/admin/users", "/admin/approvals", "/admin/audit"):
        resp = client.get(path)
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/settings/two-factor"), path
    assert "Your role needs two-factor" in client.get("/settings/two-factor").get_data(as_text=True)
    for path in ("/api/v1/admin/ai-models", "/api/v1/jobs"):
        resp = client.get(path, headers=bearer)
        assert resp.status_code == 403 and resp.mimetype == "application/problem+json", path
        assert resp.json["type"].endswith("/mfa-required") and "two-factor" in resp.json["detail"]
    # A browser session's admin API calls too.
    resp = client.get("/api/v1/admin/ai-models")
    assert resp.status_code == 403 and resp.json["type"].endswith("/mfa-required")

    _enable(client, frozen)
    assert client.get("/admin/users").status_code == 200
    assert client.get("/api/v1/admin/ai-models").status_code == 200
    # The token made before two-factor was on stays refused; a new one works.
    resp = client.get("/api/v1/admin/ai-models", headers=bearer)
    assert resp.status_code == 403 and "/settings/tokens" in resp.json["detail"]
    new = {"Authorization": f"Bearer {_admin_token(app, uid)}"}
    assert client.get("/api/v1/admin/ai-models", headers=new).status_code == 200


def test_require_admin_mfa_covers_staff_but_not_producers(app, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "MARQUEE_REQUIRE_ADMIN_MFA", True)
    login(role="staff")
    resp = client.get("/admin/approvals")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/settings/two-factor")
    producer = app.test_client()
    login(role="producer", the_client=producer)
    assert producer.get("/admin/approvals").status_code == 404
    assert producer.get("/settings").status_code == 200


def test_without_the_setting_admins_without_two_factor_are_not_stopped(app, client, login):
    uid, _ = login(role="admin")
    assert client.get("/admin/users").status_code == 200
    bearer = {"Authorization": f"Bearer {_admin_token(app, uid)}"}
    assert client.get("/api/v1/admin/ai-models", headers=bearer).status_code == 200
