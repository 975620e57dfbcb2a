"""Runway, Hugging Face and tiers through the doors: CLI, API, admin pages, usage CSV."""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import provider_row
from tests.fakes import FakeHF, FakeRunway
from tests.integration.test_api import token_for  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("app")

RUNWAY_KEY = "key_cli_runway_secret_7a7a"
HF_KEY = "hf_cli_token_secret_8b8b"


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch):
    monkeypatch.setenv("RUNWAY_POLL_SECONDS", "0.01")


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def _run(*args: str, input: str | None = None):
        return runner.invoke(args=list(args), input=input, catch_exceptions=False)

    return _run


@pytest.fixture
def runway_fake():
    with FakeRunway(valid_key=RUNWAY_KEY) as fake:
        yield fake


@pytest.fixture
def hf_fake():
    with FakeHF(valid_key=HF_KEY) as fake:
        yield fake


def test_cli_sets_both_providers_with_base_url_and_generates_by_tier(
    app, cli, make_user, runway_fake, hf_fake, tmp_path
):
    make_user("admin@example.com", role="admin")
    r = cli(
        "provider", "set", "runway", "--key-stdin", "--enable", "--base-url", runway_fake.url,
        input=RUNWAY_KEY + "\n",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "…7a7a" in r.output and RUNWAY_KEY not in r.output
    assert runway_fake.requests_to("/v1/organization")  # the key test
    r = cli(
        "provider", "set", "huggingface", "--key-stdin", "--enable", "--base-url", hf_fake.url,
        "--model", "black-forest-labs/FLUX.1-schnell", "--routing", "fal-ai",
        input=HF_KEY + "\n",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    hf = provider_row(app, "huggingface")
    assert hf.model == "black-forest-labs/FLUX.1-schnell" and hf.options["routing"] == "fal-ai"
    assert cli("provider", "set", "runway", "--routing", "fal-ai").exit_code == 1

    r = cli("generate", "a jazz trio", "--type", "square", "--tier", "budget", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert "Provider: huggingface (tier budget)" in r.output
    assert len(hf_fake.requests_to("/models/black-forest-labs/FLUX.1-schnell")) == 1

    r = cli("generate", "a jazz trio", "--type", "poster", "--tier", "auto", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert "Provider: runway (tier premium)" in r.output and runway_fake.creates == 1
    r = cli("generate", "a jazz trio", "--type", "banner", "--provider", "runway", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert "Provider: runway (tier premium)" in r.output
    assert runway_fake.requests_to("/v1/text_to_image")[-1].json["ratio"] == "1920:1080"
    assert len(list(tmp_path.glob("*.jpg"))) == 3


def test_providers_api_shows_tier_prices_and_own_key_but_no_secrets(app, client, token_for, runway_fake):  # noqa: F811
    from webapp.services import keys, providers

    with app.app_context():
        providers.ensure_providers()
        row = providers.get_provider("runway")
        providers.update_settings(row, {"enabled": True, "base_url": runway_fake.url})
        keys.set_platform_key(row, RUNWAY_KEY)
    _, h = token_for()
    items = {p["name"]: p for p in client.get("/api/v1/providers", headers=h).json["items"]}
    assert set(items) >= {"local", "openai", "gemini", "runway", "huggingface"}
    assert items["runway"]["tier"] == "premium" and items["runway"]["enabled"] is True
    assert items["runway"]["prices"]["poster"]["medium"] == "0.0800"  # 8 credits x $0.01
    assert items["huggingface"]["tier"] == "budget" and items["huggingface"]["enabled"] is False
    assert items["local"]["tier"] == "free" and items["local"]["prices"]["square"]["low"] == "0.0000"
    assert items["runway"]["own_key_set"] is False
    text = client.get("/api/v1/providers", headers=h).get_data(as_text=True)
    assert RUNWAY_KEY not in text and "7a7a" not in text and runway_fake.url not in text

    est = client.post(
        "/api/v1/estimate", json={"prompt": "jazz", "tier": "auto", "image_type": "square"}, headers=h
    ).json
    assert est["provider"] == "runway" and est["tier"] == "premium" and est["cost"] == "0.0800"
    assert est["seconds"] is not None and "reason_chosen" in est


def test_admin_edits_tier_routing_and_credit_rate(app, client, login, hf_fake):
    login(role="admin")
    page = client.get("/admin/providers/runway").get_data(as_text=True)
    assert "price__credit__usd__medium" in page and "in credits" in page
    page = client.get("/admin/providers/huggingface").get_data(as_text=True)
    assert 'name="routing"' in page and 'name="custom_model"' in page
    form = _form_values(page)
    form.update({"tier": "premium", "routing": "together", "custom_model": "acme/poster-xl"})
    resp = client.post("/admin/providers/huggingface", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    row = provider_row(app, "huggingface")
    assert (row.tier, row.options["routing"], row.model) == ("premium", "together", "acme/poster-xl")
    # The "*" row prices a model the admin typed in.
    assert row.price_table["*"]["1024x1024"]["medium"] == "0.01"
    listing = client.get("/admin/providers").get_data(as_text=True)
    assert "Premium tier" in listing and "Budget tier" not in listing.split("Hugging Face")[1][:300]
    bad = dict(form, custom_model="not a model id")
    assert client.post("/admin/providers/huggingface", data=bad).status_code == 422


def _form_values(html: str) -> dict[str, str]:
    """The inputs' and selects' current values from the page (enough for this form)."""
    import re

    values: dict[str, str] = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        values[name] = value
    for name, value in re.findall(r'<input[^>]*value="([^"]*)"[^>]*name="([^"]+)"', html):
        values.setdefault(value, name)
    for select in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', select[1]) or re.search(
            r'<option[^>]*value="([^"]*)"', select[1]
        )
        if chosen:
            values[select[0]] = chosen.group(1)
    for name in ("enabled", "make_default"):
        values.pop(name, None)
    return values


def test_usage_csv_has_the_tier(app, client, login, make_user, run_jobs, hf_fake):
    from tests.integration.test_budget_and_ledger import configure, start

    configure(app, "huggingface", key=HF_KEY, base_url=hf_fake.url)
    uid, _ = make_user()
    start(app, uid, image_type="square", provider="huggingface")
    start(app, uid, image_type="square", provider="local")
    run_jobs()
    login(role="admin")
    rows = list(csv.reader(io.StringIO(client.get("/admin/usage.csv").get_data(as_text=True))))
    tier, media = rows[0].index("tier"), rows[0].index("media")
    assert sorted((r[2], r[tier], r[media]) for r in rows[1:]) == [
        ("huggingface", "budget", "image"),
        ("local", "free", "image"),
    ]
    page = client.get("/admin/usage").get_data(as_text=True)
    assert "Per tier" in page


def test_admin_api_patches_tier_and_routing(app, client, token_for):  # noqa: F811
    _, admin = token_for(role="admin", scope="admin")
    ok = client.patch(
        "/api/v1/admin/ai-models/huggingface",
        json={"tier": "premium", "routing": "together", "model": "acme/poster-xl"},
        headers=admin,
    )
    assert ok.status_code == 200, ok.json
    assert (ok.json["tier"], ok.json["options"]["routing"], ok.json["model"]) == (
        "premium",
        "together",
        "acme/poster-xl",
    )
    bad = client.patch("/api/v1/admin/ai-models/runway", json={"routing": "together"}, headers=admin)
    assert bad.status_code == 422
    assert (
        client.patch("/api/v1/admin/ai-models/runway", json={"tier": "gold"}, headers=admin).status_code
        == 422
    )


def test_own_hugging_face_key_is_tested_listed_and_used_by_auto(
    app,
    client,
    token_for,  # noqa: F811  (the fixture imported above)
    run_jobs,
    monkeypatch,
):
    with FakeHF(valid_key="hf_producerOWNtoken4242") as fake:
        # A producer's own key goes only to the operator's base URL (never an admin's).
        monkeypatch.setitem(app.config, "HUGGINGFACE_BASE_URL", fake.url)
        _, h = token_for()
        bad = client.post(
            "/api/v1/api-keys", json={"provider": "huggingface", "key": "hf_wrongWRONG0000"}, headers=h
        )
        assert bad.status_code == 422
        ok = client.post(
            "/api/v1/api-keys", json={"provider": "huggingface", "key": "hf_producerOWNtoken4242"}, headers=h
        )
        assert ok.status_code == 201, ok.json
        items = {p["name"]: p for p in client.get("/api/v1/providers", headers=h).json["items"]}
        assert items["huggingface"]["own_key_set"] and items["huggingface"]["own_key_in_use"]
        est = client.post(
            "/api/v1/estimate", json={"prompt": "jazz", "tier": "auto", "image_type": "poster"}, headers=h
        ).json
        assert (est["provider"], est["tier"], est["key_owner"]) == ("huggingface", "budget", "user")
        assert "own key" in est["reason_chosen"]
        started = client.post(
            "/api/v1/ai-generate", json={"prompt": "jazz", "tier": "auto", "image_type": "poster"}, headers=h
        )
        assert started.status_code == 202, started.json
        run_jobs()
        gen = [r for r in fake.requests if r.path.startswith("/models/")]
        assert len(gen) == 1 and gen[0].headers["authorization"] == "Bearer hf_producerOWNtoken4242"
