"""Optional API-token expiry (issue 14): producers choose never / 7 / 30 / 90 days or a date; admin
scope always expires (TOKEN_ADMIN_DAYS, capped); an expired token gets a 401 problem+json saying
when it expired; the list shows expiry and state; creation is audited with the expiry.

HTTP level against the real app and Postgres. "Later" is made by moving a token's expiry into the
past in the database, not by sleeping or patching the code under test."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("app")


def _rows(app, uid: int) -> list:
    from webapp.extensions import db
    from webapp.models import ApiToken

    with app.app_context():
        rows = list(
            db.session.scalars(select(ApiToken).where(ApiToken.owner_id == uid).order_by(ApiToken.id))
        )
        for r in rows:
            db.session.expunge(r)
        return rows


def _age(app, token_id: int, expires_at: datetime) -> None:
    from webapp.extensions import db
    from webapp.models import ApiToken

    with app.app_context():
        db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(expires_at=expires_at))
        db.session.commit()


def _audit(app, action: str) -> list:
    from webapp.extensions import db
    from webapp.models import AuditEvent

    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _new_token(resp) -> str:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:800]
    return re.search(r"data-new-token>(mq_[^<]+)<", resp.get_data(as_text=True)).group(1)


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_producer_token_with_an_expiry_stops_with_a_clear_401(app, client, login):
    uid, _ = login()
    before = datetime.now(UTC)
    token = _new_token(
        client.post("/settings/tokens", data={"name": "portal", "scope": "read", "expiry": "7"})
    )
    (row,) = _rows(app, uid)
    assert before + timedelta(days=7) <= row.expires_at <= datetime.now(UTC) + timedelta(days=7)
    created = _audit(app, "api_token.create")
    assert created[-1].detail["expires_at"] == row.expires_at.isoformat(timespec="seconds")
    page = client.get("/settings/tokens").get_data(as_text=True)
    assert f"{row.expires_at:%Y-%m-%d %H:%M} UTC" in page and "Expired" not in page

    api = app.test_client()
    assert api.get("/api/v1/shows", headers=_bearer(token)).status_code == 200
    used = _rows(app, uid)[0].last_used_at
    assert used is not None

    past = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    _age(app, row.id, past)
    resp = api.get("/api/v1/shows", headers=_bearer(token))
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    assert resp.json["title"] == "Token expired"
    assert "expired on 2026-01-02 03:04 UTC" in resp.json["detail"]
    assert "/settings/tokens" in resp.json["detail"]
    assert resp.json["type"].endswith("/token-expired")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    # An expired token does not count as a use.
    assert _rows(app, uid)[0].last_used_at == used
    page = client.get("/settings/tokens").get_data(as_text=True)
    assert "Expired" in page and "2026-01-02 03:04 UTC" in page

    # An unknown token still gets the one generic answer: nothing about expiry, nothing to probe.
    resp = api.get("/api/v1/shows", headers=_bearer("mq_" + "x" * 43))
    assert resp.status_code == 401 and resp.json["title"] == "Invalid token"
    assert "expire" not in resp.json["detail"]


def test_never_a_date_and_bad_choices_for_producers(app, client, login):
    uid, _ = login()
    # No expiry chosen (the form's default) and "never" both mean never, for read/write tokens.
    _new_token(client.post("/settings/tokens", data={"name": "a", "scope": "write"}))
    _new_token(client.post("/settings/tokens", data={"name": "b", "scope": "read", "expiry": "never"}))
    day = (datetime.now(UTC) + timedelta(days=200)).date()
    _new_token(
        client.post(
            "/settings/tokens",
            data={"name": "c", "scope": "read", "expiry": "date", "expiry_date": day.isoformat()},
        )
    )
    a, b, c = _rows(app, uid)
    assert a.expires_at is None and b.expires_at is None
    # A date means "through that day" (UTC).
    assert c.expires_at == datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    assert "never" in client.get("/settings/tokens").get_data(as_text=True)

    resp = client.post(
        "/settings/tokens", data={"name": "d", "scope": "read", "expiry": "date", "expiry_date": "2020-01-01"}
    )
    assert resp.status_code == 422 and "in the past" in resp.get_data(as_text=True)
    resp = client.post("/settings/tokens", data={"name": "e", "scope": "read", "expiry": "date"})
    assert resp.status_code == 422 and "Pick the date" in resp.get_data(as_text=True)
    assert len(_rows(app, uid)) == 3  # nothing half-made


def test_admin_tokens_always_expire(app, client, login):
    uid, _ = login(role="admin")
    page = client.get("/settings/tokens").get_data(as_text=True)
    assert "Admin-scope tokens always expire" in page
    resp = client.post("/settings/tokens", data={"name": "ops", "scope": "admin", "expiry": "never"})
    assert resp.status_code == 422 and "Admin tokens always expire" in resp.get_data(as_text=True)
    far = (datetime.now(UTC) + timedelta(days=120)).date().isoformat()
    resp = client.post(
        "/settings/tokens", data={"name": "ops", "scope": "admin", "expiry": "date", "expiry_date": far}
    )
    assert resp.status_code == 422 and "at most 90 days" in resp.get_data(as_text=True)
    assert _rows(app, uid) == []

    # The admin form's default: admin scope gets TOKEN_ADMIN_DAYS (30), other scopes never.
    before = datetime.now(UTC)
    _new_token(client.post("/settings/tokens", data={"name": "ops", "scope": "admin", "expiry": "default"}))
    _new_token(client.post("/settings/tokens", data={"name": "ro", "scope": "read", "expiry": "default"}))
    _new_token(client.post("/settings/tokens", data={"name": "ops90", "scope": "admin", "expiry": "90"}))
    ops, ro, ops90 = _rows(app, uid)
    assert before + timedelta(days=30) <= ops.expires_at <= datetime.now(UTC) + timedelta(days=30)
    assert ro.expires_at is None
    assert ops90.expires_at - ops90.created_at >= timedelta(days=90) - timedelta(seconds=5)


def test_the_cli_and_the_setting(app, make_user, pg_url, media_root, queue_prefix):
    from tests.conftest import make_config
    from webapp import create_app
    from webapp.config import ConfigError, load_settings

    uid, email = make_user(role="admin")
    runner = app.test_cli_runner()
    out = runner.invoke(args=["token", "create", email, "--scope", "admin", "--expires", "never"])
    assert out.exit_code != 0 and "Admin tokens always expire" in out.output
    out = runner.invoke(args=["token", "create", email, "--scope", "write", "--expires", "soon"])
    assert out.exit_code != 0 and "YYYY-MM-DD" in out.output
    out = runner.invoke(args=["token", "create", email, "--scope", "admin"])
    assert out.exit_code == 0 and "expires " in out.output
    assert len(_rows(app, uid)) == 1

    # TOKEN_ADMIN_DAYS sets the default; it cannot exceed the cap or be 0 ("never").
    with pytest.raises(ConfigError, match="TOKEN_ADMIN_DAYS"):
        load_settings({"TOKEN_ADMIN_DAYS": "0", "SECRET_KEY": "x"})
    with pytest.raises(ConfigError, match="TOKEN_ADMIN_DAYS"):
        load_settings({"TOKEN_ADMIN_DAYS": "365", "SECRET_KEY": "x"})
    assert load_settings({"TOKEN_ADMIN_DAYS": "7", "SECRET_KEY": "x"}).token_admin_days == 7
    week = create_app(make_config(pg_url, media_root, queue_prefix, TOKEN_ADMIN_DAYS=7))
    c = week.test_client()
    assert c.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    before = datetime.now(UTC)
    _new_token(c.post("/settings/tokens", data={"name": "wk", "scope": "admin"}))
    newest = _rows(app, uid)[-1]
    assert before + timedelta(days=7) <= newest.expires_at <= datetime.now(UTC) + timedelta(days=7)
