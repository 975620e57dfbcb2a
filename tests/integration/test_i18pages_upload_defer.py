"""Issue 18, pages under load: an upload's thumbnail and colours are made by its job, not in the
request; hostile files are still refused at the door; a raced analysis leaves no file behind.

Real Postgres, Redis, RQ (SimpleWorker through `run_jobs`) and storage; nothing of ours mocked.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import encode_image

pytestmark = pytest.mark.usefixtures("app")


def _upload(client, data: bytes, name: str = "show.jpg"):
    form = {"image": (io.BytesIO(data), name), "output": "jpeg", "darken": "15", "shadow": "y"}
    form.update({"fill_poster": "blur", "fill_square": "blur", "fill_banner": "blur"})
    return client.post("/autoformat", data=form, content_type="multipart/form-data")


def _original(app, owner_id: int):
    from webapp.extensions import db
    from webapp.models import Asset

    with app.app_context():
        asset = db.session.scalar(
            select(Asset)
            .where(Asset.owner_id == owner_id, Asset.kind == "original")
            .order_by(Asset.id.desc())
        )
        facts = {
            "id": asset.id,
            "thumb_key": asset.thumb_key,
            "phash": asset.phash,
            "likeness": asset.likeness,
            "dominant_colors": list(asset.dominant_colors or []),
            "colors": len(asset.colors),
            "storage_key": asset.storage_key,
            "alt_text": asset.alt_text,
            "described_by": asset.described_by,
        }
        db.session.remove()
        return facts


def _files(media_root) -> set[str]:
    return {str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file()}


def test_upload_answers_before_analysis_and_the_job_does_it(
    app, client, login, run_jobs, photo_jpeg, media_root
):
    from webapp.extensions import db
    from webapp.imaging import analyze
    from webapp.imaging.analysis import near_duplicate_keys
    from webapp.models import Job

    uid, _ = login()
    resp = _upload(client, photo_jpeg, "moonlight.jpg")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]

    # Answered: the job is queued, the original stored with what the near-duplicate question needs,
    # and no thumbnail or colours yet: that work waits for the job.
    before = _original(app, uid)
    with app.app_context():
        job = db.session.scalar(select(Job).order_by(Job.id.desc()))
        assert job.status == "queued" and job.input["asset_id"] == before["id"]
        job_id = job.id
    stored = (media_root / before["storage_key"]).read_bytes()
    dhash, likeness = near_duplicate_keys(stored)
    assert before["phash"] == dhash and before["likeness"] == likeness
    assert before["thumb_key"] is None and before["dominant_colors"] == [] and before["colors"] == 0
    assert before["described_by"] == "offline" and before["alt_text"]

    # Until its job has run, the thumbnail address serves the image itself (no analysis in a page).
    thumb = client.get(f"/assets/{before['id']}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert thumb.get_data() == stored

    run_jobs()

    after = _original(app, uid)
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == "succeeded", job.error
    expected = analyze(stored)
    assert after["thumb_key"] and (media_root / after["thumb_key"]).read_bytes() == expected.thumbnail
    assert [c["hex"] for c in after["dominant_colors"]] == [c.hex for c in expected.colors]
    assert after["colors"] == len(expected.colors) > 0
    assert after["phash"] == expected.dhash
    # The offline words are composed again, now that the colours are known.
    from webapp.services.describe import dominant_color_names

    with app.app_context():
        from webapp.models import Asset

        asset = db.session.get(Asset, after["id"])
        names = dominant_color_names(asset)
        assert names and any(name in (asset.alt_text or "") + (asset.description or "") for name in names)
    thumb = client.get(f"/assets/{after['id']}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/webp"
    assert thumb.get_data() == expected.thumbnail


@pytest.mark.parametrize("case", ["truncated", "bomb", "not_an_image"])
def test_hostile_files_are_refused_at_the_door_before_any_job(
    app, client, login, media_root, photo_jpeg, case
):
    from webapp.extensions import db
    from webapp.models import Asset, Job

    if case == "truncated":
        data = photo_jpeg[: len(photo_jpeg) // 3]
    elif case == "bomb":
        # A tiny PNG that claims 20,000 x 20,000 pixels: refused by its header, never decoded.
        data = encode_image(Image.new("L", (20_000, 20_000)), "PNG", optimize=True)
    else:
        data = b"%PDF-1.7\n" + b"0" * 4000
    uid, _ = login()
    files_before = _files(media_root)
    with app.app_context():
        jobs_before = db.session.scalar(select(func.count()).select_from(Job))
    resp = _upload(client, data, "hostile.jpg")
    assert resp.status_code in (400, 413, 422), resp.status_code
    page = resp.get_data(as_text=True)
    assert "JPEG" in page or "PNG" in page or "pixels" in page or "too large" in page.lower()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == jobs_before
        assert db.session.scalar(select(func.count()).select_from(Asset).where(Asset.owner_id == uid)) == 0
    assert _files(media_root) == files_before


def test_a_second_analysis_of_the_same_asset_removes_only_its_own_file(
    app, client, login, photo_jpeg, media_root
):
    from webapp.services.upload_analysis import complete_analysis

    uid, _ = login()
    assert _upload(client, photo_jpeg, "race.jpg").status_code == 302
    original = _original(app, uid)
    with app.app_context():
        assert complete_analysis(original["id"], "j1a1") is True
        files = _files(media_root)
        # The loser of a race (here simply second) finds the work done and leaves nothing behind.
        assert complete_analysis(original["id"], "j2a1") is False
        assert _files(media_root) == files
    done = _original(app, uid)
    assert done["thumb_key"].endswith("-j1a1.webp") and done["thumb_key"] in files
