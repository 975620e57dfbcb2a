"""Sessions you can end (issue 14): logout, sign-out-everywhere, idle and absolute timeouts, a
fresh session at login, and a new API token that never travels in the session cookie.

Everything goes through the real app over HTTP; "a copied cookie" is the cookie value taken from
one test client and set on another, exactly what someone who stole it would do.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, make_config

pytestmark = pytest.mark.usefixtures("app")

SESSION = "session"
REMEMBER = "remember_token"


def _cookie(client, name: str) -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def _with_cookie(app, name: str, value: str):
    """A fresh client (another browser) carrying only a copy of one cookie."""
    other = app.test_client()
    other.set_cookie(name, value)
    return other


def _refused(resp) -> bool:
    return resp.status_code == 302 and "/login" in resp.headers["Location"]


def _log_in(client, email: str, remember: bool = False):
    data = {"email": email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    resp = client.post("/login", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return resp


def _events(app, action: str):
    from webapp.extensions import db
    from webapp.models import AuditEvent

    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_copied_session_cookie_is_refused_after_logout(app, client, make_user):
    uid, email = make_user()
    _log_in(client, email)
    copy = _with_cookie(app, SESSION, _cookie(client, SESSION))
    assert copy.get("/library").status_code == 200  # the copy works while the session lives
    assert client.post("/logout").status_code == 302
    assert _refused(client.get("/library"))
    assert _refused(copy.get("/library"))
    assert _refused(_with_cookie(app, SESSION, _cookie(copy, SESSION)).get("/settings"))
    events = _events(app, "auth.logout")
    assert [(e.actor_id, e.target) for e in events] == [(uid, f"user:{uid}")]
    assert events[0].ip
    # Logging in again works, on a new session.
    _log_in(client, email)
    assert client.get("/library").status_code == 200


def test_copied_remember_me_cookie_is_refused_after_logout(app, client, make_user):
    _, email = make_user()
    _log_in(client, email, remember=True)
    remember = _cookie(client, REMEMBER)
    # The remember-me cookie alone logs another browser in...
    assert _with_cookie(app, REMEMBER, remember).get("/library").status_code == 200
    client.post("/logout")
    # ...until the owner logs out anywhere.
    assert _refused(_with_cookie(app, REMEMBER, remember).get("/library"))


def test_remember_me_cookie_lasts_fourteen_days_not_a_year(client, make_user):
    _, email = make_user()
    resp = _log_in(client, email, remember=True)
    header = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith(REMEMBER + "="))
    expires = parsedate_to_datetime(header.split("Expires=")[1].split(";")[0])
    days = (expires - datetime.now(UTC)).total_seconds() / 86400
    assert 13.9 < days <= 14.01 and "HttpOnly" in header


def test_admin_signs_another_account_out_everywhere(app, client, make_user):
    uid, email = make_user()
    admin_id, admin_email = make_user(role="admin")
    producer = app.test_client()
    _log_in(producer, email, remember=True)
    remember = _cookie(producer, REMEMBER)
    assert producer.get("/library").status_code == 200

    # Nobody else may do it: another producer is answered 404 and nothing ends.
    _, other_email = make_user()
    other = app.test_client()
    _log_in(other, other_email)
    assert other.post(f"/admin/users/{uid}/sign-out").status_code == 404
    assert _refused(app.test_client().post(f"/admin/users/{uid}/sign-out"))
    assert producer.get("/library").status_code == 200

    _log_in(client, admin_email)
    page = client.get("/admin/users").get_data(as_text=True)
    assert f'action="/admin/users/{uid}/sign-out"' in page and "Sign out everywhere" in page
    resp = client.post(f"/admin/users/{uid}/sign-out")
    assert resp.status_code == 302
    assert _refused(producer.get("/library"))
    assert _refused(_with_cookie(app, REMEMBER, remember).get("/library"))
    assert client.get("/admin/users").status_code == 200  # the admin's own session goes on
    events = _events(app, "auth.sign_out_everywhere")
    assert [(e.actor_id, e.target) for e in events] == [(admin_id, f"user:{uid}")]
    assert events[0].ip and email == events[0].detail["email"]


def test_admin_signing_themselves_out_everywhere_keeps_this_browser(app, client, make_user):
    admin_id, admin_email = make_user(role="admin")
    laptop = app.test_client()
    _log_in(laptop, admin_email)
    _log_in(client, admin_email)
    assert client.post(f"/admin/users/{admin_id}/sign-out").status_code == 302
    assert client.get("/admin/users").status_code == 200
    assert _refused(laptop.get("/library"))


def test_idle_timeout_and_absolute_lifetime(app, client, make_user, monkeypatch):
    from webapp.services import sessions

    now = [1_900_000_000.0]
    monkeypatch.setattr(sessions, "clock", lambda: now[0])
    _, email = make_user()
    _log_in(client, email, remember=True)
    now[0] += 119 * 60
    assert client.get("/library").status_code == 200  # within the idle window, and seen again
    now[0] += 119 * 60
    assert client.get("/library").status_code == 200  # idle time counts from the last request
    now[0] += 121 * 60
    resp = client.get("/library")
    assert _refused(resp)
    # The remember-me cookie went with it, or it would log the idle browser straight back in.
    assert client.get_cookie(REMEMBER) is None
    assert _refused(client.get("/library"))
    assert "after a period of inactivity" in client.get("/login").get_data(as_text=True)

    # Absolute lifetime: active every hour, still refused once SESSION_MAX_HOURS have passed.
    monkeypatch.setitem(app.config, "SESSION_MAX_HOURS", 5)
    _log_in(client, email)
    for _ in range(4):
        now[0] += 3600
        assert client.get("/library").status_code == 200
    now[0] += 3601
    assert _refused(client.get("/library"))
    assert "maximum length" in client.get("/login").get_data(as_text=True)


def test_login_starts_a_fresh_session_with_a_new_csrf_secret(pg_url, media_root, queue_prefix, make_user):
    from webapp import create_app

    strict = create_app(make_config(pg_url, media_root, queue_prefix, WTF_CSRF_ENABLED=True))
    serializer = strict.session_interface.get_signing_serializer(strict)
    c = strict.test_client()
    _, email = make_user()
    page = c.get("/login").get_data(as_text=True)
    before = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    anon_secret = serializer.loads(_cookie(c, SESSION))["csrf_token"]
    c.set_cookie(SESSION, serializer.dumps({"csrf_token": anon_secret, "planted": "by an attacker"}))
    assert (
        c.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": before}).status_code == 302
    )
    data = serializer.loads(_cookie(c, SESSION))
    assert "planted" not in data and data.get("csrf_token") != anon_secret
    # The token issued before login no longer passes; the one the logged-in pages carry does.
    assert c.post("/jobs/1/cancel", headers={"X-CSRFToken": before}).status_code == 400
    page = c.get("/settings/tokens").get_data(as_text=True)
    after = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert after != before
    assert serializer.loads(_cookie(c, SESSION))["csrf_token"] not in (None, anon_secret)
    assert c.post("/jobs/1/cancel", headers={"X-CSRFToken": after}).status_code == 404


def test_login_success_is_audited(app, client, make_user):
    uid, email = make_user()
    _log_in(client, email)
    events = _events(app, "auth.login")
    assert [(e.actor_id, e.target) for e in events] == [(uid, f"user:{uid}")]
    assert events[0].ip and events[0].detail == {}


def test_new_token_is_shown_once_and_never_in_the_session_cookie(app, client, login):
    login()
    resp = client.post("/settings/tokens", data={"name": "ticketing", "scope": "read"})
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    body = resp.get_data(as_text=True)
    plaintext = body.split("data-new-token>")[1].split("<")[0]
    assert plaintext.startswith("mq_") and len(plaintext) > 30
    # It works as a bearer token...
    assert (
        app.test_client().get("/api/v1/shows", headers={"Authorization": f"Bearer {plaintext}"}).status_code
        == 200
    )
    # ...and is nowhere in what the browser stores.
    for header in resp.headers.getlist("Set-Cookie"):
        assert plaintext not in header
    serializer = app.session_interface.get_signing_serializer(app)
    assert plaintext not in repr(serializer.loads(_cookie(client, SESSION)))
    # Shown once: the next visit lists it by prefix only.
    again = client.get("/settings/tokens").get_data(as_text=True)
    assert plaintext not in again and "ticketing" in again
