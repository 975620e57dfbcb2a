"""Originals are stored without private metadata (issue 14), through the real upload doors and
downloaded back over HTTP: GPS, serials, artist/owner, XMP/IPTC and PNG text are gone; the ICC
profile and orientation stay; the pixels decode to the same bytes; the asset's sha256 is the hash
of the stored file, so re-uploading the same photo is still recognised as the same asset."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image
from sqlalchemy import select

from tests.i14rest_samples import (
    GPS_IFD,
    ORIENTATION,
    jpeg_with_private_metadata,
    leaks,
    pixels,
    png_with_private_metadata,
    srgb_icc,
)

pytestmark = pytest.mark.usefixtures("app")


def _web_upload(client, data: bytes, name: str):
    form = {"image": (io.BytesIO(data), name), "output": "jpeg", "darken": "15", "shadow": "y"}
    form.update({"fill_poster": "blur", "fill_square": "blur", "fill_banner": "blur"})
    return client.post("/autoformat", data=form, content_type="multipart/form-data")


def _originals(app) -> list:
    from webapp.extensions import db
    from webapp.models import Asset

    with app.app_context():
        rows = list(db.session.scalars(select(Asset).where(Asset.kind == "original").order_by(Asset.id)))
        db.session.expunge_all()
        return rows


def _check_clean(original: bytes, served: bytes) -> None:
    assert leaks(original) and leaks(served) == []
    with Image.open(io.BytesIO(served)) as im:
        assert dict(im.getexif()) == {ORIENTATION: 6} and not im.getexif().get_ifd(GPS_IFD)
        assert im.info.get("icc_profile") == srgb_icc()
        assert not getattr(im, "text", {})
    assert pixels(served) == pixels(original)


def test_a_jpeg_uploaded_on_the_page_is_stored_and_served_without_private_metadata(app, client, login):
    login()
    data = jpeg_with_private_metadata()
    assert _web_upload(client, data, "gig.jpg").status_code == 302
    (asset,) = _originals(app)
    resp = client.get(f"/assets/{asset.id}/download")
    assert resp.status_code == 200
    served = resp.get_data()
    _check_clean(data, served)
    # Identity is the stored bytes: the row's hash and size describe the file it serves.
    assert asset.sha256 == hashlib.sha256(served).hexdigest() and asset.bytes == len(served)
    # The same photo again is the same asset (dedupe and idempotency still hold).
    assert _web_upload(client, data, "gig-again.jpg").status_code == 302
    assert [a.id for a in _originals(app)] == [asset.id]


def test_a_png_uploaded_through_the_api_loses_its_text_chunks(app, client, make_user):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import tokens

    uid, _ = make_user()
    with app.app_context():
        _, token = tokens.create(db.session.get(User, uid), "t", "write")
    h = {"Authorization": f"Bearer {token}"}
    data = png_with_private_metadata()
    resp = client.post(
        "/api/v1/auto-format",
        data={"file": (io.BytesIO(data), "poster.png")},
        headers=h,
        content_type="multipart/form-data",
    )
    assert resp.status_code == 202, resp.json
    (asset,) = _originals(app)
    served = client.get(f"/api/v1/assets/{asset.id}/download", headers=h)
    assert served.status_code == 200
    _check_clean(data, served.get_data())
    for kind in (b"tEXt", b"zTXt", b"iTXt", b"tIME"):
        assert kind not in served.get_data()


def test_maintenance_strips_originals_stored_before_the_filter(
    app, pg_url, media_root, queue_prefix, make_user
):
    """With STRIP_PRIVATE_METADATA off an upload is stored byte for byte; such originals are
    cleaned by `flask maintenance strip-metadata`: dry run first (nothing changes), then for real
    (new file, old one gone, row points at the new one)."""
    from tests.conftest import PASSWORD, make_config
    from webapp import create_app

    before = create_app(make_config(pg_url, media_root, queue_prefix, STRIP_PRIVATE_METADATA=False))
    _, email = make_user()
    c = before.test_client()
    assert c.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    data = jpeg_with_private_metadata()
    assert _web_upload(c, data, "gig.jpg").status_code == 302
    (asset,) = _originals(app)
    old_file = media_root / asset.storage_key
    assert old_file.read_bytes() == data

    runner = app.test_cli_runner()
    out = runner.invoke(args=["maintenance", "strip-metadata", "--dry-run"])
    assert out.exit_code == 0, out.output
    assert "would clean 1" in out.output and _originals(app)[0].sha256 == asset.sha256

    out = runner.invoke(args=["maintenance", "strip-metadata"])
    assert out.exit_code == 0, out.output
    (cleaned,) = _originals(app)
    assert cleaned.id == asset.id and cleaned.storage_key != asset.storage_key
    assert not old_file.exists()
    served = c.get(f"/assets/{asset.id}/download").get_data()
    _check_clean(data, served)
    assert cleaned.sha256 == hashlib.sha256(served).hexdigest() and cleaned.bytes == len(served)
    # Running it again finds nothing to do.
    assert "cleaned 0" in runner.invoke(args=["maintenance", "strip-metadata"]).output
