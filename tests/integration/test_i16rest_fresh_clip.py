"""A clip from a fresh generation (issue 16): `POST /api/v1/videos` with a prompt instead of an image.

One job draws the still (the generation rules: provider or tier, AI allowance, budget held and settled,
ledger) and then animates it; the still lands in the library as the clip's parent. Real RQ jobs, the
offline renderer and the official Runway SDK against the fake."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.integration import test_i16providers_flow as flow
from tests.integration import test_i16video_media as video_tests
from tests.integration.test_budget_and_ledger import configure, ledger_rows, spend
from tests.integration.test_i16video_media import _job

pytestmark = pytest.mark.usefixtures("app")
fast_polls, runway_fake, producer = flow.fast_polls, flow.runway_fake, video_tests.producer  # fixtures
KEY = "key_platform_runway_fresh_0006"


def _assets(app, job_id):
    from webapp.extensions import db
    from webapp.models import Asset

    with app.app_context():
        rows = db.session.scalars(select(Asset).where(Asset.job_id == job_id).order_by(Asset.id)).all()
        db.session.expunge_all()
        return rows


def _reservations(app, job_id):
    from webapp.extensions import db
    from webapp.models import AllowanceReservation

    with app.app_context():
        rows = db.session.scalars(
            select(AllowanceReservation).where(AllowanceReservation.job_id == job_id)
        ).all()
        return sorted((r.kind, r.state, r.amount) for r in rows)


def test_exactly_one_of_asset_id_and_prompt(app, producer):
    api, auth = producer["api"], producer["auth"]
    both = api.post(
        "/api/v1/videos", json={"asset_id": producer["asset"], "prompt": "a jazz night"}, headers=auth
    )
    none = api.post("/api/v1/videos", json={"seconds": 2}, headers=auth)
    for resp in (both, none):
        assert resp.status_code == 422
        assert "exactly one of asset_id" in str(resp.get_json()["errors"]["asset_id"])
    blank = api.post("/api/v1/videos", json={"prompt": "   "}, headers=auth)
    assert blank.status_code == 422 and "describe a new one" in blank.get_json()["detail"]
    unknown = api.post(
        "/api/v1/videos", json={"prompt": "a jazz night", "image_provider": "nosuch"}, headers=auth
    )
    assert unknown.status_code == 422
    with app.app_context():
        from webapp.extensions import db
        from webapp.models import Job

        assert db.session.scalars(select(Job)).all() == []  # nothing started


def test_fresh_clip_on_the_free_tier_draws_the_still_then_animates_it(app, producer, run_jobs):
    resp = producer["api"].post(
        "/api/v1/videos",
        json={
            "prompt": "a brass band under paper lanterns",
            "image_provider": "free",
            "format": "square",
            "seconds": 2,
            "show_id": producer["show"],
            "title_reveal": True,
        },
        headers=producer["auth"],
    )
    assert resp.status_code == 202, resp.get_json()
    job_id = resp.get_json()["id"]
    run_jobs()
    job = _job(app, job_id)
    assert job.status == "succeeded", job.error
    still, clip = _assets(app, job_id)
    assert (still.media_kind, still.kind, still.hidden) == ("image", "generated", False)
    assert still.provenance["provider"] == "local" and still.prompt == "a brass band under paper lanterns"
    assert (still.width, still.height) == (1200, 1200)  # the square format's still
    assert clip.media_kind == "video" and clip.parent_id == still.id and clip.show_id == producer["show"]
    assert clip.duration_s == pytest.approx(2.0, abs=0.1)
    assert job.result["still_asset_id"] == still.id and job.result["asset_ids"] == [clip.id]
    assert job.input["still"]["tier"] == "free"
    # The free tier costs nothing; the ledger records the offline still at $0, no AI allowance taken.
    assert [(r.provider, r.operation, r.cost) for r in ledger_rows(app)] == [
        ("local", "generate", Decimal(0))
    ]
    assert _reservations(app, job_id) == [("media", "used", 1)]


def test_fresh_clip_with_a_runway_still_and_runway_motion_pays_both_once(
    app, producer, run_jobs, runway_fake
):
    from webapp.extensions import db
    from webapp.models import Provider
    from webapp.services.pricing import media_estimate

    pid = configure(
        app,
        "runway",
        key=KEY,
        base_url=runway_fake.url,
        monthly_budget=Decimal("5"),
        user_images_per_hour=3,
    )
    resp = producer["api"].post(
        "/api/v1/videos",
        json={
            "prompt": "a brass band under paper lanterns",
            "image_provider": "runway",
            "provider": "runway",
            "motion_prompt": "the lanterns sway",
            "format": "story",
            "seconds": 5,
        },
        headers=producer["auth"],
    )
    assert resp.status_code == 202, resp.get_json()
    job_id = resp.get_json()["id"]
    run_jobs()
    job = _job(app, job_id)
    assert job.status == "succeeded", job.error
    still, clip = _assets(app, job_id)
    assert still.provenance["provider"] == "runway" and clip.parent_id == still.id
    assert runway_fake.creates == 2  # one still task, one clip task
    with app.app_context():
        clip_price = media_estimate(db.session.get(Provider, pid), "runway", "gen4_turbo", seconds=5)
    rows = ledger_rows(app)
    assert sorted((r.operation, r.outcome, r.cost) for r in rows) == [
        ("generate", "success", Decimal("0.08")),
        ("video", "success", clip_price),
    ]
    assert spend(app, pid) == (Decimal("0.08") + clip_price, Decimal(0))
    assert _reservations(app, job_id) == [("ai", "used", 1), ("media", "used", 1)]


def test_fresh_clip_refused_up_front_when_the_budget_cannot_cover_the_still(app, producer, runway_fake):
    configure(app, "runway", key=KEY, base_url=runway_fake.url, monthly_budget=Decimal("0.01"))
    resp = producer["api"].post(
        "/api/v1/videos",
        json={"prompt": "a brass band", "image_provider": "runway"},
        headers=producer["auth"],
    )
    assert resp.status_code == 409 and "budget" in resp.get_json()["detail"]
    assert runway_fake.creates == 0
