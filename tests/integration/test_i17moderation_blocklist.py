"""The prompt block list (issue 17): edited on the admin page (audited), it refuses a prompt at every
generation door — studio, API, CLI, bulk, voice — naming the term, before any job, reservation or
paid call: the OpenAI fake receives no generation request and the ledger does not move."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.fakes.openai_server import FakeOpenAI

OPENAI_KEY = "sk-blocklist-test-7c1d"


@pytest.fixture
def fake():
    with FakeOpenAI(valid_key=OPENAI_KEY) as server:
        yield server


def _client(app, make_user, role="producer"):
    uid, email = make_user(role=role)
    c = app.test_client()
    assert c.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return c, uid


def _counts(app) -> tuple[int, int, int, int]:
    from webapp.extensions import db
    from webapp.models import AllowanceReservation, BulkBatch, Job, UsageEvent

    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(m))
            for m in (Job, UsageEvent, AllowanceReservation, BulkBatch)
        )


def test_blocked_terms_are_refused_at_every_door_before_anything_is_paid(app, make_user, fake, tmp_path):
    from webapp.extensions import db
    from webapp.models import AuditEvent
    from webapp.services import keys, providers, tokens

    with app.app_context():
        providers.ensure_providers()
        row = providers.get_provider("openai")
        providers.update_settings(row, {"enabled": True, "base_url": fake.url})
        keys.set_platform_key(row, OPENAI_KEY)
    admin, admin_id = _client(app, make_user, "admin")
    resp = admin.post(
        "/admin/moderation", data={"what": "blocklist", "blocklist": "Blood Bath\n gore , \nblood bath"}
    )
    assert resp.status_code == 302
    page = admin.get("/admin/moderation").get_data(as_text=True)
    assert "blood bath\ngore" in page
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "moderation.blocklist"))
        assert event.detail["added"] == ["blood bath", "gore"] and event.actor_id == admin_id
    # Producers cannot edit it.
    producer, uid = _client(app, make_user)
    assert producer.post("/admin/moderation", data={"what": "blocklist", "blocklist": ""}).status_code == 404

    fake.reset()
    before = _counts(app)
    # Studio.
    studio = producer.post(
        "/studio/generate",
        data={
            "prompt": "A BLOOD-BATH at the opera",
            "provider": "openai",
            "image_type": "poster",
            "variations": "1",
        },
        follow_redirects=True,
    )
    assert "“blood bath”" in studio.get_data(as_text=True) and "block list" in studio.get_data(as_text=True)
    # API (generation and voice-over).
    with app.app_context():
        from webapp.models import User

        _, token = tokens.create(db.session.get(User, uid), "t", "write")
    h = {"Authorization": f"Bearer {token}"}
    api = producer.post(
        "/api/v1/ai-generate",
        json={"prompt": "gore galore", "provider": "openai", "image_type": "square"},
        headers=h,
    )
    assert api.status_code == 422 and "“gore”" in api.json["detail"]
    voice = producer.post("/api/v1/voiceovers", json={"text": "Tonight: a blood bath of sound!"}, headers=h)
    assert voice.status_code == 422 and "“blood bath”" in voice.json["detail"]
    # Bulk.
    bulk = producer.post(
        "/bulk/review",
        data={
            "prompts": "jazz night\nall the gore you want",
            "engine": "openai:gpt-image-1.5",
            "image_type": "square",
            "quality": "low",
            "variations": "1",
        },
    )
    assert bulk.status_code == 422 and "“gore”" in bulk.get_data(as_text=True)
    from webapp.services import bulk as bulk_service

    with app.app_context():
        user = db.session.get(User, uid)
        with pytest.raises(bulk_service.BulkError, match="“gore”"):
            bulk_service.create_and_start(
                user, bulk_service.parse_prompts("gore"), bulk_service.BatchSettings(provider="openai")
            )
    # CLI (as the admin who runs it).
    runner = app.test_cli_runner()
    out = runner.invoke(
        args=["generate", "gore on stage", "--type", "poster", "--provider", "openai", "--out", str(tmp_path)]
    )
    assert out.exit_code != 0 and "“gore”" in out.output

    # Nothing reached the provider, nothing was reserved, queued or ledgered.
    assert fake.requests_to("/images") == []
    assert _counts(app) == before

    # A word that merely contains a term is not blocked ("gorgeous" is not "gore").
    fine = producer.post(
        "/api/v1/ai-generate",
        json={"prompt": "a gorgeous stage", "provider": "local", "image_type": "square"},
        headers=h,
    )
    assert fine.status_code == 202


def test_the_list_is_validated_and_nothing_is_saved_on_an_error(app, make_user):
    from webapp.services import prompt_screen

    admin, _ = _client(app, make_user, "admin")
    resp = admin.post("/admin/moderation", data={"what": "blocklist", "blocklist": "x" * 81})
    assert resp.status_code == 422 and "longer than 80 characters" in resp.get_data(as_text=True)
    with app.app_context():
        assert prompt_screen.terms() == []
