"""Publishing's other gaps (issue 20): the bulk panel counts published and held images apart and
shows held as a warning, not an error; publishing starts an AI describe job (the real OpenAI SDK
against the fake's /v1/responses) when a describer is set up — best effort, a refusal never undoes
the publish — and changes nothing without one."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.fakes.openai_server import FakeOpenAI
from tests.integration.test_i17moderation_flow import (
    OPENAI_KEY,
    _client,
    assets_of,
    bulk_drafts,
    configure_moderation,
)

PROMPTS = "neon jazz club at night\ndragon battle over the opera house\nsunset folk festival\nstring quartet"


@pytest.fixture
def fake():
    with FakeOpenAI(valid_key=OPENAI_KEY) as server:
        yield server


def _describer(app) -> None:
    """OpenAI (already pointed at the fake by configure_moderation) describes images too."""
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import describe_ai

    with app.app_context():
        admin = db.session.scalar(select(User).where(User.role == "admin"))
        describe_ai.set_describer("openai:gpt-5.4-nano", admin)
        db.session.commit()


def _describe_jobs(app, uid) -> list[list[int]]:
    from webapp.extensions import db
    from webapp.models import Job

    with app.app_context():
        jobs = db.session.scalars(select(Job).where(Job.owner_id == uid, Job.kind == "describe"))
        return [sorted(j.input["asset_ids"]) for j in jobs]


def test_bulk_publish_counts_published_and_held_apart_and_held_is_a_warning(app, make_user, run_jobs, fake):
    make_user(role="admin")
    configure_moderation(app, fake)
    fake.flag_text("dragon", "violence")
    producer, uid = _client(app, make_user)
    batch_id = bulk_drafts(app, uid, run_jobs, PROMPTS)

    page = producer.post(f"/bulk/{batch_id}/publish", follow_redirects=True).get_data(as_text=True)
    assert "3 published, 1 held for review (violence)" in page
    assert "flash--warning" in page and "flash--error" not in page
    # The panel's counts: held images are not counted as published.
    assert "3 published — see them in My images" in page
    assert re.search(r"<span data-held>1 held for review</span>", page)
    statuses = sorted(a.status for a in assets_of(app, uid).values())
    assert statuses == ["held", "published", "published", "published"]

    # The HTMX answer is the same warning, with a 200 (not the 422 of an error).
    batch2 = bulk_drafts(app, uid, run_jobs, "dragon in the foyer\nharp recital")
    resp = producer.post(f"/bulk/{batch2}/publish", headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "flash--warning" in body and "flash--error" not in body
    assert "1 published, 1 held for review (violence)" in body

    # A refusal before anything changes is still an error.
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import moderation

    batch3 = bulk_drafts(app, uid, run_jobs, "cello night")
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.role == "admin"))
        moderation.update_settings(admin, None, True)
    refused = producer.post(f"/bulk/{batch3}/publish", follow_redirects=True).get_data(as_text=True)
    assert "flash--error" in refused and "Publishing needs a moderation check" in refused


def test_bulk_publish_starts_ai_descriptions_for_the_published_images_only(app, make_user, run_jobs, fake):
    make_user(role="admin")
    configure_moderation(app, fake)
    _describer(app)
    fake.flag_text("dragon", "violence")
    producer, uid = _client(app, make_user)
    batch_id = bulk_drafts(app, uid, run_jobs, PROMPTS)

    page = producer.post(f"/bulk/{batch_id}/publish", follow_redirects=True).get_data(as_text=True)
    assert "Descriptions (alt text, title, tags) are being written for 3 images." in page
    assets = assets_of(app, uid)
    published = sorted(a.id for a in assets.values() if a.status == "published")
    assert _describe_jobs(app, uid) == [published]  # the held one is not described
    assert fake.requests_to("/v1/responses") == []  # queued, not yet run
    run_jobs()
    assert len(fake.requests_to("/v1/responses")) == 3
    described = assets_of(app, uid)
    for a in described.values():
        if a.id in published:
            assert a.provenance["ai_description"]["status"] == "described" and a.alt_text


def test_studio_use_as_starts_a_description_and_a_refusal_does_not_undo_the_publish(
    app, make_user, run_jobs, fake, monkeypatch
):
    from webapp.extensions import db
    from webapp.models import Asset, Show, User
    from webapp.services import actions, generation, shows

    make_user(role="admin")
    configure_moderation(app, fake)
    _describer(app)
    producer, uid = _client(app, make_user)
    with app.app_context():
        user = db.session.get(User, uid)
        show_id = shows.create_show(user, {"title": "Night", "venue_name": "Hall"}).id
        for prompt in ("neon jazz club", "folk night"):
            actions.generate(
                user,
                generation.GenerationRequest(
                    prompt=prompt, provider="local", variations=1, image_type="square"
                ),
            )
    run_jobs()
    drafts = assets_of(app, uid)
    first, second = drafts["neon jazz club"].id, drafts["folk night"].id

    resp = producer.post(f"/studio/assets/{first}/assign", data={"show": str(show_id)}, follow_redirects=True)
    text = resp.get_data(as_text=True)
    assert "This image is now the square of Night." in text
    assert "Descriptions (alt text, title, tags) are being written for it." in text
    assert _describe_jobs(app, uid) == [[first]]
    run_jobs()
    assert len(fake.requests_to("/v1/responses")) == 1

    # The describe allowance is used up: publishing still goes ahead, the offline words stay.
    monkeypatch.setitem(app.config, "LIMIT_DESCRIBE_PER_HOUR", 1)
    resp = producer.post(
        f"/studio/assets/{second}/assign", data={"show": str(show_id)}, follow_redirects=True
    )
    text = resp.get_data(as_text=True)
    assert "This image is now the square of Night." in text and "being written" not in text
    with app.app_context():
        row = db.session.get(Asset, second)
        assert row.status == "published" and row.alt_text  # offline words
        assert db.session.get(Show, show_id).square_asset_id == second
    assert _describe_jobs(app, uid) == [[first]]
    run_jobs()
    assert len(fake.requests_to("/v1/responses")) == 1


def test_without_a_describer_publishing_starts_no_describe_job(app, make_user, run_jobs, fake):
    make_user(role="admin")
    configure_moderation(app, fake)
    producer, uid = _client(app, make_user)
    batch_id = bulk_drafts(app, uid, run_jobs, "neon jazz club\nfolk night")
    page = producer.post(f"/bulk/{batch_id}/publish", follow_redirects=True).get_data(as_text=True)
    assert "Published 2 images to your library." in page and "Descriptions" not in page
    assert {a.status for a in assets_of(app, uid).values()} == {"published"}
    assert all(a.alt_text for a in assets_of(app, uid).values())  # the offline words
    run_jobs()
    assert _describe_jobs(app, uid) == [] and fake.requests_to("/v1/responses") == []
