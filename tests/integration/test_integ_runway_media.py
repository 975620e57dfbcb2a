"""Premium video and voice end to end: the studio's doors (API) → a real RQ job → the official
`runwayml` SDK against the Runway fake → a validated clip/voice asset; the price table's estimate,
the budget and the ledger agree to the cent, and the fake saw exactly one paid task each."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.integration.test_budget_and_ledger import configure, ledger_rows, spend
from tests.integration.test_i16providers_flow import fast_polls, runway_fake  # noqa: F401  (fixtures)
from tests.integration.test_i16video_media import _job, producer  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("app")
KEY = "key_platform_runway_0003"


def test_runway_clip_and_voice_estimate_budget_and_ledger_agree(app, producer, run_jobs, runway_fake):  # noqa: F811
    from webapp.extensions import db
    from webapp.models import Asset, Provider
    from webapp.services.pricing import media_estimate

    pid = configure(app, "runway", key=KEY, base_url=runway_fake.url, monthly_budget=Decimal("5"))
    resp = producer["api"].post(
        "/api/v1/videos",
        json={
            "asset_id": producer["asset"],
            "format": "story",
            "seconds": 6,
            "provider": "runway",
            "motion_prompt": "lanterns drift over the crowd",
        },
        headers=producer["auth"],
    )
    assert resp.status_code == 202, resp.get_json()
    clip_job = resp.get_json()["id"]
    resp = producer["api"].post(
        "/api/v1/voiceovers",
        json={
            "text": "The Night Parade. One night only at the Blue Room. Tickets on sale now.",
            "voice": "Maya",
            "provider": "runway",
        },
        headers=producer["auth"],
    )
    assert resp.status_code == 202, resp.get_json()
    voice_job = resp.get_json()["id"]
    run_jobs()

    for job_id in (clip_job, voice_job):
        job = _job(app, job_id)
        assert job.status == "succeeded", job.error
    assert runway_fake.creates == 2 and runway_fake.deleted == []
    with app.app_context():
        row = db.session.get(Provider, pid)
        clip_price = media_estimate(row, "runway", "gen4_turbo", seconds=5)  # gen4_turbo bills 5 s for 6
        voice_price = media_estimate(
            row,
            "runway",
            "eleven_multilingual_v2",
            chars=len("The Night Parade. One night only at the Blue Room. Tickets on sale now."),
        )
        clip = db.session.query(Asset).filter_by(job_id=clip_job).one()
        voice = db.session.query(Asset).filter_by(job_id=voice_job).one()
        assert (clip.media_kind, clip.codec) == ("video", "h264") and clip.duration_s > 0
        assert voice.media_kind == "audio"
    rows = ledger_rows(app)
    assert sorted((r.operation, r.outcome, r.cost) for r in rows) == sorted(
        [("video", "success", clip_price), ("voice", "success", voice_price)]
    )
    assert clip_price == Decimal("0.2500")  # 5 credits a second x 5 s x $0.01 a credit
    assert spend(app, pid) == (clip_price + voice_price, Decimal(0))
    # Usage by media type (the admin's usage page, CSV and API read these totals).
    from datetime import timedelta

    from webapp.models import utcnow
    from webapp.services import ledger

    with app.app_context():
        totals = ledger.totals(utcnow() - timedelta(hours=1), utcnow() + timedelta(minutes=1))
    assert totals["by_media"]["video"]["cost"] == clip_price
    assert totals["by_media"]["audio"]["cost"] == voice_price
    assert totals["by_tier"]["premium"]["cost"] == clip_price + voice_price


def test_estimate_for_clips_and_voiceovers_matches_the_ledger_price(app, producer, runway_fake):  # noqa: F811
    from webapp.extensions import db
    from webapp.models import Provider
    from webapp.services.pricing import media_estimate

    pid = configure(app, "runway", key=KEY, base_url=runway_fake.url)
    api, auth = producer["api"], producer["auth"]
    free = api.post("/api/v1/estimate", json={"media": "video", "seconds": 6}, headers=auth).get_json()
    assert (free["kind"], free["provider"], free["tier"], free["cost"]) == ("video", "local", "free", "0")
    assert free["seconds"] > 0 and free["seconds_basis"]
    clip = api.post(
        "/api/v1/estimate", json={"media": "video", "seconds": 6, "provider": "runway"}, headers=auth
    ).get_json()
    script = "Tickets on sale now."
    voice = api.post(
        "/api/v1/estimate", json={"media": "voiceover", "text": script, "provider": "runway"}, headers=auth
    ).get_json()
    with app.app_context():
        row = db.session.get(Provider, pid)
        assert clip["cost"] == str(media_estimate(row, "runway", "gen4_turbo", seconds=5))
        assert voice["cost"] == str(
            media_estimate(row, "runway", "eleven_multilingual_v2", chars=len(script))
        )
    assert clip["tier"] == voice["tier"] == "premium"
    bad = api.post("/api/v1/estimate", json={"media": "video", "seconds": 30}, headers=auth)
    assert bad.status_code == 422
    nothing = api.post("/api/v1/estimate", json={"media": "voiceover", "text": " "}, headers=auth)
    assert nothing.status_code == 422 and "script" in str(nothing.get_json())
