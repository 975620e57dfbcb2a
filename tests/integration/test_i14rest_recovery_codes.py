"""Regenerating two-factor recovery codes (issue 14): proof first, all old codes void at once, the
new ones shown once in the response (never the session cookie), audited. HTTP level, frozen clock."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("app")

T0 = 1_800_000_000.0


@pytest.fixture
def frozen(monkeypatch):
    from webapp.services import mfa as mfa_service

    now = {"t": T0}
    monkeypatch.setattr(mfa_service, "clock", lambda: now["t"])
    return now


def _codes(resp) -> list[str]:
    return re.findall(r"<li><code>([0-9a-f-]+)</code></li>", resp.get_data(as_text=True))


def _enable(client, frozen) -> tuple[str, list[str]]:
    assert client.post("/settings/two-factor/start").status_code == 302
    page = client.get("/settings/two-factor").get_data(as_text=True)
    secret = re.search(r"<code data-secret>([A-Z2-7]+)</code>", page).group(1)
    resp = client.post("/settings/two-factor/confirm", data={"code": pyotp.TOTP(secret).at(frozen["t"])})
    assert resp.status_code == 200
    codes = _codes(resp)
    assert len(codes) == 10
    return secret, codes


def _audit(app, action: str) -> list:
    from webapp.extensions import db
    from webapp.models import AuditEvent

    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _second_step(app, email: str, code: str) -> int:
    browser = app.test_client()
    assert browser.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return browser.post("/login/verify", data={"code": code}).status_code


def test_regenerating_voids_every_old_code_and_shows_new_ones_once(app, client, login, frozen):
    uid, email = login()
    secret, old = _enable(client, frozen)
    page = client.get("/settings/two-factor").get_data(as_text=True)
    assert "Regenerate recovery codes" in page

    # Proof is required: a wrong password and a wrong code are refused, and nothing changes.
    resp = client.post("/settings/two-factor/recovery-codes", data={"proof": "not my password at all"})
    assert resp.status_code == 422 and not _codes(resp)
    assert client.post("/settings/two-factor/recovery-codes", data={"proof": "000000"}).status_code == 422
    # A recovery code is not proof: it is what is being replaced.
    assert client.post("/settings/two-factor/recovery-codes", data={"proof": old[0]}).status_code == 422
    assert [e.detail["during"] for e in _audit(app, "mfa.failed")] == ["regenerate"] * 3

    resp = client.post("/settings/two-factor/recovery-codes", data={"proof": PASSWORD})
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    new = _codes(resp)
    assert len(new) == 10 and not set(new) & set(old)
    # Not in the session cookie (signed, readable), not on the next page view.
    cookie = client.get_cookie("session")
    assert cookie is None or not any(c in cookie.value for c in new)
    later = client.get("/settings/two-factor").get_data(as_text=True)
    assert new[0] not in later and "Recovery codes left: 10" in later
    events = _audit(app, "mfa.recovery_codes_regenerated")
    assert [(e.actor_id, e.target) for e in events] == [(uid, f"user:{uid}")]
    assert not any(c in str(e.detail) for e in events for c in new)

    # Every old code is refused at login (not only the used ones), a new one works once.
    frozen["t"] = T0 + 30
    assert _second_step(app, email, old[5]) == 422
    assert _second_step(app, email, new[2]) == 302
    assert _second_step(app, email, new[2]) == 422

    # A current TOTP code is proof too (and is spent: the same code cannot regenerate twice).
    frozen["t"] = T0 + 60
    code = pyotp.TOTP(secret).at(frozen["t"])
    resp = client.post("/settings/two-factor/recovery-codes", data={"proof": code})
    assert resp.status_code == 200
    newer = _codes(resp)
    assert len(newer) == 10
    assert client.post("/settings/two-factor/recovery-codes", data={"proof": code}).status_code == 422
    assert _second_step(app, email, new[3]) == 422
    assert _second_step(app, email, newer[0]) == 302


def test_regenerating_needs_two_factor_on(client, login):
    login()
    resp = client.post("/settings/two-factor/recovery-codes", data={"proof": PASSWORD})
    assert resp.status_code == 302
    assert "Two-factor is not on" in client.get(resp.headers["Location"]).get_data(as_text=True)
