"""The admin users page: roles and the per-producer media-assistant switch."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("app")


def _user(app, uid):
    from webapp.extensions import db
    from webapp.models import User

    with app.app_context():
        user = db.session.get(User, uid)
        db.session.expunge(user)
        return user


def test_admin_lists_accounts_with_role_flag_and_counts(client, login, make_user):
    login(role="admin")
    make_user("producer@example.com")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "producer@example.com" in page and "Switch off" in page
    assert "producer@example.com" in client.get("/admin/users?q=PRODUCER").get_data(as_text=True)
    assert "producer@example.com" not in client.get("/admin/users?q=nobody").get_data(as_text=True)


def test_admin_switches_media_assistant_off_and_on(app, client, login, make_user):
    login(role="admin")
    uid, email = make_user()
    client.post(f"/admin/users/{uid}", data={"media_assistant": "off"})
    assert _user(app, uid).media_assistant_enabled is False
    producer = app.test_client()
    from tests.conftest import PASSWORD

    producer.post("/login", data={"email": email, "password": PASSWORD})
    assert producer.get("/autoformat").status_code == 403
    client.post(f"/admin/users/{uid}", data={"media_assistant": "on"})
    assert _user(app, uid).media_assistant_enabled is True
    assert producer.get("/autoformat").status_code == 200


def test_admin_changes_roles_but_not_their_own_admin(app, client, login, make_user):
    admin_id, _ = login(role="admin")
    uid, _ = make_user()
    client.post(f"/admin/users/{uid}", data={"role": "staff"})
    assert _user(app, uid).role == "staff"
    client.post(f"/admin/users/{uid}", data={"role": "emperor"})
    assert _user(app, uid).role == "staff"
    resp = client.post(f"/admin/users/{admin_id}", data={"role": "producer"}, follow_redirects=True)
    assert "cannot remove your own admin role" in resp.get_data(as_text=True)
    assert _user(app, admin_id).role == "admin"


@pytest.mark.parametrize("role", ["producer", "staff"])
def test_non_admins_get_404_on_admin_pages(app, client, login, make_user, role):
    login(role=role)
    uid, _ = make_user()
    assert client.get("/admin/users").status_code == 404
    assert client.post(f"/admin/users/{uid}", data={"role": "admin"}).status_code == 404
    assert _user(app, uid).role == "producer"


def test_anonymous_is_sent_to_login_from_admin(app):
    assert "/login" in app.test_client().get("/admin/users").headers["Location"]
