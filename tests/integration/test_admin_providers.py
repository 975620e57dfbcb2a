"""Admin providers, audit log and usage pages, against real Postgres and the fake provider servers."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.conftest import provider_row
from tests.fakes import FakeGemini, FakeOpenAI

pytestmark = pytest.mark.usefixtures("app")

KEY = "sk-admin-test-key-7f3a"


@pytest.fixture
def openai_fake(app, monkeypatch):
    with FakeOpenAI(valid_key=KEY) as fake:
        monkeypatch.setitem(app.config, "OPENAI_BASE_URL", fake.url)
        yield fake


@pytest.fixture
def gemini_fake(app, monkeypatch):
    with FakeGemini(valid_key="AIza-admin-test-key-1") as fake:
        monkeypatch.setitem(app.config, "GEMINI_BASE_URL", fake.url)
        yield fake


_provider = provider_row


def _form_data(app, name: str, **overrides) -> dict:
    """Everything the edit form posts, as it is pre-filled now, with `overrides` applied."""
    from webapp.admin.forms import provider_form
    from webapp.extensions import db
    from webapp.providers import REGISTRY
    from webapp.services.providers import ensure_providers, get_provider

    with app.test_request_context(), app.app_context():
        ensure_providers()
        form = provider_form(get_provider(name), REGISTRY[name].spec)
        data = {}
        for f in form:
            if f.type == "CSRFTokenField":
                continue
            if f.type == "BooleanField":
                if f.data:
                    data[f.name] = "y"
                continue
            data[f.name] = "" if f.data is None else str(f.data)
        db.session.remove()
    for k, v in overrides.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return data


def _audit_actions(app) -> list[str]:
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import AuditEvent

    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# --------------------------------------------------------------------------- list and edit


def test_providers_page_lists_every_provider_with_status(client, login):
    login(role="admin")
    page = client.get("/admin/providers").get_data(as_text=True)
    for name in ("OpenAI", "Google Gemini", "Built-in artwork"):
        assert name in page
    assert "Not set" in page and "No key needed" in page and "Default" in page
    assert 'aria-current="page"' in page and "/admin/usage" in page and "/admin/audit" in page


def test_edit_saves_settings_and_audits_the_change(app, client, login, monkeypatch):
    # Base URLs must be on the operator's allow-list (issue 14).
    monkeypatch.setitem(app.config, "PROVIDER_BASE_URL_ALLOWLIST", "https://gateway.example.com")
    login(role="admin")
    data = _form_data(
        app,
        "openai",
        model="gpt-image-1-mini",
        enabled="y",
        fallback_order="5",
        default_quality="high",
        base_url="https://gateway.example.com/v1/",
        images_per_minute="12",
        user_images_per_hour="3",
        monthly_budget="250.50",
        alert_percent="75",
    )
    resp = client.post("/admin/providers/openai", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    p = _provider(app, "openai")
    assert (p.model, p.enabled, p.fallback_order, p.default_quality) == ("gpt-image-1-mini", True, 5, "high")
    assert p.base_url == "https://gateway.example.com/v1"
    assert (p.images_per_minute, p.user_images_per_hour, p.alert_percent) == (12, 3, 75)
    assert p.monthly_budget == Decimal("250.50")
    assert "provider.update" in _audit_actions(app)
    # An empty budget means "no budget".
    client.post("/admin/providers/openai", data={**_form_data(app, "openai"), "monthly_budget": ""})
    assert _provider(app, "openai").monthly_budget is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("base_url", "ftp://files.example.com", "http:// or https://"),
        ("base_url", "https://user:pw@gateway.example.com", "Leave credentials out"),
        ("monthly_budget", "-5", "not negative"),
        ("monthly_budget", "12.345", "2 decimal places"),
        ("alert_percent", "0", "Between 1 and 100"),
        ("images_per_minute", "0", "Between 1 and 10,000"),
        ("price__gpt-image-1.5__1024x1536__medium", "0.12345", "4 decimal places"),
        ("price__gpt-image-1.5__1024x1536__medium", "-0.01", "not negative"),
        ("price__gpt-image-1.5__1024x1536__medium", "", "Enter a price"),
        ("price__gpt-image-1-mini__1024x1024__low", "1e3", "Enter a number"),
    ],
)
def test_invalid_settings_are_refused_with_a_message_and_nothing_is_saved(
    app, client, login, field, value, message
):
    login(role="admin")
    before = _provider(app, "openai")
    data = _form_data(app, "openai", enabled="y", fallback_order="7")
    data[field] = value
    resp = client.post("/admin/providers/openai", data=data)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    after = _provider(app, "openai")
    assert (after.enabled, after.fallback_order, after.price_table) == (
        before.enabled,
        before.fallback_order,
        before.price_table,
    )


def test_model_must_be_one_of_the_adapters_models(app, client, login):
    login(role="admin")
    resp = client.post("/admin/providers/openai", data=_form_data(app, "openai", model="gpt-image-1"))
    assert resp.status_code == 422
    assert _provider(app, "openai").model == "gpt-image-1.5"


def test_price_table_edit_changes_the_quote(app, client, login, make_user):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import generation
    from webapp.services.keys import set_platform_key

    login(role="admin")
    with FakeOpenAI(valid_key=KEY) as fake, app.app_context():
        app.config["OPENAI_BASE_URL"] = fake.url
        try:
            from webapp.services.providers import ensure_providers, get_provider

            ensure_providers()
            set_platform_key(get_provider("openai"), KEY)
        finally:
            app.config.pop("OPENAI_BASE_URL")
    data = _form_data(app, "openai", enabled="y")
    data["price__gpt-image-1.5__1024x1536__medium"] = "0.0777"
    assert client.post("/admin/providers/openai", data=data).status_code == 302
    uid, _ = make_user()
    with app.app_context():
        user = db.session.get(User, uid)
        q = generation.quote(
            user,
            generation.GenerationRequest(
                prompt="a jazz night", image_type="poster", provider="openai", quality="medium", variations=3
            ),
        )
        assert q.size == "1024x1536"
        assert q.unit_price == Decimal("0.0777")
        assert q.total == Decimal("0.2331")
        assert get_provider("openai").price_table["gpt-image-1.5"]["1024x1536"]["medium"] == "0.0777"


# --------------------------------------------------------------------------- keys


def test_set_key_is_tested_then_saved_and_only_the_suffix_is_shown(app, client, login, openai_fake):
    login(role="admin")
    resp = client.post("/admin/providers/openai/key", data={"api_key": KEY}, follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "…7f3a" in page and KEY not in page
    assert openai_fake.requests_to("/v1/models"), "the key was not tested against the provider"
    p = _provider(app, "openai")
    assert p.key_suffix == "…7f3a" and p.encrypted_key and KEY.encode() not in bytes(p.encrypted_key)
    assert p.last_test_ok is True
    assert _audit_actions(app)[-1] == "platform_key.set"
    # Replacing it is a separate audited action; the input is never pre-filled.
    client.post("/admin/providers/openai/key", data={"api_key": KEY})
    assert _audit_actions(app)[-1] == "platform_key.replace"
    edit = client.get("/admin/providers/openai").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="api_key"[^>]*>', edit)
    assert re.search(r'<input[^>]*name="api_key"[^>]*>', edit).group(0).count('value=""') in (0, 1)
    assert KEY not in edit and "…7f3a" in edit


def test_refused_key_shows_the_reason_and_saves_nothing(app, client, login, openai_fake):
    login(role="admin")
    resp = client.post("/admin/providers/openai/key", data={"api_key": "sk-wrong-key-0000"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "refused the key" in page and "not saved" in page
    assert "sk-wrong-key-0000" not in page
    p = _provider(app, "openai")
    assert p.encrypted_key is None and p.key_suffix is None
    assert _audit_actions(app)[-1] == "platform_key.set.refused"


def test_gemini_key_accepted_and_refused(app, client, login, gemini_fake):
    login(role="admin")
    assert client.post("/admin/providers/gemini/key", data={"api_key": "AIza-wrong-key-2"}).status_code == 422
    assert _provider(app, "gemini").encrypted_key is None
    resp = client.post("/admin/providers/gemini/key", data={"api_key": "AIza-admin-test-key-1"})
    assert resp.status_code == 302
    assert _provider(app, "gemini").key_suffix == "…ey-1"


def test_test_key_button_records_the_result(app, client, login, openai_fake):
    login(role="admin")
    client.post("/admin/providers/openai/key", data={"api_key": KEY})
    resp = client.post("/admin/providers/openai/test", follow_redirects=True)
    assert "Key accepted." in resp.get_data(as_text=True)
    openai_fake.valid_key = "sk-rotated-elsewhere"
    partial = client.post("/admin/providers/openai/test", headers={"HX-Request": "true"})
    body = partial.get_data(as_text=True)
    assert partial.status_code == 200 and "<html" not in body
    assert "Failed" in body and "refused the key" in body
    p = _provider(app, "openai")
    assert p.last_test_ok is False and p.last_tested_at is not None
    assert _audit_actions(app).count("platform_key.test") == 2


def test_exactly_one_default_provider(app, client, login):
    login(role="admin")
    assert _provider(app, "local").is_default
    # A disabled provider cannot become the default.
    resp = client.post("/admin/providers/openai/default", follow_redirects=True)
    assert "Enable the provider" in resp.get_data(as_text=True)
    client.post("/admin/providers/openai", data=_form_data(app, "openai", enabled="y"))
    client.post("/admin/providers/openai/default")
    assert [p for p in ("openai", "gemini", "local") if _provider(app, p).is_default] == ["openai"]
    client.post("/admin/providers/gemini", data=_form_data(app, "gemini", enabled="y", make_default="y"))
    assert [p for p in ("openai", "gemini", "local") if _provider(app, p).is_default] == ["gemini"]
    # Disabling the default hands the role to another enabled provider: still exactly one.
    client.post("/admin/providers/gemini", data=_form_data(app, "gemini", enabled=None))
    defaults = [p for p in ("openai", "gemini", "local") if _provider(app, p).is_default]
    assert len(defaults) == 1 and defaults != ["gemini"]


def test_unknown_provider_is_404(client, login):
    login(role="admin")
    assert client.get("/admin/providers/dalle").status_code == 404
    assert client.post("/admin/providers/local/key", data={"api_key": "whatever-123"}).status_code == 404


# --------------------------------------------------------------------------- authorization

ADMIN_GETS = [
    "/admin/users",
    "/admin/providers",
    "/admin/providers/openai",
    "/admin/audit",
    "/admin/usage",
    "/admin/usage.csv",
]
ADMIN_POSTS = [
    "/admin/providers/openai",
    "/admin/providers/openai/key",
    "/admin/providers/openai/test",
    "/admin/providers/openai/default",
    "/admin/users/1",
]


@pytest.mark.parametrize("role", ["producer", "staff"])
def test_non_admins_get_404_on_every_admin_url(app, client, login, role):
    login(role=role)
    for url in ADMIN_GETS:
        assert client.get(url).status_code == 404, url
    for url in ADMIN_POSTS:
        assert client.post(url, data={"api_key": KEY, "enabled": "y"}).status_code == 404, url
    assert _provider(app, "openai").encrypted_key is None


def test_anonymous_visitors_are_sent_to_login(client):
    resp = client.get("/admin/providers")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


# --------------------------------------------------------------------------- audit


def test_audit_log_newest_first_filters_and_keyset_pages(app, client, login, monkeypatch):
    from webapp.admin import providers as admin_providers
    from webapp.extensions import db
    from webapp.services import audit

    _, admin_email = login(role="admin")
    with app.app_context():
        for i in range(7):
            audit.record("provider.update", "provider:openai", {"n": i})
        audit.record("user_key.add", "user_key:openai", {"suffix": "…abcd", "owner": 1})
        db.session.commit()
    monkeypatch.setattr(admin_providers, "AUDIT_PAGE_SIZE", 3)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert page.index("user_key.add") < page.index("n=6") < page.index("n=5")
    assert "n=4" not in page and "system (CLI or worker)" in page
    older = re.search(r'href="(/admin/audit\?before=\d+)"', page).group(1)
    page2 = client.get(older).get_data(as_text=True)
    assert "n=4" in page2 and "n=2" in page2 and "n=6" not in page2
    filtered = client.get("/admin/audit?action=user_key.add").get_data(as_text=True)
    assert "suffix=…abcd" in filtered and "n=6" not in filtered
    assert "n=6" not in client.get("/admin/audit?actor=" + admin_email).get_data(as_text=True)
    assert "n=6" in client.get("/admin/audit?actor=system").get_data(as_text=True)


# --------------------------------------------------------------------------- usage


def _ledger(app, user_id, days_ago, provider, cost, images, key_owner="platform", outcome="success"):
    from webapp.extensions import db
    from webapp.models import UsageEvent

    with app.app_context():
        db.session.add(
            UsageEvent(
                user_id=user_id,
                provider=provider,
                model="m",
                operation="generate",
                size="1024x1536",
                quality="medium",
                images=images,
                cost=Decimal(cost),
                key_owner=key_owner,
                outcome=outcome,
                created_at=datetime.now(UTC) - timedelta(days=days_ago),
            )
        )
        db.session.commit()


def test_usage_page_draws_accessible_svg_charts_and_top_users(app, client, login, make_user):
    login(role="admin")
    uid, email = make_user("=cmd@example.com")
    _ledger(app, uid, 0, "openai", "0.05", 1)
    _ledger(app, uid, 0, "gemini", "0.039", 1, key_owner="user")
    _ledger(app, uid, 0, "openai", "0", 0, outcome="rate_limited")
    resp = client.get("/admin/usage")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert page.count("<svg") >= 3 and "<title id=" in page and "<desc id=" in page
    assert "style=" not in page.split("<svg", 1)[1]
    assert "Spend per day by provider" in page and "openai: $0.05" in page
    assert "own key: $0.04" in page and email in page
    assert "$0.09" in page  # total


def test_usage_date_filters_are_validated(client, login):
    login(role="admin")
    reversed_range = client.get("/admin/usage?start=2026-05-02&end=2026-05-01")
    assert reversed_range.status_code == 400 and "before the start" in reversed_range.get_data(as_text=True)
    resp = client.get("/admin/usage?start=2024-01-01&end=2026-01-01")
    assert resp.status_code == 400 and "at most 366 days" in resp.get_data(as_text=True)
    assert client.get("/admin/usage?start=not-a-date").status_code == 400
    assert client.get("/admin/usage?start=2025-01-01&end=2025-12-31").status_code == 200
    assert client.get("/admin/usage.csv?start=2026-05-02&end=2026-05-01").status_code == 400


def test_usage_csv_has_every_ledger_row_in_range(app, client, login, make_user):
    login(role="admin")
    uid, _ = make_user("=cmd@example.com")
    _ledger(app, uid, 0, "openai", "0.05", 1)
    _ledger(app, uid, 0, "openai", "0", 0, outcome="rate_limited")
    _ledger(app, uid, 40, "gemini", "0.039", 1)
    today = datetime.now(UTC).date()
    resp = client.get(f"/admin/usage.csv?start={today - timedelta(days=2)}&end={today}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0] == [
        "time",
        "user_email",
        "provider",
        "model",
        "operation",
        "size",
        "quality",
        "images",
        "cost",
        "key_owner",
        "job",
        "outcome",
        "tier",  # issue 16: usage by tier
        "media",  # issue 16: and by media type
    ]
    assert len(rows) == 3
    assert {r[12] for r in rows[1:]} == {"premium"}
    assert {r[13] for r in rows[1:]} == {"image"}
    assert rows[1][1] == "'=cmd@example.com"  # no spreadsheet formula injection
    assert {r[11] for r in rows[1:]} == {"success", "rate_limited"} and rows[1][8] == "0.0500"
    wide = client.get(f"/admin/usage.csv?start={today - timedelta(days=60)}")
    assert len(list(csv.reader(io.StringIO(wide.get_data(as_text=True))))) == 4
