"""Accounts: register, log in, throttling, CSRF, roles, create-admin."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, make_config

pytestmark = pytest.mark.usefixtures("app")


def test_register_then_log_in_and_land_on_upload(client):
    resp = client.post(
        "/register",
        data={"display_name": "Ana", "email": "Ana@Example.com", "password": PASSWORD, "confirm": PASSWORD},
    )
    # The same answer whether or not the e-mail had an account (test_sec_throttle), so no auto-login.
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    resp = client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/autoformat")
    page = client.get("/autoformat").get_data(as_text=True)
    assert "Ana" in page and "Drop your artwork here" in page


def test_register_refuses_weak_password_and_bad_email(client):
    resp = client.post(
        "/register", data={"email": "new@example.com", "password": "short", "confirm": "short"}
    )
    assert resp.status_code == 422 and "between 12 and 256 characters" in resp.get_data(as_text=True)
    resp = client.post("/register", data={"email": "not-an-email", "password": PASSWORD, "confirm": PASSWORD})
    assert "valid e-mail" in resp.get_data(as_text=True)


def test_password_is_hashed_not_stored(app, make_user):
    from webapp.extensions import db
    from webapp.models import User

    uid, _ = make_user()
    with app.app_context():
        user = db.session.get(User, uid)
        assert PASSWORD not in user.password_hash and user.password_hash.startswith("scrypt:")


def test_wrong_password_then_throttled_on_this_client_only(client, make_user, app):
    _, email = make_user()
    for _ in range(5):
        resp = client.post("/login", data={"email": email, "password": "wrong password!"})
        assert resp.status_code == 422 and "Wrong e-mail or password" in resp.get_data(as_text=True)
    resp = client.post("/login", data={"email": email, "password": PASSWORD})
    assert resp.status_code == 429 and "Try again in" in resp.get_data(as_text=True)
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.14"
    assert other.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302


def test_unknown_email_gets_the_same_message(client):
    resp = client.post("/login", data={"email": "nobody@example.com", "password": PASSWORD})
    assert "Wrong e-mail or password" in resp.get_data(as_text=True)


def test_login_next_only_follows_local_paths(client, make_user):
    _, email = make_user()
    resp = client.post("/login?next=https://evil.example/x", data={"email": email, "password": PASSWORD})
    assert resp.headers["Location"].endswith("/autoformat")
    client.post("/logout")
    resp = client.post("/login?next=/library", data={"email": email, "password": PASSWORD})
    assert resp.headers["Location"].endswith("/library")


def test_logout_is_post_only(client, login):
    login()
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/library").status_code == 302


def test_csrf_is_enforced_on_forms(pg_url, media_root, queue_prefix, make_user):
    from webapp import create_app

    strict = create_app(make_config(pg_url, media_root, queue_prefix, WTF_CSRF_ENABLED=True))
    c = strict.test_client()
    _, email = make_user()
    resp = c.post("/login", data={"email": email, "password": PASSWORD})
    assert resp.status_code == 400  # refused without its token, with a page that says what to do
    assert "Reload and try again" in resp.get_data(as_text=True)
    page = c.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    resp = c.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302
    # Logging in starts a fresh session: the anonymous token no longer passes, the new one does.
    assert c.post("/jobs/1/cancel", headers={"X-CSRFToken": token}).status_code == 400
    page = c.get("/settings/tokens").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    # HTMX requests carry the token in a header
    assert c.post("/jobs/1/cancel").status_code == 400
    assert c.post("/jobs/1/cancel", headers={"X-CSRFToken": token}).status_code == 404


def test_security_headers_are_set(client):
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_create_admin_cli_reads_password_from_stdin(app):
    from webapp.extensions import db
    from webapp.models import User

    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "boss@example.com"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "boss@example.com"))
        assert user.role == "admin" and user.check_password(PASSWORD)
    result = runner.invoke(args=["create-admin", "weak@example.com"], input="short\n")
    assert result.exit_code != 0 and "at least" in result.output


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}
