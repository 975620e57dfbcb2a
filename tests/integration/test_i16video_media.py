"""Video and voice plumbing end to end (issue 16): the API, studio and CLI doors, the job on a real RQ
worker, the stored asset (kind, duration, codec, thumbnail), the library, downloads with Range, the show's
promo slot, cancel between frame batches, and the refusal when no voice provider exists.

Clips here are 2 s at a third of the format's size (LOCAL_VIDEO_SCALE): these tests are about plumbing;
the renderer's quality is covered by tests/unit/test_i16video_media.py."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD


@pytest.fixture
def small_clips(app):
    old = app.config.get("LOCAL_VIDEO_SCALE", 1.0)
    app.config["LOCAL_VIDEO_SCALE"] = 1 / 3
    yield
    app.config["LOCAL_VIDEO_SCALE"] = old


@pytest.fixture
def producer(app, make_user, photo_jpeg):
    """A logged-in producer with a token, an image in the library and a show."""
    from webapp.extensions import db
    from webapp.models import Performance, Show, User, utcnow
    from webapp.services import tokens
    from webapp.services.assets import ingest_upload

    uid, email = make_user()
    with app.app_context():
        user = db.session.get(User, uid)
        _, token = tokens.create(user, "video", "write")
        asset = ingest_upload(user, photo_jpeg, "night-parade.jpg").asset
        show = Show(owner_id=uid, title="The Night Parade", venue_name="Blue Room")
        show.performances.append(Performance(starts_at=utcnow(), timezone="UTC"))
        db.session.add(show)
        db.session.commit()
        ids = {"user": uid, "asset": asset.id, "show": show.id, "token": token}
    web = app.test_client()
    assert web.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return {**ids, "web": web, "api": app.test_client(), "auth": {"Authorization": f"Bearer {token}"}}


def _job(app, job_id):
    from webapp.extensions import db
    from webapp.models import Job

    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def _asset(app, asset_id):
    from webapp.extensions import db
    from webapp.models import Asset

    with app.app_context():
        asset = db.session.get(Asset, asset_id)
        db.session.expunge(asset)
        return asset


def test_api_video_job_stores_a_playable_clip_asset(app, producer, run_jobs, small_clips):
    resp = producer["api"].post(
        "/api/v1/videos",
        json={
            "asset_id": producer["asset"],
            "format": "story",
            "seconds": 2,
            "title_reveal": True,
            "show_id": producer["show"],
        },
        headers={**producer["auth"], "Idempotency-Key": "clip-1"},
    )
    assert resp.status_code == 202, resp.get_json()
    job = resp.get_json()
    assert job["kind"] == "video" and job["status"] == "queued"
    run_jobs()
    done = producer["api"].get(f"/api/v1/jobs/{job['id']}", headers=producer["auth"]).get_json()
    assert done["status"] == "succeeded", done
    out = done["outputs"][0]
    assert out["media_kind"] == "video" and out["content_type"] == "video/mp4" and out["codec"] == "h264"
    assert (out["width"], out["height"]) == (360, 640)
    assert out["duration_s"] == pytest.approx(2.0, abs=0.05)
    assert out["filename"] == "night-parade-story.mp4"

    asset = _asset(app, out["id"])
    assert asset.thumb_key and asset.storage_key.endswith(f"-j{job['id']}a1.mp4")
    assert asset.parent_id == producer["asset"] and asset.show_id == producer["show"]
    assert asset.provenance["title_reveal"] is True

    # Download: the right type, and Range (browsers seek in video with it).
    whole = producer["api"].get(out["download_url"], headers=producer["auth"])
    assert whole.status_code == 200 and whole.mimetype == "video/mp4"
    part = producer["web"].get(f"/assets/{out['id']}/file", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.data) == 100 and part.mimetype == "video/mp4"
    thumb = producer["web"].get(f"/assets/{out['id']}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/webp"

    # The same Idempotency-Key gets the same job back.
    again = producer["api"].post(
        "/api/v1/videos",
        json={"asset_id": producer["asset"], "seconds": 2},
        headers={**producer["auth"], "Idempotency-Key": "clip-1"},
    )
    assert again.get_json()["id"] == job["id"]

    # Library: the media filter, the player on the asset page, the API's filterless list.
    videos = producer["web"].get("/library?media=video").get_data(as_text=True)
    assert "night-parade-story.mp4" in videos
    assert "night-parade-story.mp4" not in producer["web"].get("/library?media=image").get_data(as_text=True)
    listed = producer["api"].get("/api/v1/assets?media=video", headers=producer["auth"]).get_json()
    assert [i["id"] for i in listed["items"]] == [out["id"]]
    page = producer["web"].get(f"/assets/{out['id']}").get_data(as_text=True)
    assert "<video" in page and "Duration" in page and "h264" in page


def test_studio_video_mode_to_show_promo_slot(app, producer, run_jobs, small_clips):
    web = producer["web"]
    page = web.get(f"/studio/video?show={producer['show']}")
    assert page.status_code == 200 and "Make the clip" in page.get_data(as_text=True)
    resp = web.post(
        "/studio/video",
        data={
            "asset_id": str(producer["asset"]),
            "format": "square",
            "seconds": "2",
            "motion": "pan-left",
            "provider": "local",
            "show": str(producer["show"]),
        },
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    from webapp.extensions import db
    from webapp.models import Job

    with app.app_context():
        job_id = db.session.scalar(
            select(Job.id).where(Job.owner_id == producer["user"], Job.kind == "video")
        )
    run_jobs()
    partial = web.get(f"/jobs/{job_id}/status", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<video" in partial and "Use as promo clip" in partial
    asset_id = _job(app, job_id).result["asset_ids"][0]
    used = web.post(f"/studio/media/{asset_id}/use", data={"show": str(producer["show"])})
    assert used.status_code == 302 and f"/shows/{producer['show']}" in used.headers["Location"]
    show_page = web.get(f"/shows/{producer['show']}").get_data(as_text=True)
    assert 'data-testid="show-promo-video"' in show_page
    api_show = producer["api"].get(f"/api/v1/shows/{producer['show']}", headers=producer["auth"]).get_json()
    assert api_show["slots"]["promo"] == asset_id
    # An image does not go in the promo slot, and a clip is not an image to auto-format.
    refused = web.post(
        f"/shows/{producer['show']}/media/promo",
        data={"asset_id": str(producer["asset"])},
        follow_redirects=True,
    )
    assert "takes a video" in refused.get_data(as_text=True)
    assert _asset(app, producer["asset"]).media_kind == "image"
    bad = producer["api"].post(f"/api/v1/assets/{asset_id}/auto-format", json={}, headers=producer["auth"])
    assert bad.status_code == 422 and "not an image" in bad.get_json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"seconds": 11}, 422, None),
        ({"format": "vertical"}, 422, None),
        ({"motion": "spin"}, 422, None),
        ({"provider": "openai"}, 422, "cannot make video"),
        ({"asset_id": 2**31 - 1}, 404, None),
        ({"extra": 1}, 422, "Unknown field"),
    ],
)
def test_api_video_refusals_start_nothing(app, producer, body, status, words):
    from sqlalchemy import func

    from webapp.extensions import db
    from webapp.models import Job

    resp = producer["api"].post(
        "/api/v1/videos", json={"asset_id": producer["asset"], **body}, headers=producer["auth"]
    )
    assert resp.status_code == status, resp.get_json()
    if words:
        assert words in str(resp.get_json())
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_voice_without_a_speech_provider_says_how_to_get_one(app, producer):
    resp = producer["api"].post(
        "/api/v1/voiceovers", json={"text": "Tonight only!"}, headers=producer["auth"]
    )
    assert resp.status_code == 422
    assert "premium provider such as Runway" in resp.get_json()["detail"]
    page = producer["web"].get(f"/studio/voice?show={producer['show']}").get_data(as_text=True)
    assert "premium provider such as Runway" in page and "The Night Parade" in page
    posted = producer["web"].post("/studio/voice", data={"text": "Tonight only!"})
    assert posted.status_code == 422 and "premium provider such as Runway" in posted.get_data(as_text=True)


def test_cli_animate_offline_and_voiceover_refusal(app, tmp_path, photo_jpeg, make_user, small_clips):
    from webapp.media.probe import probe

    src = tmp_path / "poster.jpg"
    src.write_bytes(photo_jpeg)
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["animate", str(src), "--format", "landscape", "--seconds", "2", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    clip = tmp_path / "out" / "poster-landscape.mp4"
    info = probe(str(clip), "video/mp4")
    assert (info.width, info.height, info.codec) == (640, 360, "h264")
    assert str(clip) in result.output

    bad = runner.invoke(args=["animate", str(tmp_path / "missing.png"), "--out", str(tmp_path / "out")])
    assert bad.exit_code != 0 and "cannot read the file" in bad.output

    make_user(role="admin")
    refused = runner.invoke(args=["voiceover", "Tonight only!", "--out", str(tmp_path / "out")])
    assert refused.exit_code != 0 and "premium provider such as Runway" in refused.output
    remote = runner.invoke(args=["animate", str(src), "--provider", "openai", "--out", str(tmp_path / "out")])
    assert remote.exit_code != 0 and "cannot make video" in remote.output
    from sqlalchemy import func

    from webapp.extensions import db
    from webapp.models import Asset

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Asset)) == 0, "a refusal stores nothing"


def test_cancel_between_frame_batches_keeps_nothing(app, producer):
    """A running clip stops at its next batch once cancelled: no asset, no file, allowance released.
    The job's own entry point runs in a thread (RQ's worker wants the main thread for its signals)."""
    from pathlib import Path

    from webapp.extensions import db
    from webapp.jobs import video
    from webapp.models import AllowanceReservation, Asset

    app.config["LOCAL_VIDEO_SCALE"] = 0.5
    try:
        resp = producer["api"].post(
            "/api/v1/videos", json={"asset_id": producer["asset"], "seconds": 10}, headers=producer["auth"]
        )
        job_id = resp.get_json()["id"]

        def work() -> None:
            with app.app_context():
                video.run(job_id)

        worker = threading.Thread(target=work)
        worker.start()
        deadline = time.monotonic() + 60
        seen_running = False
        while time.monotonic() < deadline and not seen_running:
            job = _job(app, job_id)
            seen_running = job.status == "running" and job.progress >= 6
            time.sleep(0.01)
        assert seen_running, "the clip never reported progress"
        cancel = producer["api"].delete(f"/api/v1/jobs/{job_id}", headers=producer["auth"])
        assert cancel.status_code in (200, 202), cancel.get_json()
        worker.join(timeout=120)
    finally:
        app.config["LOCAL_VIDEO_SCALE"] = 1.0
    job = _job(app, job_id)
    assert job.status == "cancelled" and job.progress < 95
    with app.app_context():
        assert db.session.scalar(select(Asset).where(Asset.job_id == job_id)) is None
        state = db.session.scalar(
            select(AllowanceReservation.state).where(AllowanceReservation.job_id == job_id)
        )
        assert state == "released"
    media_root = app.config["STORAGE_URL"].removeprefix("file://")
    assert not list(Path(media_root).rglob(f"*-j{job_id}a*"))
