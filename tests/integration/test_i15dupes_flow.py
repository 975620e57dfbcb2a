"""Near-duplicate choice and upscale warnings over HTTP (issue 15), against Postgres, Redis/RQ and storage."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select, update

from tests.conftest import encode_image
from tests.unit.likeness_samples import text_page

pytestmark = pytest.mark.usefixtures("app")

SETTINGS = {
    "output": "jpeg",
    "darken": "15",
    "shadow": "y",
    "fill_poster": "blur",
    "fill_square": "blur",
    "fill_banner": "blur",
}
KEEP = "Keep both and auto-format this upload"
DISCARD = "Use my earlier image and discard this upload"


def _upload(client, data: bytes, name: str, htmx: bool = True):
    form = {**SETTINGS, "image": [(io.BytesIO(data), name)]}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/autoformat", data=form, content_type="multipart/form-data", headers=headers)


def _originals(app) -> list[tuple[int, str]]:
    from webapp.extensions import db
    from webapp.models import Asset

    with app.app_context():
        rows = db.session.execute(
            select(Asset.id, Asset.filename).where(Asset.kind == "original").order_by(Asset.id)
        ).all()
        return [tuple(r) for r in rows]


def _files(root) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _choice_ids(html: str) -> tuple[str, str]:
    new_id = re.search(r'name="new_asset_id" value="(\d+)"', html).group(1)
    existing_id = re.search(r'name="existing_asset_id" value="(\d+)"', html).group(1)
    return new_id, existing_id


def _choose(client, new_id, existing_id, choice: str, htmx: bool = False):
    data = {**SETTINGS, "new_asset_id": new_id, "existing_asset_id": existing_id, "choice": choice}
    return client.post("/autoformat/duplicate", data=data, headers={"HX-Request": "true"} if htmx else {})


@pytest.fixture(scope="module")
def coffee() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.coffee())


def test_text_page_and_green_square_are_not_near_duplicates(app, client, login):
    """The reported case: a scanned text page was "almost the same as" an 8x8 green square."""
    login()
    _upload(client, encode_image(Image.new("RGB", (8, 8), (0, 160, 60)), "PNG"), "green.png")
    html = _upload(client, encode_image(text_page(3, scanned=True), "JPEG", quality=80), "scan.jpg").get_data(
        as_text=True
    )
    assert "already have" not in html and 'id="job-' in html
    assert len(_originals(app)) == 2


def test_choice_page_says_what_each_button_does_and_defaults_to_keeping(
    app, client, login, coffee, media_root
):
    login()
    _upload(client, encode_image(coffee, "JPEG", quality=92), "coffee.jpg")
    copy = encode_image(coffee.resize((200, 133), Image.Resampling.LANCZOS), "JPEG", quality=60)
    html = _upload(client, copy, "coffee-small.jpg").get_data(as_text=True)
    assert "looks like an image you already have" in html and "coffee.jpg" in html
    assert "Nothing is deleted unless you choose to discard it" in html
    # The first button (first in tab order, autofocused, primary style) keeps both; discarding says so.
    buttons = re.findall(
        r'<button class="([^"]+)" type="submit" data-choice="(\w+)"[^>]*?( autofocus)?>([^<]+)<', html
    )
    assert [(cls, choice, focus, label) for cls, choice, focus, label in buttons] == [
        ("btn", "keep", " autofocus", KEEP),
        ("btn btn--ghost", "existing", "", DISCARD),
    ]
    assert "deletes coffee-small.jpg from your library" in html
    # Showing the question deletes nothing, and neither does keeping both.
    files_before = _files(media_root)
    assert [name for _, name in _originals(app)] == ["coffee.jpg", "coffee-small.jpg"]
    new_id, existing_id = _choice_ids(html)
    resp = _choose(client, new_id, existing_id, "keep")
    assert resp.status_code == 302
    assert [name for _, name in _originals(app)] == ["coffee.jpg", "coffee-small.jpg"]
    assert files_before <= _files(media_root)


def test_only_the_explicit_choice_discards_the_upload(app, client, login, coffee, media_root, run_jobs):
    login()
    _upload(client, encode_image(coffee, "JPEG", quality=92), "coffee.jpg")
    run_jobs()
    before = _files(media_root)
    html = _upload(client, encode_image(coffee, "PNG"), "coffee.png").get_data(as_text=True)
    new_id, existing_id = _choice_ids(html)
    # A tampered form cannot turn "discard this upload" into deleting the earlier image.
    assert _choose(client, existing_id, existing_id, "existing").status_code == 400
    assert _choose(client, new_id, existing_id, "delete-everything").status_code == 400
    assert len(_originals(app)) == 2
    resp = _choose(client, new_id, existing_id, "existing", htmx=True)
    assert resp.status_code == 200
    assert "Discarded your upload coffee.png; auto-formatting coffee.jpg" in resp.get_data(as_text=True)
    assert [name for _, name in _originals(app)] == ["coffee.jpg"]
    assert _files(media_root) == before  # the discarded upload's bytes and thumbnail are gone
    run_jobs()


def test_older_assets_get_their_likeness_from_the_thumbnail(app, client, login, coffee):
    from webapp.extensions import db
    from webapp.models import Asset

    login()
    _upload(client, encode_image(coffee, "JPEG", quality=92), "coffee.jpg")
    with app.app_context():
        db.session.execute(update(Asset).values(likeness=None))  # as stored before the signature existed
        db.session.commit()
    html = _upload(client, encode_image(coffee.resize((300, 200)), "JPEG", quality=70), "again.jpg").get_data(
        as_text=True
    )
    assert "looks like an image you already have" in html
    with app.app_context():
        sigs = db.session.scalars(select(Asset.likeness).order_by(Asset.id)).all()
    assert all(s is not None and len(s) > 1000 for s in sigs)


def test_tiny_upload_is_made_but_warned_about_on_the_page_and_in_the_api(app, client, login, run_jobs):
    from webapp.extensions import db
    from webapp.models import Job, User
    from webapp.services import tokens

    uid, _ = login()
    resp = _upload(
        client, encode_image(Image.new("RGB", (8, 8), (0, 160, 60)), "PNG"), "tiny.png", htmx=False
    )
    assert resp.status_code == 302  # made, not refused
    run_jobs()
    with app.app_context():
        job_id = db.session.scalars(select(Job.id).where(Job.owner_id == uid)).one()
        _, token = tokens.create(db.session.get(User, uid), "test", "read")
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "data-upscale-warning" in page
    expected = (
        "This image is 8×8 px; the poster is 1200×1800, so the artwork is enlarged 139× and will look soft. "
        "Upload at least 556×556 px for a sharp poster."
    )
    assert expected in page
    assert "Enlarged 139× from 8×8 px" in page
    api = client.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}).json
    assert api["status"] == "succeeded"
    assert api["result"]["upscale"]["poster"]["message"] == expected
    assert api["result"]["upscale"]["poster"]["min_size"] == [556, 556]
    assert set(api["result"]["upscale"]) == {"poster", "square", "banner"}


def test_a_large_enough_upload_has_no_warning(app, client, login, run_jobs, photo_jpeg):
    uid, _ = login()
    _upload(client, photo_jpeg, "photo.jpg", htmx=False)
    run_jobs()
    from webapp.extensions import db
    from webapp.models import Job

    with app.app_context():
        job = db.session.scalars(select(Job).where(Job.owner_id == uid)).one()
        job_id, result = job.id, job.result
    assert job.status == "succeeded" and result["upscale"] == {}
    assert "data-upscale-warning" not in client.get(f"/jobs/{job_id}").get_data(as_text=True)
