"""Upload -> job on a real RQ worker -> three assets, against real Postgres and Redis."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import encode_image
from tests.jobwait import wait_for_job

pytestmark = pytest.mark.usefixtures("app")


def _upload(client, data: bytes, name: str = "show.jpg", htmx: bool = False, **fields):
    form = {"image": (io.BytesIO(data), name), "output": "jpeg", "darken": "15", "shadow": "y"}
    form.update({"fill_poster": "blur", "fill_square": "blur", "fill_banner": "blur"})
    form.update(fields)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/autoformat", data=form, content_type="multipart/form-data", headers=headers)


def _job(app, job_id=None):
    from webapp.extensions import db
    from webapp.models import Job

    with app.app_context():
        query = select(Job).order_by(Job.id.desc())
        job = db.session.scalar(query if job_id is None else select(Job).where(Job.id == job_id))
        db.session.expunge_all()
        return job


def _count(app, model) -> int:
    from webapp.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _stored_files(media_root) -> list:
    return [p for p in media_root.rglob("*") if p.is_file()]


def test_upload_runs_on_rq_worker_and_produces_three_formats(
    app, client, login, run_jobs, photo_jpeg, media_root
):
    login()
    resp = _upload(client, photo_jpeg)
    assert resp.status_code == 302
    job = _job(app)
    assert resp.headers["Location"].endswith(f"/jobs/{job.id}")
    assert job.status == "queued" and job.mode == "async" and job.rq_id

    run_jobs()

    job = _job(app, job.id)
    assert job.status == "succeeded", job.error
    assert job.progress == 100 and job.attempts == 1
    from webapp.extensions import db
    from webapp.models import Asset

    with app.app_context():
        outputs = {a.kind: a for a in db.session.scalars(select(Asset).where(Asset.job_id == job.id))}
        original = db.session.scalar(select(Asset).where(Asset.kind == "original"))
        assert {k: (a.width, a.height) for k, a in outputs.items()} == {
            "poster": (1200, 1800),
            "square": (1200, 1200),
            "banner": (2160, 1089),
        }
        for a in outputs.values():
            assert a.parent_id == original.id
            assert a.filename == f"show-{a.kind}.jpg"
            assert len(a.sha256) == 64 and a.bytes > 10_000
        ids = {k: a.id for k, a in outputs.items()}

    page = client.get(f"/jobs/{job.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for kind in ("Poster", "Square", "Banner"):
        assert kind in html
    assert 'width="2160" height="1089"' in html
    assert "hx-trigger" not in html  # final state: no polling

    for kind, asset_id in ids.items():
        dl = client.get(f"/assets/{asset_id}/download")
        assert dl.status_code == 200
        assert "attachment" in dl.headers["Content-Disposition"]
        img = Image.open(io.BytesIO(dl.data))
        assert (
            img.format == "JPEG"
            and img.size == {"poster": (1200, 1800), "square": (1200, 1200), "banner": (2160, 1089)}[kind]
        )

    z = client.get(f"/jobs/{job.id}/download.zip")
    assert z.status_code == 200 and z.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(z.data)) as zf:
        names = sorted(zf.namelist())
        assert names == ["show-banner.jpg", "show-poster.jpg", "show-square.jpg"]
        for name in names:
            Image.open(io.BytesIO(zf.read(name))).verify()
    assert len(_stored_files(media_root)) == 8  # original + three outputs, each with its thumbnail


def test_htmx_upload_returns_polling_partial_that_stops_when_final(app, client, login, run_jobs, photo_jpeg):
    login()
    resp = _upload(client, photo_jpeg, htmx=True)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    job = _job(app)
    assert f'hx-get="/jobs/{job.id}/status"' in html
    assert "hx-trigger" in html
    assert resp.headers["HX-Push-Url"] == f"/jobs/{job.id}"
    assert "<html" not in html  # a partial, not a page

    partial = client.get(f"/jobs/{job.id}/status", headers={"HX-Request": "true"})
    assert "hx-trigger" in partial.get_data(as_text=True)
    run_jobs()
    partial = client.get(f"/jobs/{job.id}/status", headers={"HX-Request": "true"})
    body = partial.get_data(as_text=True)
    assert "hx-trigger" not in body and "hx-get" not in body
    assert "Download all three" in body


def test_same_bytes_uploaded_twice_are_stored_once(app, client, login, run_jobs, photo_jpeg, media_root):
    from webapp.models import Asset

    login()
    _upload(client, photo_jpeg, name="first.jpg")
    resp = _upload(client, photo_jpeg, name="second.jpg", htmx=True)
    assert "exact image before" in resp.get_data(as_text=True)
    run_jobs()
    from webapp.extensions import db

    with app.app_context():
        originals = db.session.scalars(select(Asset).where(Asset.kind == "original")).all()
        assert len(originals) == 1
        # both jobs produced identical outputs: reused, not stored again
        assert db.session.scalar(select(func.count()).select_from(Asset)) == 4
    assert len(_stored_files(media_root)) == 8  # four images and their thumbnails


@pytest.mark.parametrize(
    ("payload", "name", "expected"),
    [
        (b"GIF89a" + b"\x00" * 100, "looks.jpg", "JPEG, PNG or WebP"),
        (b"", "empty.png", "empty"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "vector.png", "JPEG, PNG or WebP"),
    ],
)
def test_refused_upload_says_why_and_stores_nothing(app, client, login, media_root, payload, name, expected):
    from webapp.models import Asset, Job

    login()
    resp = _upload(client, payload, name=name, htmx=True)
    assert resp.status_code == 422
    assert expected in resp.get_data(as_text=True)
    assert _count(app, Asset) == 0 and _count(app, Job) == 0
    assert _stored_files(media_root) == []


def test_truncated_jpeg_is_refused(app, client, login, media_root, photo_jpeg):
    from webapp.models import Asset

    login()
    resp = _upload(client, photo_jpeg[: len(photo_jpeg) // 2])
    assert resp.status_code == 422
    assert "damaged" in resp.get_data(as_text=True) or "truncated" in resp.get_data(as_text=True)
    assert _count(app, Asset) == 0 and _stored_files(media_root) == []


def test_image_over_the_pixel_limit_is_refused_with_limits(app, client, login):
    login()
    big = encode_image(Image.new("RGB", (4100, 300), "red"), "PNG")
    resp = _upload(client, big, name="wide.png")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "4100" in body and "4000" in body


def test_file_over_size_limit_is_refused(app, client, login):
    login()
    resp = _upload(client, b"\xff\xd8\xff" + b"\x00" * (11 * 1024 * 1024), name="huge.jpg")
    assert resp.status_code in (413, 422)
    assert "MB" in resp.get_data(as_text=True)


def test_form_fields_are_validated(app, client, login, photo_jpeg):
    from webapp.models import Job

    login()
    resp = _upload(client, photo_jpeg, darken="95", fill_poster="stretch")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "between 0 and 60" in body
    assert "Not a valid choice" in body
    assert _count(app, Job) == 0


def test_cancelled_queued_job_is_not_run(app, client, login, run_jobs, photo_jpeg):
    from webapp.models import Asset

    login()
    _upload(client, photo_jpeg)
    job = _job(app)
    resp = client.post(f"/jobs/{job.id}/cancel")
    assert resp.status_code == 302
    assert _job(app, job.id).status == "cancelled"
    run_jobs()
    assert _job(app, job.id).status == "cancelled"
    assert _count(app, Asset) == 1  # only the original


def test_failed_job_leaves_nothing_and_can_be_retried(app, client, login, run_jobs, photo_jpeg, media_root):
    from webapp.extensions import db
    from webapp.models import Asset
    from webapp.storage import get_storage

    login()
    _upload(client, photo_jpeg)
    job = _job(app)
    with app.app_context():
        original = db.session.scalar(select(Asset))
        key = original.storage_key
        original_thumb = original.thumb_key
        data = get_storage().get(key)
        get_storage().delete(key)  # the source vanished from storage

    assert original_thumb is None  # the upload's thumbnail is its job's work (issue 18)

    run_jobs()
    failed = _job(app, job.id)
    assert failed.status == "failed"
    assert "no longer in storage" in failed.error
    assert _count(app, Asset) == 1
    # nothing the failed job wrote is left (its analysis of the vanished original made no file)
    assert _stored_files(media_root) == []
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Retry" in page and "no longer in storage" in page

    with app.app_context():
        get_storage().put(key, data, "image/jpeg")
    resp = client.post(f"/jobs/{job.id}/retry")
    assert resp.status_code == 302
    assert _job(app, job.id).status == "queued"
    run_jobs()
    done = _job(app, job.id)
    assert done.status == "succeeded" and done.attempts == 2 and done.error is None
    assert _count(app, Asset) == 4


def test_redis_unreachable_runs_job_in_process_and_says_so(
    pg_url, media_root, queue_prefix, app, make_user, photo_jpeg
):
    from tests.conftest import PASSWORD, make_config
    from webapp import create_app

    down = create_app(make_config(pg_url, media_root, queue_prefix, REDIS_URL="redis://127.0.0.1:1/0"))
    c = down.test_client()
    _, email = make_user()
    assert c.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    resp = _upload(c, photo_jpeg)
    assert resp.status_code == 302
    # The request returns at once; the job runs on the web process's background pool.
    job = wait_for_job(app, _job(app).id)
    assert job.mode == "sync" and job.status == "succeeded"
    page = c.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "No separate job queue is in use, so this runs in the web app itself." in page


def test_no_redis_configured_runs_jobs_in_process(
    pg_url, media_root, queue_prefix, app, make_user, photo_jpeg
):
    from tests.conftest import PASSWORD, make_config
    from webapp import create_app

    local = create_app(make_config(pg_url, media_root, queue_prefix, REDIS_URL=None))
    c = local.test_client()
    _, email = make_user()
    c.post("/login", data={"email": email, "password": PASSWORD})
    resp = _upload(c, photo_jpeg, htmx=True)
    assert resp.status_code == 200
    # Issue 18: the request no longer runs the job; it answers with the polling partial at once,
    # and the same partial then shows the finished job.
    job = _job(app)
    assert job.mode == "sync"
    assert f'id="job-{job.id}"' in resp.get_data(as_text=True)
    wait_for_job(app, job.id)
    partial = c.get(f"/jobs/{job.id}/status", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Download all three" in partial


def test_another_producer_gets_404_for_jobs_assets_and_zips(app, client, login, run_jobs, photo_jpeg):
    login()
    _upload(client, photo_jpeg)
    run_jobs()
    job = _job(app)
    asset_id = job.result["asset_ids"][0]

    other = app.test_client()
    login(the_client=other)
    for url in (
        f"/jobs/{job.id}",
        f"/jobs/{job.id}/status",
        f"/jobs/{job.id}/download.zip",
        f"/assets/{asset_id}/file",
        f"/assets/{asset_id}/download",
    ):
        assert other.get(url, headers={"HX-Request": "true"}).status_code == 404, url
    assert other.post(f"/jobs/{job.id}/retry").status_code == 404
    assert other.post(f"/jobs/{job.id}/cancel").status_code == 404
    assert "show.jpg" not in other.get("/library").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_login(app):
    anon = app.test_client()
    for url in ("/autoformat", "/library", "/jobs", "/jobs/1", "/assets/1/file"):
        resp = anon.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url


def test_library_and_jobs_pages_list_the_producers_work(app, client, login, run_jobs, photo_jpeg):
    login()
    _upload(client, photo_jpeg, name="Noël à Paris.jpg")
    run_jobs()
    lib = client.get("/library").get_data(as_text=True)
    assert lib.count('<li class="tile') == 1 and "+3 formats" in lib  # issue 19: one stack
    assert "Noël à Paris-poster.jpg" in lib
    jobs = client.get("/jobs").get_data(as_text=True)
    assert "Auto-format" in jobs and "Done" in jobs


def test_png_and_webp_outputs_on_request(app, client, login, run_jobs, photo_png):
    login()
    _upload(client, photo_png, name="coffee.png", output="webp")
    run_jobs()
    job = _job(app)
    assert job.status == "succeeded", job.error
    data = client.get(f"/assets/{job.result['asset_ids'][2]}/download").data
    img = Image.open(io.BytesIO(data))
    assert img.format == "WEBP" and img.size == (2160, 1089)
