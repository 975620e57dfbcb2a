"""The bulk generator over HTTP: start (paste, CSV, review), watch, controls, publish, close, ZIP,
and who may see or change a batch."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from sqlalchemy import func, select

pytestmark = pytest.mark.usefixtures("app")

SETTINGS = {"engine": "local:local-sketch", "image_type": "square", "quality": "medium", "variations": "1"}


def _engine(app) -> str:
    from webapp.providers import REGISTRY

    return f"local:{REGISTRY['local'].spec.default_model}"


def _review(client, app, text: str, **extra):
    data = {**SETTINGS, "engine": _engine(app), "prompts": text, **extra}
    return client.post("/bulk/review", data=data, content_type="multipart/form-data")


def _confirm_fields(html: str) -> dict[str, str]:
    """The hidden fields of the review page's "Start batch" form, as the browser would send them."""
    form = html[html.index('action="/bulk/start"') :]
    form = form[: form.index("</form>")]
    import html as html_lib

    return {
        name: html_lib.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    }


def _start(client, app, text: str, **extra) -> int:
    page = _review(client, app, text, **extra)
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    resp = client.post("/bulk/start", data=_confirm_fields(page.get_data(as_text=True)))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def _batch(app, batch_id):
    from webapp.extensions import db
    from webapp.models import BulkBatch

    with app.app_context():
        batch = db.session.get(BulkBatch, batch_id)
        db.session.expunge_all()
        return batch


def _items(app, batch_id):
    from webapp.extensions import db
    from webapp.models import BulkItem

    with app.app_context():
        rows = db.session.scalars(
            select(BulkItem).where(BulkItem.batch_id == batch_id).order_by(BulkItem.position, BulkItem.id)
        ).all()
        db.session.expunge_all()
        return rows


def _images(app, batch_id):
    from webapp.extensions import db
    from webapp.models import BulkImage

    with app.app_context():
        rows = db.session.scalars(
            select(BulkImage).where(BulkImage.batch_id == batch_id).order_by(BulkImage.id)
        ).all()
        db.session.expunge_all()
        return rows


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in ("/bulk", "/bulk/1", "/bulk/1/updates"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.post("/bulk/1/pause").status_code in (302, 400)


def test_producer_without_own_key_runs_free_bulk_but_not_platform_paid(client, login, app, run_jobs):
    """Free offline work is open to every producer; platform-paid bulk is refused with the reason."""
    from tests.conftest import provider_row
    from webapp.extensions import db
    from webapp.models import BulkBatch, Provider

    row = provider_row(app, "openai")
    with app.app_context():
        db.session.get(Provider, row.id).enabled = True  # a paid platform provider is on offer
        db.session.commit()
    login()
    page = client.get("/bulk").get_data(as_text=True)
    assert 'action="/bulk/review"' in page and "<textarea" in page
    batch_id = _start(client, app, "a lone trumpet at dawn\nneon jazz club")
    run_jobs()
    assert _batch(app, batch_id).status == "finished"
    assert len(_images(app, batch_id)) == 2
    review = _review(client, app, "a poster", engine="openai:gpt-image-1.5")
    text = review.get_data(as_text=True)
    assert "own provider key" in text and "free generator" in text
    assert "disabled" in text.split("Start batch")[0].rsplit("<button", 1)[1]
    fields = _confirm_fields(text)
    resp = client.post("/bulk/start", data=fields, follow_redirects=True)
    assert "own provider key" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BulkBatch)) == 1


def test_problems_are_listed_next_to_the_textarea_with_line_numbers(client, login, app):
    login(role="admin")
    resp = _review(client, app, "jazz night\n\n   \nJazz Night\n" + "x" * 1001)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "Line 3 is only whitespace" in page
    assert "Line 4 repeats line 1" in page
    assert "Line 5 is 1001 characters" in page
    assert 'aria-invalid="true"' in page


def test_review_shows_prompts_images_cost_and_time_before_anything_is_spent(client, login, app):
    login(role="admin")
    page = _review(client, app, "neon jazz\nfolk festival\nopera gala", variations="2").get_data(as_text=True)
    assert "Start batch" in page and "Estimated cost" in page and "Estimated time" in page
    assert re.search(r"<dt>Prompts</dt><dd>3</dd>", page) and re.search(r"<dt>Images</dt><dd>6</dd>", page)
    from webapp.extensions import db
    from webapp.models import BulkBatch

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BulkBatch)) == 0


def test_csv_upload_keeps_per_row_type_style_and_variations(client, login, app, run_jobs):
    login(role="admin")
    csv_bytes = b"prompt,type,style,variations\nopera gala,banner,vintage,2\nballet night,,,\n"
    data = {**SETTINGS, "engine": _engine(app), "upload": (io.BytesIO(csv_bytes), "prompts.csv")}
    page = client.post("/bulk/review", data=data, content_type="multipart/form-data")
    assert page.status_code == 200
    assert re.search(r"<dt>Images</dt><dd>3</dd>", page.get_data(as_text=True))
    resp = client.post("/bulk/start", data=_confirm_fields(page.get_data(as_text=True)))
    batch_id = int(resp.headers["Location"].rsplit("/", 1)[-1])
    items = _items(app, batch_id)
    assert [(i.prompt, i.image_type, i.style, i.variations) for i in items] == [
        ("opera gala", "banner", "vintage", 2),
        ("ballet night", None, None, None),
    ]
    run_jobs()
    assert len(_images(app, batch_id)) == 3


def test_a_bad_csv_is_refused_with_a_message(client, login, app):
    login(role="admin")
    data = {**SETTINGS, "engine": _engine(app), "upload": (io.BytesIO(b"title\nx\n"), "p.csv")}
    resp = client.post("/bulk/review", data=data, content_type="multipart/form-data")
    assert resp.status_code == 422 and "prompt" in resp.get_data(as_text=True)


def test_run_watch_updates_publish_close_and_zip(client, login, app, run_jobs):
    from webapp.extensions import db
    from webapp.models import Asset

    login(role="admin")
    batch_id = _start(client, app, "neon jazz club\nsunset folk festival\nopera gala in gold", variations="2")
    page = client.get(f"/bulk/{batch_id}").get_data(as_text=True)
    assert 'id="bulk-poll"' in page and "hx-trigger" in page.split('id="bulk-poll"')[1].split(">")[0]
    assert '<noscript><meta http-equiv="refresh"' in page
    run_jobs()

    # The poll sends only what changed: three new tiles appended, the panel, a trigger-less poller.
    upd = client.get(f"/bulk/{batch_id}/updates?after=0&shown=0&v=x", headers={"HX-Request": "true"})
    body = upd.get_data(as_text=True)
    assert body.count('<li class="btile') == 6 and 'hx-swap-oob="beforeend:#bulk-grid"' in body
    assert 'hx-swap-oob="outerHTML"' in body and "Batch finished" in body
    poller = body.split('id="bulk-poll"')[1].split(">")[0]
    assert "hx-trigger" not in poller
    images = _images(app, batch_id)
    last = images[-1].id
    version = re.search(r'data-version="([^"]+)"', body).group(1)
    quiet = client.get(
        f"/bulk/{batch_id}/updates?after={last}&shown=6&v={version}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "btile" not in quiet and "bulk-panel" not in quiet  # nothing new, nothing sent

    # Deselect one tile (the whole shown set is posted, as the checkbox form does).
    keep = [str(i.id) for i in images[1:]]
    resp = client.post(
        f"/bulk/{batch_id}/selection", data={"shown": [str(i.id) for i in images], "ids": keep}
    )
    assert resp.status_code == 302
    assert [i.selected for i in _images(app, batch_id)] == [False] + [True] * 5

    zipped = client.get(f"/bulk/{batch_id}/download.zip?which=selected")
    assert zipped.status_code == 200 and zipped.mimetype == "application/zip"
    assert len(zipfile.ZipFile(io.BytesIO(zipped.data)).namelist()) == 5
    everything = zipfile.ZipFile(io.BytesIO(client.get(f"/bulk/{batch_id}/download.zip?which=all").data))
    assert len(everything.namelist()) == 6
    assert all(name.endswith(".jpg") for name in everything.namelist())

    assert client.post(f"/bulk/{batch_id}/publish").status_code == 302
    library = client.get("/library").get_data(as_text=True)
    with app.app_context():
        published = db.session.scalars(select(Asset).where(Asset.hidden.is_(False))).all()
        assert len(published) == 5
        assert all(a.provenance["provider"] == "local" and a.provenance["prompt"] for a in published)
        assert all(f"/assets/{a.id}" in library for a in published)

    confirm = client.get(f"/bulk/{batch_id}/close").get_data(as_text=True)
    assert "deleted for good" in confirm
    resp = client.post(f"/bulk/{batch_id}/close", follow_redirects=True)
    assert "0 more images published, 1 discarded" in resp.get_data(as_text=True)
    assert _batch(app, batch_id).status == "closed"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Asset)) == 5


def test_close_keeps_selected_images_by_publishing_them(client, login, app, run_jobs):
    from webapp.extensions import db
    from webapp.models import Asset

    login(role="admin")
    batch_id = _start(client, app, "one\ntwo")
    run_jobs()
    first = _images(app, batch_id)[0]
    client.post(f"/bulk/{batch_id}/selection", data={"shown": [str(first.id)]})  # unticked
    resp = client.post(f"/bulk/{batch_id}/close", follow_redirects=True)
    assert "1 more image published, 1 discarded" in resp.get_data(as_text=True)
    with app.app_context():
        assets = db.session.scalars(select(Asset)).all()
        assert len(assets) == 1 and not assets[0].hidden


def test_closing_a_running_batch_is_refused(client, login, app):
    login(role="admin")
    batch_id = _start(client, app, "a\nb")
    resp = client.post(f"/bulk/{batch_id}/close", follow_redirects=True)
    assert "Pause or cancel" in resp.get_data(as_text=True)
    assert _batch(app, batch_id).status == "running"


def test_pause_resume_cancel_move_to_top_over_http(client, login, app, run_jobs):
    login(role="admin")
    batch_id = _start(client, app, "a\nb\nc\nd")
    assert client.post(f"/bulk/{batch_id}/pause").status_code == 302
    assert _batch(app, batch_id).status == "paused"
    run_jobs()  # pumps see the pause and stop
    assert {i.status for i in _items(app, batch_id)} == {"pending"}

    page = client.get(f"/bulk/{batch_id}").get_data(as_text=True)
    assert "Resume" in page and "Paused." in page and "Move to top" in page
    last = _items(app, batch_id)[-1]
    resp = client.post(f"/bulk/{batch_id}/items/{last.id}/top", headers={"HX-Request": "true"})
    assert resp.status_code == 200 and 'id="bulk-panel"' in resp.get_data(as_text=True)
    assert _items(app, batch_id)[0].id == last.id

    assert client.post(f"/bulk/{batch_id}/resume").status_code == 302
    assert _batch(app, batch_id).status == "running"
    from webapp.jobs.bulk import claim_next, process_item

    with app.app_context():
        item_id, token = claim_next(batch_id)
        assert item_id == last.id  # moved to the top: drawn first
        process_item(item_id, token)
    assert client.post(f"/bulk/{batch_id}/cancel").status_code == 302
    run_jobs()
    statuses = sorted(i.status for i in _items(app, batch_id))
    assert statuses == ["cancelled", "cancelled", "cancelled", "succeeded"]
    assert _batch(app, batch_id).status == "cancelled"
    # A second cancel is refused with a message, not a crash.
    resp = client.post(f"/bulk/{batch_id}/cancel", follow_redirects=True)
    assert "cannot be cancelled" in resp.get_data(as_text=True)


def test_retry_failed_and_edit_a_failed_prompt_over_http(client, login, app, run_jobs):
    from sqlalchemy import update

    from webapp.extensions import db
    from webapp.models import BulkBatch, BulkItem, utcnow

    login(role="admin")
    batch_id = _start(client, app, "alpha\nbeta\ngamma")
    run_jobs()
    items = _items(app, batch_id)
    with app.app_context():  # as if two prompts had been refused by the provider
        db.session.execute(
            update(BulkItem)
            .where(BulkItem.id.in_([items[0].id, items[1].id]))
            .values(status="failed", error="Blocked by the provider's safety system.")
        )
        db.session.commit()
    page = client.get(f"/bulk/{batch_id}").get_data(as_text=True)
    assert "Blocked by the provider" in page and "Retry 2 failed" in page and "Edit and retry" in page

    resp = client.post(
        f"/bulk/{batch_id}/items/{items[0].id}/retry", data={"prompt": "alpha, but friendlier"}
    )
    assert resp.status_code == 302
    after = {i.id: i for i in _items(app, batch_id)}
    assert after[items[0].id].prompt == "alpha, but friendlier" and after[items[0].id].status == "pending"
    assert after[items[1].id].status == "failed"  # only the edited one was retried
    assert _batch(app, batch_id).status == "running"
    run_jobs()
    assert {i.status for i in _items(app, batch_id)} == {"succeeded", "failed"}

    assert client.post(f"/bulk/{batch_id}/retry").status_code == 302
    run_jobs()
    assert {i.status for i in _items(app, batch_id)} == {"succeeded"}
    assert _batch(app, batch_id).status == "finished"

    # Editing a prompt that did not fail is refused.
    resp = client.post(
        f"/bulk/{batch_id}/items/{items[2].id}/retry", data={"prompt": "new"}, follow_redirects=True
    )
    assert "Only a failed prompt" in resp.get_data(as_text=True)
    with app.app_context():
        db.session.execute(update(BulkBatch).where(BulkBatch.id == batch_id).values(finished_at=utcnow()))
        db.session.commit()


def test_other_producers_get_404_on_someone_elses_batch(app, client, login, run_jobs):
    login(role="admin")
    batch_id = _start(client, app, "private poster")
    run_jobs()
    image_id = _images(app, batch_id)[0].id
    other = app.test_client()
    login(the_client=other)
    for url in (
        f"/bulk/{batch_id}",
        f"/bulk/{batch_id}/updates",
        f"/bulk/{batch_id}/images/{image_id}",
        f"/bulk/{batch_id}/download.zip",
        f"/bulk/{batch_id}/close",
    ):
        assert other.get(url).status_code == 404, url
    for url in ("pause", "resume", "cancel", "retry", "publish", "select-all", "selection", "close"):
        assert other.post(f"/bulk/{batch_id}/{url}").status_code == 404, url
    assert "private poster" not in other.get("/bulk").get_data(as_text=True)


def test_the_list_shows_batches_and_a_finished_notice(client, login, app, run_jobs):
    login(role="admin")
    batch_id = _start(client, app, "one\ntwo", name="Autumn season")
    run_jobs()
    page = client.get("/bulk").get_data(as_text=True)
    assert "Autumn season" in page and "is finished" in page and f"/bulk/{batch_id}" in page
    preview = client.get(f"/bulk/{batch_id}/images/{_images(app, batch_id)[0].id}").get_data(as_text=True)
    assert "Prompt" in preview and "one" in preview
