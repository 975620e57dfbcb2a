"""Producers' own keys at /settings/keys and their usage at /settings, with the real SDKs and fake servers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.conftest import PASSWORD
from tests.fakes import FakeGemini, FakeOpenAI

pytestmark = pytest.mark.usefixtures("app")

OPENAI_KEY = "sk-producer-own-key-9f3a"
GEMINI_KEY = "AIza-producer-own-key-77ab"


@pytest.fixture
def openai_fake(app, monkeypatch):
    with FakeOpenAI(valid_key=OPENAI_KEY) as fake:
        monkeypatch.setitem(app.config, "OPENAI_BASE_URL", fake.url)
        yield fake


@pytest.fixture
def gemini_fake(app, monkeypatch):
    with FakeGemini(valid_key=GEMINI_KEY) as fake:
        monkeypatch.setitem(app.config, "GEMINI_BASE_URL", fake.url)
        yield fake


def _keys(app, uid):
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import UserKey

    with app.app_context():
        rows = list(db.session.scalars(select(UserKey).where(UserKey.owner_id == uid)))
        for r in rows:
            db.session.expunge(r)
        return {r.provider: r for r in rows}


def _actions(app):
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import AuditEvent

    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_add_openai_key_is_validated_then_saved_in_the_user_vault(app, client, login, openai_fake):
    uid, _ = login()
    resp = client.post(
        "/settings/keys", data={"provider": "openai", "api_key": OPENAI_KEY}, follow_redirects=True
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "…9f3a" in page and OPENAI_KEY not in page and "Working" in page
    assert openai_fake.requests_to("/v1/models")
    row = _keys(app, uid)["openai"]
    assert row.use_own is True and row.allow_fallback is False and row.last_validation_ok is True
    with app.app_context():
        from webapp.crypto import VaultError, platform_vault, user_vault

        assert user_vault().decrypt(row.encrypted_key) == OPENAI_KEY
        with pytest.raises(VaultError):
            platform_vault().decrypt(row.encrypted_key)
    assert _actions(app)[-1] == "user_key.add"


def test_refused_key_shows_the_providers_reason_and_saves_nothing(app, client, login, openai_fake):
    uid, _ = login()
    resp = client.post("/settings/keys", data={"provider": "openai", "api_key": "sk-not-my-key-1111"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "OpenAI refused the key" in page and "Nothing was saved" in page
    assert "sk-not-my-key-1111" not in page
    assert _keys(app, uid) == {}
    assert _actions(app)[-1] == "user_key.add.refused"


def test_malformed_key_and_unknown_provider_are_refused(app, client, login):
    uid, _ = login()
    assert client.post("/settings/keys", data={"provider": "openai", "api_key": "short"}).status_code == 422
    resp = client.post("/settings/keys", data={"provider": "local", "api_key": "whatever-long-enough"})
    assert resp.status_code == 422 and "Not a valid choice" in resp.get_data(as_text=True)
    assert _keys(app, uid) == {}


def test_add_gemini_key_and_see_both_cards(app, client, login, gemini_fake):
    uid, _ = login()
    resp = client.post(
        "/settings/keys", data={"provider": "gemini", "api_key": GEMINI_KEY}, follow_redirects=True
    )
    page = resp.get_data(as_text=True)
    assert "…77ab" in page and GEMINI_KEY not in page
    assert "OpenAI" in page and "No key." in page
    assert set(_keys(app, uid)) == {"gemini"}


def test_test_key_records_ok_then_failure_with_message(app, client, login, openai_fake):
    uid, _ = login()
    client.post("/settings/keys", data={"provider": "openai", "api_key": OPENAI_KEY})
    key_id = _keys(app, uid)["openai"].id
    resp = client.post(f"/settings/keys/{key_id}/test", follow_redirects=True)
    assert "Key accepted." in resp.get_data(as_text=True)
    openai_fake.valid_key = "sk-revoked-elsewhere"
    partial = client.post(f"/settings/keys/{key_id}/test", headers={"HX-Request": "true"})
    body = partial.get_data(as_text=True)
    assert partial.status_code == 200 and "<html" not in body and 'id="key-openai"' in body
    assert "Failed" in body and "refused the key" in body
    row = _keys(app, uid)["openai"]
    assert row.last_validation_ok is False and "refused" in row.last_validation_message


def test_use_own_and_fallback_preferences(app, client, login, openai_fake):
    uid, _ = login()
    client.post("/settings/keys", data={"provider": "openai", "api_key": OPENAI_KEY})
    key_id = _keys(app, uid)["openai"].id
    client.post(f"/settings/keys/{key_id}/preferences", data={"pref-openai-allow_fallback": "y"})
    row = _keys(app, uid)["openai"]
    assert (row.use_own, row.allow_fallback) == (False, True)
    client.post(f"/settings/keys/{key_id}/preferences", data={"pref-openai-use_own": "y"})
    row = _keys(app, uid)["openai"]
    assert (row.use_own, row.allow_fallback) == (True, False)
    assert _actions(app).count("user_key.preference") == 2


def test_delete_asks_first_then_removes_the_key(app, client, login, openai_fake):
    uid, _ = login()
    client.post("/settings/keys", data={"provider": "openai", "api_key": OPENAI_KEY})
    key_id = _keys(app, uid)["openai"].id
    confirm = client.get(f"/settings/keys/{key_id}/delete")
    assert confirm.status_code == 200 and "Delete your OpenAI key?" in confirm.get_data(as_text=True)
    assert _keys(app, uid)  # a GET changes nothing
    resp = client.post(f"/settings/keys/{key_id}/delete", follow_redirects=True)
    assert "was deleted" in resp.get_data(as_text=True)
    assert _keys(app, uid) == {}
    assert _actions(app)[-1] == "user_key.delete"


@pytest.mark.parametrize("role", ["producer", "staff", "admin"])
def test_nobody_sees_or_touches_another_accounts_key(app, client, login, make_user, openai_fake, role):
    owner_client = app.test_client()
    owner_id, owner_email = make_user()
    owner_client.post("/login", data={"email": owner_email, "password": PASSWORD})
    owner_client.post("/settings/keys", data={"provider": "openai", "api_key": OPENAI_KEY})
    key_id = _keys(app, owner_id)["openai"].id

    login(role=role)
    page = client.get("/settings/keys").get_data(as_text=True)
    assert "…9f3a" not in page
    assert client.get(f"/settings/keys/{key_id}/delete").status_code == 404
    assert client.post(f"/settings/keys/{key_id}/delete").status_code == 404
    assert client.post(f"/settings/keys/{key_id}/test").status_code == 404
    assert client.post(f"/settings/keys/{key_id}/preferences", data={}).status_code == 404
    assert client.post("/settings/keys/999999/test").status_code == 404
    row = _keys(app, owner_id)["openai"]
    assert row.use_own is True and row.last_validation_ok is True


def test_settings_pages_need_a_login(client):
    for url in ("/settings", "/settings/keys"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_settings_index_shows_this_months_usage_and_allowances(app, client, login, make_user):
    from webapp.extensions import db
    from webapp.models import UsageEvent

    uid, _ = login()
    other, _ = make_user()
    with app.app_context():
        now = datetime.now(UTC)
        for user_id, provider, cost, owner in (
            (uid, "openai", "0.05", "platform"),
            (uid, "openai", "0.034", "user"),
            (uid, "gemini", "0.039", "user"),
            (other, "openai", "9.99", "platform"),
        ):
            db.session.add(
                UsageEvent(
                    user_id=user_id,
                    provider=provider,
                    model="m",
                    operation="generate",
                    size="1024x1536",
                    quality="medium",
                    images=1,
                    cost=Decimal(cost),
                    key_owner=owner,
                    outcome="success",
                    created_at=now,
                )
            )
        # The allowance counts reservations taken when work is accepted (one settled platform image).
        from webapp.models import AllowanceReservation

        db.session.add(AllowanceReservation(user_id=uid, kind="ai", amount=1, state="used", created_at=now))
        db.session.commit()
    page = client.get("/settings").get_data(as_text=True)
    assert "$0.05" in page and "$0.07" in page and "$9.99" not in page
    assert "OpenAI" in page and "Google Gemini" in page
    assert "4 of 5 AI images left this hour" in page
    assert "10 of 10 auto-format jobs left this hour" in page and "palette extractions" in page
    assert "Settings" in page and 'href="/settings/keys"' in page


def test_key_card_shows_requests_cost_and_last_use(app, client, login, openai_fake):
    from webapp.extensions import db
    from webapp.models import UsageEvent

    uid, _ = login()
    client.post("/settings/keys", data={"provider": "openai", "api_key": OPENAI_KEY})
    with app.app_context():
        for _ in range(2):
            db.session.add(
                UsageEvent(
                    user_id=uid,
                    provider="openai",
                    model="gpt-image-1.5",
                    operation="generate",
                    size="1024x1536",
                    quality="medium",
                    images=1,
                    cost=Decimal("0.05"),
                    key_owner="user",
                    outcome="success",
                )
            )
        db.session.commit()
    page = client.get("/settings/keys").get_data(as_text=True)
    assert "2 requests" in page and "about $0.10" in page and "last used just now" in page
