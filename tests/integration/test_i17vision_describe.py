"""Describe with AI (issue 17) over the real app, Postgres, Redis, RQ and the SDKs against the fakes:
the asset page's button and estimate, the job writing words + ledger row + budget, a producer's words
kept, malformed output kept offline and shown, retry after a failure and after SIGKILL not charged
twice (the fake's request count), allowance and budget refusals, Gemini, and the admin's choice."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.fakes import FakeGemini, FakeOpenAI
from tests.fakes.openai_server import VISION_WORDS
from tests.integration.test_budget_and_ledger import configure, ledger_rows, spend
from tests.integration.test_i16providers_flow import _workers
from tests.integration.test_races import _wait

pytestmark = pytest.mark.usefixtures("app")
KEY = "sk-vision-flow-0000"
PRICE = Decimal("0.0005")  # gpt-5.4-nano per-caption list price


def _jpeg(shade: int) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", (640, 420), (20 + shade, 40, 200))
    img.paste((240, 200, 40), (200, 120, 440, 300))
    img.save(buf, "JPEG", quality=88)
    return buf.getvalue()


@pytest.fixture
def fake():
    with FakeOpenAI(valid_key=KEY) as f:
        yield f


@pytest.fixture
def world(app, client, make_user, fake):
    """OpenAI (pointed at the fake) chosen as the describer by an admin; a producer logged in on
    `client` with two uploaded images, one generated from a prompt."""
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import describe_ai
    from webapp.services.assets import ingest_upload

    pid = configure(app, "openai", key=KEY, base_url=fake.url)
    admin_id, admin_email = make_user(role="admin")
    admin = app.test_client()
    assert admin.post("/login", data={"email": admin_email, "password": PASSWORD}).status_code == 302
    page = admin.get("/admin/providers/describe").get_data(as_text=True)
    assert "offline only" in page.lower()
    resp = admin.post("/admin/providers/describe", data={"describer": "openai:gpt-5.4-nano"})
    assert resp.status_code == 302
    assert "openai gpt-5.4-nano" in admin.get("/admin/providers/describe").get_data(as_text=True)
    uid, email = make_user()
    client.post("/login", data={"email": email, "password": PASSWORD})
    with app.app_context():
        assert describe_ai.current_choice() == "openai:gpt-5.4-nano"
        user = db.session.get(User, uid)
        a = ingest_upload(user, _jpeg(0), "stage.jpg").asset
        b = ingest_upload(user, _jpeg(30), "IMG_0002.jpg").asset
        b.prompt = "A saxophone in blue neon"
        db.session.commit()
        ids = {"user": uid, "a": a.id, "b": b.id, "provider": pid, "admin": admin_id}
    return ids


def _asset(app, asset_id):
    from webapp.extensions import db
    from webapp.models import Asset

    with app.app_context():
        row = db.session.get(Asset, asset_id)
        db.session.expunge(row)
        return row


def _job(app, job_id):
    from webapp.extensions import db
    from webapp.models import Job

    with app.app_context():
        row = db.session.get(Job, job_id)
        db.session.expunge(row)
        return row


def _start(app, uid, *asset_ids):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import actions

    with app.app_context():
        return actions.describe_images(db.session.get(User, uid), list(asset_ids)).id


def _describe_rows(app):
    return [r for r in ledger_rows(app) if r.operation == "describe"]


def test_button_shows_the_estimate_and_the_job_writes_words_ledger_and_budget(
    app, client, world, fake, run_jobs
):
    from webapp.extensions import db
    from webapp.models import AllowanceReservation

    page = client.get(f"/assets/{world['a']}").get_data(as_text=True)
    assert 'data-testid="described-offline"' in page
    assert "Describe with AI" in page and "OpenAI gpt-5.4-nano, about $0.0005" in page
    before = _asset(app, world["a"]).alt_text
    resp = client.post(f"/assets/{world['a']}/describe-ai")
    assert resp.status_code == 302 and "/jobs/" in resp.headers["Location"]
    job_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert len(fake.requests_to("/v1/responses")) == 0  # never inside the request
    run_jobs()
    job = _job(app, job_id)
    assert job.status == "succeeded", job.error
    assert job.kind == "describe" and job.result["described"] == [world["a"]]
    asset = _asset(app, world["a"])
    assert asset.described_by == "openai" and asset.alt_text == VISION_WORDS["alt_text"] != before
    assert asset.title == VISION_WORDS["title"] and asset.tags == VISION_WORDS["tags"]
    record = asset.provenance["ai_description"]
    assert record["job_id"] == job_id and record["status"] == "described" and record["cost"] == "0.0005"
    (row,) = _describe_rows(app)
    assert (row.provider, row.model, row.outcome, row.cost, row.key_owner, row.job_id) == (
        "openai",
        "gpt-5.4-nano",
        "success",
        PRICE,
        "platform",
        job_id,
    )
    assert spend(app, world["provider"]) == (PRICE, Decimal(0))
    with app.app_context():
        (res,) = db.session.scalars(select(AllowanceReservation).where(AllowanceReservation.job_id == job_id))
        assert (res.kind, res.state, res.amount) == ("describe", "used", 1)
    page = client.get(f"/assets/{world['a']}").get_data(as_text=True)
    assert "Written by openai from the image" in page and VISION_WORDS["alt_text"] in page
    job_page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "AI description" in job_page and "described from the image" in job_page
    assert "Download all three" not in job_page
    # The library search finds the new words.
    assert f"/assets/{world['a']}" in client.get("/library?q=moon").get_data(as_text=True)
    assert len(fake.requests_to("/v1/responses")) == 1


def test_producer_words_are_kept_and_not_charged(app, client, world, fake, run_jobs):
    from webapp.extensions import db
    from webapp.models import ApiToken, User  # noqa: F401
    from webapp.services import tokens

    with app.app_context():
        _, token = tokens.create(db.session.get(User, world["user"]), "t", "write")
    auth = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    resp = api.patch(f"/api/v1/assets/{world['b']}", json={"alt_text": "Sax in neon, my words"}, headers=auth)
    assert resp.status_code == 200
    resp = api.post(f"/api/v1/assets/{world['b']}/describe", headers=auth)
    assert resp.status_code == 202, resp.get_json()
    job_id = resp.get_json()["id"]
    assert resp.headers["Location"] == f"/api/v1/jobs/{job_id}"
    run_jobs()
    job = _job(app, job_id)
    assert job.status == "succeeded"
    assert job.result["images"] == [
        {"asset_id": world["b"], "status": "skipped", "reason": "your own words are kept"}
    ]
    asset = _asset(app, world["b"])
    assert asset.described_by == "producer" and asset.alt_text == "Sax in neon, my words"
    assert fake.requests_to("/v1/responses") == [] and _describe_rows(app) == []
    assert spend(app, world["provider"]) == (Decimal(0), Decimal(0))
    page = client.get(f"/assets/{world['b']}").get_data(as_text=True)
    assert "your own words are kept" in page


def test_malformed_answer_keeps_offline_words_and_shows_the_failure(app, client, world, fake, run_jobs):
    fake.vision_answer = "malformed"
    before = _asset(app, world["a"])
    job_id = _start(app, world["user"], world["a"])
    run_jobs()
    job = _job(app, job_id)
    assert job.status == "succeeded", job.error
    assert job.result["images"][0]["status"] == "malformed"
    asset = _asset(app, world["a"])
    assert asset.described_by == "offline" and asset.alt_text == before.alt_text
    assert "not valid JSON" in asset.provenance["ai_description"]["error"]
    (row,) = _describe_rows(app)
    assert (row.outcome, row.cost) == ("malformed", PRICE)  # the model answered: it was billed
    page = client.get(f"/assets/{world['a']}").get_data(as_text=True)
    assert 'data-testid="ai-describe-failed"' in page and "offline words were kept" in page


def test_retry_after_a_429_does_not_describe_or_charge_twice(app, client, world, fake, run_jobs):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import actions

    fake.enqueue("success", "rate_limited")
    job_id = _start(app, world["user"], world["a"], world["b"])
    run_jobs()
    job = _job(app, job_id)
    assert job.status == "failed" and "limiting how fast" in job.error
    assert _asset(app, world["a"]).described_by == "openai"
    assert _asset(app, world["b"]).described_by == "offline"
    with app.app_context():
        actions.retry_job(db.session.get(User, world["user"]), job_id)
    run_jobs()
    job = _job(app, job_id)
    assert job.status == "succeeded", job.error
    assert len(fake.requests_to("/v1/responses")) == 3  # a, b (429), b again — never a twice
    rows = _describe_rows(app)
    assert sorted((r.outcome, r.cost) for r in rows) == [
        ("rate_limited", Decimal(0)),
        ("success", PRICE),
        ("success", PRICE),
    ]
    assert spend(app, world["provider"]) == (2 * PRICE, Decimal(0))
    assert {i["status"] for i in job.result["images"]} == {"described"}
    assert _asset(app, world["b"]).described_by == "openai"
    job_page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "done by an earlier attempt; not charged again" in job_page


def test_retry_after_sigkill_does_not_charge_the_described_image_again(
    app, world, fake, pg_url, media_root, queue_prefix
):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import actions
    from webapp.services import jobs as job_service

    fake.enqueue("success", "slow", delay=60)  # the second image hangs at the provider
    job_id = _start(app, world["user"], world["a"], world["b"])
    w = _workers(pg_url, media_root, queue_prefix, {})
    try:
        _wait(
            lambda: len(fake.requests_to("/v1/responses")) >= 2 or _job(app, job_id).is_final,
            "the second image's call",
            deadline=300,  # a worker's start-up (SDK preload) on a loaded machine
        )
    finally:
        w.kill()
    job = _job(app, job_id)
    assert len(fake.requests_to("/v1/responses")) == 2, (job.status, job.error, job.result)
    assert _asset(app, world["a"]).described_by == "openai"
    with app.app_context():
        _wait(
            lambda: job_service.mark_stale_jobs_failed([job_id]) or _job(app, job_id).status == "failed",
            "stale",
        )
        actions.retry_job(db.session.get(User, world["user"]), job_id)
    w2 = _workers(pg_url, media_root, queue_prefix, {})
    try:
        _wait(
            lambda: _job(app, job_id).status in ("succeeded", "failed"), "the retry to finish", deadline=300
        )
    finally:
        w2.stop()
    job = _job(app, job_id)
    assert job.status == "succeeded", job.error
    calls = fake.requests_to("/v1/responses")
    assert len(calls) == 3  # a once; b cut off by the kill, then b again
    # a: paid once. b: the cut-off call may have been billed (recorded once, its reservation settled,
    # nothing left reserved), then b described and paid.
    rows = _describe_rows(app)
    assert [(r.outcome, r.cost) for r in rows] == [
        ("success", PRICE),
        ("interrupted_maybe_billed", PRICE),
        ("success", PRICE),
    ]
    assert spend(app, world["provider"]) == (3 * PRICE, Decimal(0))
    assert _asset(app, world["b"]).described_by == "openai"
    reused = [i for i in job.result["images"] if i.get("reused")]
    assert [i["asset_id"] for i in reused] == [world["a"]]


def test_allowance_and_budget_refusals_start_nothing(app, client, world, fake):
    from webapp.extensions import db
    from webapp.models import AllowanceReservation, Job, Provider
    from webapp.services import tokens

    with app.app_context():
        db.session.add(AllowanceReservation(user_id=world["user"], kind="describe", amount=30, state="used"))
        from webapp.models import User

        _, token = tokens.create(db.session.get(User, world["user"]), "t", "write")
        db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    resp = api.post(f"/api/v1/assets/{world['a']}/describe", headers=auth)
    assert resp.status_code == 429
    assert "30 AI image descriptions" in resp.get_json()["detail"]
    resp = client.post(f"/assets/{world['a']}/describe-ai", follow_redirects=True)
    assert "You have used your 30 AI image descriptions" in resp.get_data(as_text=True)
    with app.app_context():
        db.session.query(AllowanceReservation).delete()
        db.session.get(Provider, world["provider"]).monthly_budget = Decimal("0.0001")
        db.session.commit()
    resp = api.post(f"/api/v1/assets/{world['a']}/describe", headers=auth)
    assert resp.status_code == 409 and "monthly budget" in resp.get_json()["detail"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0
    assert fake.requests_to("/v1/responses") == []


def test_offline_only_page_and_api_say_why(app, client, world):
    from webapp.services import describe_ai

    with app.app_context():
        describe_ai.set_describer("")
    page = client.get(f"/assets/{world['a']}").get_data(as_text=True)
    assert 'data-testid="ai-describe-unavailable"' in page and "composed offline" in page
    assert "Describe with AI</button>" not in page
    resp = client.post(f"/assets/{world['a']}/describe-ai", follow_redirects=True)
    assert "No AI describer is set up" in resp.get_data(as_text=True)


def test_gemini_describes_through_json_mode(app, world, run_jobs):
    from webapp.services import describe_ai

    with FakeGemini(valid_key=KEY) as gem:
        gid = configure(app, "gemini", key=KEY, base_url=gem.url)
        with app.app_context():
            describe_ai.set_describer("gemini:gemini-2.5-flash")
            assert describe_ai.current_choice() == "gemini:gemini-2.5-flash"
        job_id = _start(app, world["user"], world["b"])
        run_jobs()
        job = _job(app, job_id)
        assert job.status == "succeeded", job.error
        assert len(gem.requests_to(":generateContent")) == 1
    asset = _asset(app, world["b"])
    assert asset.described_by == "gemini" and asset.alt_text == VISION_WORDS["alt_text"]
    (row,) = _describe_rows(app)
    assert (row.provider, row.model, row.cost) == ("gemini", "gemini-2.5-flash", Decimal("0.001"))
    assert spend(app, gid) == (Decimal("0.001"), Decimal(0))


def test_own_key_pays_and_takes_no_allowance_or_platform_budget(
    app, client, world, fake, run_jobs, monkeypatch
):
    from webapp.extensions import db
    from webapp.models import AllowanceReservation, User
    from webapp.services import keys

    own_key = "sk-own-describe-9999"
    with FakeOpenAI(valid_key=own_key) as own:
        monkeypatch.setitem(app.config, "OPENAI_BASE_URL", own.url)  # own keys go to the operator's URL
        with app.app_context():
            keys.add_user_key(db.session.get(User, world["user"]), "openai", own_key)
        page = client.get(f"/assets/{world['a']}").get_data(as_text=True)
        assert "on your own key" in page
        resp = client.post(f"/assets/{world['a']}/describe-ai")
        job_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        run_jobs()
        assert _job(app, job_id).status == "succeeded"
        assert len(own.requests_to("/v1/responses")) == 1
    assert fake.requests_to("/v1/responses") == []
    (row,) = _describe_rows(app)
    assert (row.key_owner, row.cost, row.outcome) == ("user", PRICE, "success")
    assert spend(app, world["provider"]) == (Decimal(0), Decimal(0))
    with app.app_context():
        assert db.session.scalars(select(AllowanceReservation)).all() == []
    assert _asset(app, world["a"]).described_by == "openai"
