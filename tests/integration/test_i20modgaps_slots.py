"""Putting an image in a show slot is publishing (issue 20, closing issue 17's gaps): every door —
the shows page, fill-from-auto-format, the API's select-and-assign, the studio — goes through
`shows.assign_slot` / `fill_slots_from_job`, which moderate a draft first (the real OpenAI SDK
against the fake), refuse held and rejected images, and refuse when moderation is required but no
provider is set up. Auto-formatting a draft gives drafts; an upload's formats stay published."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from tests.fakes.openai_server import FakeOpenAI
from tests.integration.test_i17moderation_flow import OPENAI_KEY, _client, configure_moderation


@pytest.fixture
def fake():
    with FakeOpenAI(valid_key=OPENAI_KEY) as server:
        yield server


def _studio_draft(app, uid, run_jobs, prompt: str) -> tuple[int, int]:
    """(show id, draft id): a show, and a square studio result (a draft, in the library)."""
    from webapp.extensions import db
    from webapp.models import Asset, User
    from webapp.services import actions, generation, shows

    with app.app_context():
        user = db.session.get(User, uid)
        show_id = shows.create_show(user, {"title": "Night", "venue_name": "Hall"}).id
        job = actions.generate(
            user,
            generation.GenerationRequest(prompt=prompt, provider="local", variations=1, image_type="square"),
        )
        job_id = job.id
    run_jobs()
    with app.app_context():
        [draft] = db.session.scalars(select(Asset).where(Asset.job_id == job_id)).all()
        assert draft.status == "draft" and not draft.hidden
        return show_id, draft.id


def _row(app, model, row_id):
    from webapp.extensions import db

    with app.app_context():
        row = db.session.get(model, row_id)
        db.session.expunge(row)
        return row


def test_a_flagged_draft_is_refused_from_a_show_slot_and_left_held(app, make_user, run_jobs, fake):
    from webapp.models import Asset, Show

    make_user(role="admin")
    configure_moderation(app, fake)
    fake.flag_text("skull", "violence")
    producer, uid = _client(app, make_user)
    show_id, draft_id = _studio_draft(app, uid, run_jobs, "a burning skull")

    resp = producer.post(f"/shows/{show_id}/slots/square", data={"asset_id": draft_id})
    assert resp.status_code == 422
    assert "Moderation flagged this image (violence)" in resp.get_data(as_text=True)
    row = _row(app, Asset, draft_id)
    assert row.status == "held" and row.moderation["categories"] == ["violence"]
    assert _row(app, Show, show_id).square_asset_id is None
    assert len(fake.requests_to("/v1/moderations")) == 1

    # Held now: refused again without a second check (a staff decision is needed).
    again = producer.post(f"/shows/{show_id}/slots/square", data={"asset_id": draft_id})
    assert again.status_code == 422
    assert "held until a staff member approves it" in again.get_data(as_text=True)
    assert len(fake.requests_to("/v1/moderations")) == 1
    assert _row(app, Show, show_id).square_asset_id is None


def test_a_clean_draft_is_published_when_put_in_a_slot_and_a_rejected_one_is_refused(
    app, make_user, run_jobs, fake
):
    from webapp.extensions import db
    from webapp.models import Asset, Show
    from webapp.services import shows

    make_user(role="admin")
    configure_moderation(app, fake)
    producer, uid = _client(app, make_user)
    show_id, draft_id = _studio_draft(app, uid, run_jobs, "neon jazz club")
    resp = producer.post(f"/shows/{show_id}/slots/square", data={"asset_id": draft_id})
    assert resp.status_code == 302
    row = _row(app, Asset, draft_id)
    assert row.status == "published" and row.moderation["state"] == "clean" and row.alt_text
    assert _row(app, Show, show_id).square_asset_id == draft_id

    # A rejected image (staff said no) is refused by the service every door uses.
    _, other_id = _studio_draft(app, uid, run_jobs, "folk night")
    with app.app_context():
        db.session.get(Asset, other_id).status = "rejected"
        db.session.commit()
        show = db.session.get(Show, show_id)
        try:
            shows.assign_slot(show, "square", db.session.get(Asset, other_id))
        except ValueError as exc:
            assert "Staff rejected this image in moderation" in str(exc)
        else:
            raise AssertionError("a rejected image went into a slot")
    assert _row(app, Show, show_id).square_asset_id == draft_id


def test_moderation_required_without_a_provider_refuses_slot_assignment_on_every_door(
    app, make_user, run_jobs
):
    from webapp.extensions import db
    from webapp.models import Asset, Show, User
    from webapp.services import moderation, tokens

    admin_id, _ = make_user(role="admin")
    producer, uid = _client(app, make_user)
    with app.app_context():
        moderation.update_settings(db.session.get(User, admin_id), None, True)
    show_id, draft_id = _studio_draft(app, uid, run_jobs, "neon jazz club")

    web = producer.post(f"/shows/{show_id}/slots/square", data={"asset_id": draft_id})
    assert web.status_code == 422
    assert "Publishing needs a moderation check" in web.get_data(as_text=True)

    studio = producer.post(
        f"/studio/assets/{draft_id}/assign", data={"show": str(show_id)}, follow_redirects=True
    )
    assert "Publishing needs a moderation check" in studio.get_data(as_text=True)

    with app.app_context():
        _, token = tokens.create(db.session.get(User, uid), "t", "write")
        job_id = db.session.get(Asset, draft_id).job_id
    api = producer.post(
        f"/api/v1/ai-generate/{job_id}/select",
        json={"asset_ids": [draft_id], "assign": {"show_id": show_id, "slot": "square"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 422, api.get_data(as_text=True)[:300]
    assert "Publishing needs a moderation check" in api.get_data(as_text=True)

    assert _row(app, Asset, draft_id).status == "draft"
    assert _row(app, Show, show_id).square_asset_id is None


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (1400, 900), (30, 60, 200)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _formats_of(app, user_id, asset_id, run_jobs) -> tuple[int, list]:
    from webapp.extensions import db
    from webapp.models import Asset, User
    from webapp.services import actions

    with app.app_context():
        job_id = actions.autoformat_asset(db.session.get(User, user_id), asset_id).id
    run_jobs()
    with app.app_context():
        rows = list(db.session.scalars(select(Asset).where(Asset.job_id == job_id)))
        for r in rows:
            db.session.expunge(r)
    assert len(rows) == 3
    return job_id, rows


def test_auto_formatting_a_draft_gives_drafts_and_filling_slots_from_them_moderates_them(
    app, make_user, run_jobs, fake
):
    from webapp.extensions import db
    from webapp.models import Asset, Job, Show, User
    from webapp.services.assets import ingest_upload

    make_user(role="admin")
    configure_moderation(app, fake)
    producer, uid = _client(app, make_user)
    show_id, draft_id = _studio_draft(app, uid, run_jobs, "neon jazz club")

    job_id, outputs = _formats_of(app, uid, draft_id, run_jobs)
    assert _row(app, Job, job_id).status == "succeeded"
    assert {a.status for a in outputs} == {"draft"}  # not published behind moderation's back

    # An upload by the producer is published, and so are its formats (unchanged).
    with app.app_context():
        upload = ingest_upload(db.session.get(User, uid), _jpeg(), "stage.jpg").asset
        assert upload.status == "published"
        upload_id = upload.id
    _, upload_outputs = _formats_of(app, uid, upload_id, run_jobs)
    assert {a.status for a in upload_outputs} == {"published"}

    # Every image is flagged now: filling the slots from the draft's formats holds them, fills nothing.
    fake.flag_image(lambda _img: True, "violence/graphic")
    resp = producer.post(f"/shows/{show_id}/fill-from-job", data={"job_id": job_id})
    assert resp.status_code == 422
    assert "Moderation flagged this image (violence/graphic)" in resp.get_data(as_text=True)
    show = _row(app, Show, show_id)
    assert (show.poster_asset_id, show.square_asset_id, show.banner_asset_id) == (None, None, None)
    held = _row(app, Asset, outputs[0].id)
    assert held.status == "held"

    # The same from a clean draft's formats: checked, published, in the slots.
    fake.flagged_images.clear()
    _, clean_id = _studio_draft(app, uid, run_jobs, "sunset folk festival")
    clean_job, clean_outputs = _formats_of(app, uid, clean_id, run_jobs)
    assert {a.status for a in clean_outputs} == {"draft"}
    ok = producer.post(f"/shows/{show_id}/fill-from-job", data={"job_id": clean_job})
    assert ok.status_code == 302, ok.get_data(as_text=True)[:300]
    show = _row(app, Show, show_id)
    by_kind = {a.kind: a.id for a in clean_outputs}
    assert (show.poster_asset_id, show.square_asset_id, show.banner_asset_id) == (
        by_kind["poster"],
        by_kind["square"],
        by_kind["banner"],
    )
    assert {_row(app, Asset, i).status for i in by_kind.values()} == {"published"}
    assert all(_row(app, Asset, i).moderation["state"] == "clean" for i in by_kind.values())
