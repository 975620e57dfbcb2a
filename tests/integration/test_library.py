"""The media library against real Postgres, Redis/RQ and local storage."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile

import pytest
from PIL import Image
from sqlalchemy import event, func, select

from tests.conftest import encode_image

pytestmark = pytest.mark.usefixtures("app")


def _upload(client, data: bytes, name: str = "show.jpg", htmx: bool = False, files=None):
    form = {
        "output": "jpeg",
        "darken": "15",
        "shadow": "y",
        "fill_poster": "blur",
        "fill_square": "blur",
        "fill_banner": "blur",
    }
    form["image"] = files if files is not None else [(io.BytesIO(data), name)]
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/autoformat", data=form, content_type="multipart/form-data", headers=headers)


def _db(app):
    from webapp.extensions import db

    return db


def _assets(app, **where):
    from webapp.models import Asset

    db = _db(app)
    with app.app_context():
        query = select(Asset).order_by(Asset.id)
        for k, v in where.items():
            query = query.where(getattr(Asset, k) == v)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return rows


def _files(root) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _insert_assets(app, owner_id: int, n: int, start: int = 0) -> None:
    """Rows only (no bytes): enough for query-shape tests."""
    from webapp.models import Asset

    db = _db(app)
    with app.app_context():
        for i in range(start, start + n):
            sha = hashlib.sha256(f"{owner_id}-{i}".encode()).hexdigest()
            db.session.add(
                Asset(
                    owner_id=owner_id,
                    kind=("poster", "square", "original")[i % 3],
                    storage_key=f"users/{owner_id}/x/{sha}.jpg",
                    filename=f"image-{i:04d}.jpg",
                    content_type="image/jpeg",
                    bytes=1000 + i * 7,
                    width=1200,
                    height=1800,
                    sha256=sha,
                    source="upload",
                )
            )
        db.session.commit()


def _tinted(photo: Image.Image, colour: tuple[int, int, int]) -> bytes:
    overlay = Image.new("RGB", photo.size, colour)
    return encode_image(Image.blend(photo, overlay, 0.85), "JPEG", quality=90)


def test_upload_records_thumbnail_hash_and_dominant_colours(
    app, client, login, photo_jpeg, media_root, run_jobs
):
    login()
    _upload(client, photo_jpeg)
    run_jobs()  # the thumbnail and colours are the upload's job's work (issue 18)
    (original,) = _assets(app, kind="original")
    assert original.thumb_key and original.thumb_key in _files(media_root)
    assert re.fullmatch(r"[0-9a-f]{16}", original.phash)
    assert 1 <= len(original.dominant_colors) <= 5
    assert abs(sum(c["share"] for c in original.dominant_colors) - 1) < 0.01
    thumb = client.get(f"/assets/{original.id}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/webp"
    assert max(Image.open(io.BytesIO(thumb.data)).size) <= 480


def test_gallery_filters_by_kind_source_show_and_text(app, client, login, photo_jpeg, run_jobs):
    login()
    _upload(client, photo_jpeg, name="Gala Night.jpg")
    run_jobs()
    # Issue 19: the original and its three formats are one stack, so one tile; a filter that matches
    # a format lists the stack with that format on its tile.
    tile = '<li class="tile'
    page = client.get("/library").get_data(as_text=True)
    assert page.count(tile) == 1 and "+3 formats" in page
    poster = client.get("/library?kind=poster").get_data(as_text=True)
    assert poster.count(tile) == 1 and re.search(r'class="tile__name"[^>]*title="[^"]*-poster\.jpg"', poster)
    assert "3 of 4 in its stack match" in client.get("/library?source=autoformat").get_data(as_text=True)
    assert client.get("/library?source=upload").get_data(as_text=True).count(tile) == 1
    found = client.get("/library?q=gala+night-ban").get_data(as_text=True)
    assert found.count(tile) == 1 and 'title="Gala Night-banner.jpg"' in found
    assert "No images match" in client.get("/library?q=nothing-like-this").get_data(as_text=True)
    # invalid filters are ignored with a message, never a 500
    bad = client.get("/library?kind=evil&sort=drop&color=red&by_color=1&show=99999")
    assert bad.status_code == 200 and bad.get_data(as_text=True).count(tile) == 1


def test_gallery_pages_with_a_keyset_and_sorts(app, client, login):
    uid, _ = login()
    _insert_assets(app, uid, 110)
    first = client.get("/library").get_data(as_text=True)
    names = re.findall(r'title="(image-\d+\.jpg)">', first)
    assert names[0] == "image-0109.jpg" and len(names) == 48
    cursor = re.search(r'href="/library\?cursor=([^"&]+)', first).group(1)
    second = client.get(f"/library?cursor={cursor}", headers={"HX-Request": "true"}).get_data(as_text=True)
    names2 = re.findall(r'title="(image-\d+\.jpg)">', second)
    assert names2[0] == "image-0061.jpg" and "<html" not in second
    oldest = re.findall(
        r'title="(image-\d+\.jpg)">', client.get("/library?sort=oldest").get_data(as_text=True)
    )
    assert oldest[:2] == ["image-0000.jpg", "image-0001.jpg"]
    largest = client.get("/library?sort=largest").get_data(as_text=True)
    assert re.findall(r'title="(image-\d+\.jpg)">', largest)[0] == "image-0109.jpg"
    cursor = re.search(r'cursor=([^"&]+)', largest).group(1)
    page2 = client.get(f"/library?sort=largest&cursor={cursor}").get_data(as_text=True)
    assert re.findall(r'title="(image-\d+\.jpg)">', page2)[0] == "image-0061.jpg"
    assert client.get("/library?cursor=garbage!!").status_code == 200


def test_gallery_runs_a_constant_number_of_sql_statements(app, client, login):
    from webapp.extensions import db

    uid, _ = login()
    counts = []
    for n in (3, 60):
        _insert_assets(app, uid, n, start=len(counts) * 1000)
        statements: list[str] = []
        with app.app_context():
            engine = db.engine

        def count(conn, cursor, statement, *args, _seen=statements):
            _seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            for sort in ("newest", "used", "largest"):
                assert client.get(f"/library?sort={sort}").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_delete_in_use_asset_warns_then_removes_bytes_and_clears_slot(
    app, client, login, photo_jpeg, run_jobs, media_root
):
    from webapp.models import Show, StorageTombstone

    uid, _ = login()
    _upload(client, photo_jpeg)
    run_jobs()
    (poster,) = _assets(app, kind="poster")
    db = _db(app)
    with app.app_context():
        show = Show(owner_id=uid, title="Spring Gala", poster_asset_id=poster.id)
        db.session.add(show)
        db.session.commit()
        show_id = show.id
    warning = client.get(f"/assets/{poster.id}/delete").get_data(as_text=True)
    assert "in use" in warning and "Spring Gala" in warning and "poster slot" in warning
    assert poster.storage_key in _files(media_root)
    resp = client.post(f"/assets/{poster.id}/delete", data={"confirm": "yes"})
    assert resp.status_code == 302
    assert not _assets(app, kind="poster")
    remaining = _files(media_root)
    assert poster.storage_key not in remaining and poster.thumb_key not in remaining
    with app.app_context():
        assert db.session.get(Show, show_id).poster_asset_id is None
        assert db.session.scalar(select(func.count()).select_from(StorageTombstone)) == 0
    # every remaining file belongs to a remaining asset: nothing orphaned
    keys = {k for a in _assets(app) for k in (a.storage_key, a.thumb_key) if k}
    assert remaining == keys


def test_multi_select_delete_asks_first_and_zip_downloads_selection(app, client, login, photo_jpeg, run_jobs):
    login()
    _upload(client, photo_jpeg)
    run_jobs()
    ids = [a.id for a in _assets(app) if a.kind in ("square", "banner")]
    z = client.post("/library/selection", data={"ids": ids, "action": "zip"})
    assert z.status_code == 302
    data = client.get(z.headers["Location"]).data
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == ["show-banner.jpg", "show-square.jpg"]
    confirm = client.post("/library/selection", data={"ids": ids, "action": "delete"})
    assert confirm.status_code == 200 and "Delete 2 images?" in confirm.get_data(as_text=True)
    assert len(_assets(app)) == 4
    done = client.post("/library/selection", data={"ids": ids, "action": "delete", "confirm": "yes"})
    assert done.status_code == 302
    assert sorted(a.kind for a in _assets(app)) == ["original", "poster"]


def test_other_producers_ids_are_ignored_in_selection_and_404_elsewhere(app, client, login, photo_jpeg):
    login()
    _upload(client, photo_jpeg)
    (original,) = _assets(app, kind="original")
    other = app.test_client()
    login(the_client=other)
    for url in (
        f"/assets/{original.id}",
        f"/assets/{original.id}/thumb",
        f"/assets/{original.id}/delete",
        f"/library/download.zip?ids={original.id}",
    ):
        assert other.get(url).status_code == 404, url
    assert other.post(f"/assets/{original.id}/delete", data={"confirm": "yes"}).status_code == 404
    other.post("/library/selection", data={"ids": [original.id], "action": "delete", "confirm": "yes"})
    assert len(_assets(app)) == 1
    assert other.post(f"/assets/{original.id}/autoformat").status_code == 404


def test_near_duplicate_upload_offers_existing_and_can_use_it(app, client, login, media_root, run_jobs):
    from skimage import data

    login()
    photo = Image.fromarray(data.coffee())
    _upload(client, encode_image(photo, "JPEG", quality=92), name="coffee.jpg")
    run_jobs()
    before = _files(media_root)
    copy = encode_image(photo.resize((360, 240), Image.Resampling.LANCZOS), "JPEG", quality=70)
    resp = _upload(client, copy, name="coffee-small.jpg", htmx=True)
    html = resp.get_data(as_text=True)
    assert "looks like an image you already have" in html and "coffee.jpg" in html
    new_id = int(re.search(r'name="new_asset_id" value="(\d+)"', html).group(1))
    existing_id = int(re.search(r'name="existing_asset_id" value="(\d+)"', html).group(1))
    resp = client.post(
        "/autoformat/duplicate",
        data={
            "new_asset_id": new_id,
            "existing_asset_id": existing_id,
            "choice": "existing",
            "output": "jpeg",
            "darken": "15",
            "fill_poster": "blur",
            "fill_square": "blur",
            "fill_banner": "blur",
            "shadow": "y",
        },
    )
    assert resp.status_code == 302
    assert [a.id for a in _assets(app, kind="original")] == [existing_id]
    assert _files(media_root) == before  # the near-duplicate's bytes and thumbnail are gone
    run_jobs()


def test_near_duplicate_keep_both(app, client, login):
    from skimage import data

    login()
    photo = Image.fromarray(data.chelsea())
    _upload(client, encode_image(photo, "JPEG", quality=92), name="cat.jpg")
    html = _upload(client, encode_image(photo, "PNG"), name="cat.png", htmx=True).get_data(as_text=True)
    new_id = re.search(r'name="new_asset_id" value="(\d+)"', html).group(1)
    existing_id = re.search(r'name="existing_asset_id" value="(\d+)"', html).group(1)
    client.post(
        "/autoformat/duplicate",
        data={
            "new_asset_id": new_id,
            "existing_asset_id": existing_id,
            "choice": "keep",
            "output": "jpeg",
            "darken": "15",
            "fill_poster": "blur",
            "fill_square": "blur",
            "fill_banner": "blur",
        },
    )
    assert len(_assets(app, kind="original")) == 2


def test_different_photos_are_not_flagged_as_duplicates(app, client, login, photo_jpeg, photo_png):
    login()
    _upload(client, photo_jpeg, name="astronaut.jpg")
    resp = _upload(client, photo_png, name="coffee.png", htmx=True)
    assert "already have" not in resp.get_data(as_text=True)


def test_colour_search_finds_images_by_dominant_colour(app, client, login, run_jobs):
    from skimage import data

    login()
    base = Image.fromarray(data.astronaut())
    _upload(client, _tinted(base, (220, 30, 30)), name="red.jpg")
    _upload(client, _tinted(base, (30, 60, 220)), name="blue.jpg")
    run_jobs()  # colours are found by the upload's job (issue 18)
    red = client.get("/library?by_color=1&color=%23dc1e1e").get_data(as_text=True)
    assert "red.jpg" in red and "blue.jpg" not in red
    blue = client.get("/library?by_color=1&color=%231e3cdc").get_data(as_text=True)
    assert "blue.jpg" in blue and "red.jpg" not in blue


def test_batch_upload_makes_one_job_per_file_one_view_and_one_zip(
    app, client, login, photo_jpeg, photo_png, run_jobs
):
    from webapp.models import Job

    login()
    files = [
        (io.BytesIO(photo_jpeg), "one.jpg"),
        (io.BytesIO(photo_png), "two.png"),
        (io.BytesIO(b"not an image"), "three.jpg"),
    ]
    resp = _upload(client, b"", files=files)
    assert resp.status_code == 302 and "/jobs/batches/" in resp.headers["Location"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "three.jpg" in page and "JPEG, PNG or WebP" in page  # the refusal, named
    assert page.count('class="job card') == 2
    run_jobs()
    db = _db(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job).where(Job.status == "succeeded")) == 2
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert page.count('data-job-status="succeeded"') == 2
    zipped = client.get(resp.headers["Location"] + "/download.zip")
    with zipfile.ZipFile(io.BytesIO(zipped.data)) as zf:
        assert sorted(zf.namelist()) == sorted(
            [f"{s}-{k}.jpg" for s in ("one", "two") for k in ("poster", "square", "banner")]
        )


def test_asset_detail_shows_provenance_family_and_usage(app, client, login, photo_jpeg, run_jobs):
    login()
    _upload(client, photo_jpeg, name="gala.jpg")
    run_jobs()
    (original,) = _assets(app, kind="original")
    (banner,) = _assets(app, kind="banner")
    page = client.get(f"/assets/{banner.id}").get_data(as_text=True)
    assert "Auto-formatted" in page and f"job #{banner.job_id}" in page and "gala.jpg" in page
    assert "Not used in any show slot" in page and "2160×1089" in page
    page = client.get(f"/assets/{original.id}").get_data(as_text=True)
    assert "Uploaded" in page and "gala-poster.jpg" in page and "Find similar" in page


def test_thumbnail_is_made_once_for_images_that_predate_thumbnails(
    app, client, login, photo_jpeg, media_root, run_jobs
):
    from webapp.models import Asset

    login()
    _upload(client, photo_jpeg)
    run_jobs()
    (original,) = _assets(app, kind="original")
    db = _db(app)
    with app.app_context():
        row = db.session.get(Asset, original.id)
        (media_root / row.thumb_key).unlink()
        row.thumb_key = None
        db.session.commit()
    assert client.get(f"/assets/{original.id}/thumb").mimetype == "image/webp"
    (again,) = _assets(app, kind="original")
    assert again.thumb_key and (media_root / again.thumb_key).is_file()


def test_producer_without_media_assistant_is_told_and_refused(app, client, login, photo_jpeg):
    from webapp.models import Asset, User

    uid, _ = login()
    db = _db(app)
    with app.app_context():
        db.session.get(User, uid).feature_flags = {"media_assistant_enabled": False}
        db.session.commit()
    page = client.get("/library")
    assert page.status_code == 403 and "not enabled for your account" in page.get_data(as_text=True)
    assert client.get("/autoformat").status_code == 403
    assert _upload(client, photo_jpeg).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Asset)) == 0
