"""Moderation before publishing (issue 17): bulk results are drafts; publishing checks them with
OpenAI omni-moderation (the fake server, the official SDK); flagged images are held for staff, whose
decision is audited and e-mailed over real SMTP; the library and the API filter by status."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.fakes.openai_server import FakeOpenAI

OPENAI_KEY = "sk-moderation-test-9f3a"
PROMPTS = "neon jazz club at night\ndragon battle over the opera house\nsunset folk festival"


@pytest.fixture
def fake():
    with FakeOpenAI(valid_key=OPENAI_KEY) as server:
        yield server


def _client(app, make_user, role="producer"):
    uid, email = make_user(role=role)
    c = app.test_client()
    assert c.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return c, uid


def configure_moderation(app, fake, required: bool = False) -> None:
    """The OpenAI provider with a platform key on the fake, chosen as the moderation provider."""
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import keys, moderation, providers

    with app.app_context():
        providers.ensure_providers()
        row = providers.get_provider("openai")
        providers.update_settings(row, {"enabled": True, "base_url": fake.url})
        keys.set_platform_key(row, OPENAI_KEY)
        admin = db.session.scalar(select(User).where(User.role == "admin"))
        moderation.update_settings(admin, "openai", required)


def bulk_drafts(app, uid, run_jobs, prompts=PROMPTS) -> int:
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import bulk

    with app.app_context():
        user = db.session.get(User, uid)
        settings = bulk.BatchSettings(provider="local", image_type="square", variations=1)
        batch = bulk.create_and_start(user, bulk.parse_prompts(prompts), settings)
        batch_id = batch.id
    run_jobs()
    return batch_id


def assets_of(app, uid):
    from webapp.extensions import db
    from webapp.models import Asset

    with app.app_context():
        rows = list(db.session.scalars(select(Asset).where(Asset.owner_id == uid).order_by(Asset.id)))
        for r in rows:
            db.session.expunge(r)
        return {r.prompt: r for r in rows}


def _one_generated(app, uid: int, run_jobs, prompt: str) -> list:
    """One square drawn by the offline provider for this producer (a studio result: a draft)."""
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import actions, generation

    with app.app_context():
        request = generation.GenerationRequest(
            prompt=prompt, provider="local", variations=1, image_type="square"
        )
        actions.generate(db.session.get(User, uid), request)
    run_jobs()
    return list(assets_of(app, uid).values())


def moderation_ledger(app):
    from webapp.extensions import db
    from webapp.models import UsageEvent

    with app.app_context():
        return [
            (e.operation, e.provider, e.model, e.outcome, e.cost, e.key_owner)
            for e in db.session.scalars(select(UsageEvent).where(UsageEvent.operation == "moderate"))
        ]


def audit_actions(app, prefix="moderation."):
    from webapp.extensions import db
    from webapp.models import AuditEvent

    with app.app_context():
        return [
            (e.action, e.target, e.actor_label)
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action.like(f"{prefix}%")).order_by(AuditEvent.id)
            )
        ]


def _mail_text(envelope) -> str:
    from email import message_from_bytes
    from email.policy import default

    msg = message_from_bytes(envelope.content, policy=default)
    return msg["Subject"] + "\n" + msg.get_body(("plain",)).get_content()


def test_bulk_results_are_drafts_and_publish_holds_the_flagged_one_until_staff_approve(
    app, make_user, run_jobs, fake, smtp
):
    make_user(role="admin")
    configure_moderation(app, fake)
    fake.flag_text("dragon", "violence")
    producer, uid = _client(app, make_user)
    batch_id = bulk_drafts(app, uid, run_jobs)
    drafts = assets_of(app, uid)
    assert {a.status for a in drafts.values()} == {"draft"} and all(a.hidden for a in drafts.values())

    resp = producer.post(f"/bulk/{batch_id}/publish", follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "2 published, 1 held for review (violence)" in page  # issue 20: held apart, a warning
    after = assets_of(app, uid)
    dragon = after["dragon battle over the opera house"]
    assert dragon.status == "held" and dragon.moderation["state"] == "flagged"
    assert dragon.moderation["categories"] == ["violence"] and dragon.moderation["scores"]["violence"] > 0.9
    clean = [a for p, a in after.items() if "dragon" not in p]
    assert {a.status for a in clean} == {"published"} and not any(a.hidden for a in clean)
    # Publishing named the file from its title and wrote alt text.
    assert all(a.alt_text and a.filename.endswith(".jpg") and "bulk" not in a.filename for a in clean)
    assert dragon.filename.startswith("square-bulk")  # held: not renamed until published
    # The held tile says why on the batch page.
    batch_page = producer.get(f"/bulk/{batch_id}").get_data(as_text=True)
    assert "Held for review" in batch_page and "violence" in batch_page

    # Each check went through the SDK to the fake and is one ledger row (free by default: $0).
    assert len(fake.requests_to("/v1/moderations")) == 3
    rows = moderation_ledger(app)
    assert len(rows) == 3
    assert {r[:3] for r in rows} == {("moderate", "openai", "omni-moderation-latest")}
    assert sorted(r[3] for r in rows) == ["flagged", "success", "success"]
    assert {r[4] for r in rows} == {Decimal("0")} and {r[5] for r in rows} == {"platform"}

    # Staff see the image, its categories and scores in Approvals.
    staff, _ = _client(app, make_user, "staff")
    queue = staff.get("/admin/approvals").get_data(as_text=True)
    assert f'data-asset="{dragon.id}"' in queue and "violence" in queue and "0.930" in queue
    # Producers cannot decide.
    assert (
        producer.post(f"/admin/approvals/images/{dragon.id}", data={"decision": "approve"}).status_code == 404
    )
    mailed = len(smtp.envelopes)  # the batch's "finished" note went before

    staff.post(
        f"/admin/approvals/images/{dragon.id}", data={"decision": "approve", "reason": "Stage fight, fine."}
    )
    approved = assets_of(app, uid)["dragon battle over the opera house"]
    assert approved.status == "published" and not approved.hidden
    assert approved.moderation["decision"] == "approved" and approved.alt_text
    assert "bulk" not in approved.filename
    assert ("moderation.approve", f"asset:{dragon.id}") in [a[:2] for a in audit_actions(app)]
    assert len(smtp.envelopes) == mailed + 1
    body = _mail_text(smtp.envelopes[-1])
    assert "approved" in body and "violence" in body and "Stage fight, fine." in body
    # Deciding again is refused and sends nothing.
    again = staff.post(
        f"/admin/approvals/images/{dragon.id}", data={"decision": "reject"}, follow_redirects=True
    )
    assert "already decided" in again.get_data(as_text=True) and len(smtp.envelopes) == mailed + 1


def test_reject_keeps_the_image_out_of_the_library_and_the_api_filters_by_status(
    app, make_user, run_jobs, fake, smtp
):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import tokens

    make_user(role="admin")
    configure_moderation(app, fake)
    fake.flag_text("dragon", "violence/graphic")
    producer, uid = _client(app, make_user)
    batch_id = bulk_drafts(app, uid, run_jobs)
    producer.post(f"/bulk/{batch_id}/publish")
    dragon = assets_of(app, uid)["dragon battle over the opera house"]
    with app.app_context():
        _, token = tokens.create(db.session.get(User, uid), "t", "read")
    h = {"Authorization": f"Bearer {token}"}

    held = client_ids(producer.get("/api/v1/assets?status=held", headers=h))
    assert held == [dragon.id]
    item = producer.get(f"/api/v1/assets/{dragon.id}", headers=h).json
    assert item["status"] == "held" and item["moderation"]["categories"] == ["violence/graphic"]
    assert "reviewer" not in item["moderation"]
    assert len(client_ids(producer.get("/api/v1/assets?status=published", headers=h))) == 2
    bad = producer.get("/api/v1/assets?status=maybe", headers=h)
    assert bad.status_code == 422 and "status" in bad.get_data(as_text=True)
    library_held = producer.get("/library?status=held").get_data(as_text=True)
    assert f'id="asset-{dragon.id}"' in library_held and "Held" in library_held

    staff, _ = _client(app, make_user, "staff")
    mailed = len(smtp.envelopes)
    staff.post(f"/admin/approvals/images/{dragon.id}", data={"decision": "reject", "reason": "Too gory."})
    rejected = assets_of(app, uid)["dragon battle over the opera house"]
    assert rejected.status == "rejected" and rejected.hidden
    everything = producer.get("/library").get_data(as_text=True)
    assert f'id="asset-{dragon.id}"' not in everything
    assert f'id="asset-{dragon.id}"' in producer.get("/library?status=rejected").get_data(as_text=True)
    assert dragon.id not in client_ids(producer.get("/api/v1/assets", headers=h))
    assert client_ids(producer.get("/api/v1/assets?status=rejected", headers=h)) == [dragon.id]
    assert ("moderation.reject", f"asset:{dragon.id}") in [a[:2] for a in audit_actions(app)]
    assert len(smtp.envelopes) == mailed + 1 and "rejected" in _mail_text(smtp.envelopes[-1])


def client_ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return [i["id"] for i in resp.json["items"]]


def test_moderation_required_without_a_provider_refuses_to_publish_and_not_required_publishes_unchecked(
    app, make_user, run_jobs
):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import moderation

    admin_id, _ = make_user(role="admin")
    producer, uid = _client(app, make_user)
    batch_id = bulk_drafts(app, uid, run_jobs, "neon jazz club\nfolk night")
    with app.app_context():
        moderation.update_settings(db.session.get(User, admin_id), None, True)
    page = producer.post(f"/bulk/{batch_id}/publish", follow_redirects=True).get_data(as_text=True)
    assert "Publishing needs a moderation check" in page and "Ask an admin" in page
    assert {(a.status, a.hidden) for a in assets_of(app, uid).values()} == {("draft", True)}

    # The admin switches the requirement off on the admin page (audited): publish, marked "not checked".
    admin = app.test_client()
    with app.app_context():
        email = db.session.get(User, admin_id).email
    admin.post("/login", data={"email": email, "password": PASSWORD})
    settings_page = admin.get("/admin/moderation").get_data(as_text=True)
    assert "Moderation provider" in settings_page and "MODERATION_REQUIRED" in settings_page
    admin.post("/admin/moderation", data={"what": "settings", "provider": ""})
    with app.app_context():
        assert moderation.required() is False and moderation.provider_name() is None
    assert [a[0] for a in audit_actions(app)] == ["moderation.settings", "moderation.settings"]
    producer.post(f"/bulk/{batch_id}/publish")
    published = assets_of(app, uid).values()
    assert {a.status for a in published} == {"published"}
    assert {a.moderation["state"] for a in published} == {"not_checked"}
    assert moderation_ledger(app) == []


def test_a_failed_check_holds_the_image_as_check_failed_and_studio_use_retries_it(
    app, make_user, run_jobs, fake
):
    from webapp.extensions import db
    from webapp.models import Asset, Show, User
    from webapp.services import shows

    make_user(role="admin")
    configure_moderation(app, fake, required=True)
    producer, uid = _client(app, make_user)
    batch_id = bulk_drafts(app, uid, run_jobs, "neon jazz club")
    fake.enqueue("rate_limited", retry_after=3)
    page = producer.post(f"/bulk/{batch_id}/publish", follow_redirects=True).get_data(as_text=True)
    assert "check failed, retry" in page
    [asset] = assets_of(app, uid).values()
    assert asset.status == "held" and asset.moderation["state"] == "error"
    assert "Check failed, retry" in asset.moderation["message"]
    assert [r[3] for r in moderation_ledger(app)] == ["rate_limited"]

    # "Use as" in the studio checks it again; this time the service answers: published and in the slot.
    with app.app_context():
        show = shows.create_show(db.session.get(User, uid), {"title": "Jazz", "venue_name": "Blue Room"})
        show_id = show.id
    resp = producer.post(f"/studio/assets/{asset.id}/assign", data={"show": str(show_id)})
    assert resp.status_code == 302
    with app.app_context():
        row = db.session.get(Asset, asset.id)
        assert row.status == "published" and row.moderation["state"] == "clean"
        assert db.session.get(Show, show_id).square_asset_id == asset.id
    assert [r[3] for r in moderation_ledger(app)] == ["rate_limited", "success"]


def test_studio_use_as_refuses_a_flagged_draft_and_holds_it(app, make_user, run_jobs, fake):
    from webapp.extensions import db
    from webapp.models import Asset, Show, User
    from webapp.services import shows

    make_user(role="admin")
    configure_moderation(app, fake)
    fake.flag_text("skull", "violence")
    producer, uid = _client(app, make_user)
    with app.app_context():
        show_id = shows.create_show(db.session.get(User, uid), {"title": "Night", "venue_name": "Hall"}).id
    [draft] = _one_generated(app, uid, run_jobs, "a burning skull")
    assert draft.status == "draft" and not draft.hidden  # a studio result: in the library, as a draft
    resp = producer.post(
        f"/studio/assets/{draft.id}/assign", data={"show": str(show_id)}, follow_redirects=True
    )
    assert "Moderation flagged this image (violence)" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Asset, draft.id).status == "held"
        assert db.session.get(Show, show_id).square_asset_id is None
    asset_page = producer.get(f"/studio/assets/{draft.id}").get_data(as_text=True)
    assert "Held for review" in asset_page and "violence" in asset_page


def test_two_staff_deciding_the_same_held_image_at_once_make_one_decision_and_one_email(
    app, make_user, run_jobs, fake, smtp
):
    from webapp.extensions import db
    from webapp.models import AuditEvent, User
    from webapp.services import moderation_review

    make_user(role="admin")
    configure_moderation(app, fake)
    fake.flag_text("dragon")
    producer, uid = _client(app, make_user)
    batch_id = bulk_drafts(app, uid, run_jobs, "dragon battle")
    producer.post(f"/bulk/{batch_id}/publish")
    [held] = assets_of(app, uid).values()
    assert held.status == "held"
    staff_ids = [make_user(role="staff")[0] for _ in range(2)]
    mailed = len(smtp.envelopes)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def decide(staff_id: int, approve: bool) -> None:
        with app.app_context():
            staff = db.session.get(User, staff_id)
            barrier.wait(timeout=30)
            try:
                moderation_review.decide(held.id, staff, approve)
                results.append("won")
            except moderation_review.AlreadyDecided:
                results.append("already")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=decide, args=(sid, i == 0)) for i, sid in enumerate(staff_ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["already", "won"]
    assert len(smtp.envelopes) == mailed + 1
    with app.app_context():
        decisions = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action.in_(["moderation.approve", "moderation.reject"]))
        )
    assert decisions == 1
    assert assets_of(app, uid)["dragon battle"].status in ("published", "rejected")


def test_the_moderation_allowance_refuses_with_a_clear_message_before_anything_changes(
    app, make_user, run_jobs, fake, monkeypatch
):
    make_user(role="admin")
    configure_moderation(app, fake)
    monkeypatch.setitem(app.config, "LIMIT_MODERATION_PER_HOUR", 1)
    producer, uid = _client(app, make_user)
    batch_id = bulk_drafts(app, uid, run_jobs, "one\ntwo")
    page = producer.post(f"/bulk/{batch_id}/publish", follow_redirects=True).get_data(as_text=True)
    assert "You have used your 1 moderation checks for this hour" in page
    assert "Nothing was published" in page
    assert {a.status for a in assets_of(app, uid).values()} == {"draft"}
    assert fake.requests_to("/v1/moderations") == [] and moderation_ledger(app) == []


def test_a_format_made_from_a_generated_image_is_checked_with_the_images_prompt(
    app, make_user, run_jobs, fake
):
    """A poster auto-formatted from an AI image has no prompt of its own; its check still reads the
    words it was drawn from, so a flagged prompt is not laundered through a format."""
    from webapp.extensions import db
    from webapp.models import Asset, User
    from webapp.services import actions, publishing

    make_user(role="admin")
    configure_moderation(app, fake)
    _, uid = _client(app, make_user)
    [source] = _one_generated(app, uid, run_jobs, "a burning skull")
    with app.app_context():
        user = db.session.get(User, uid)
        actions.autoformat_asset(user, source.id, actions.AutoformatSettings(formats=("poster",)))
    run_jobs()
    with app.app_context():
        poster = db.session.scalar(select(Asset).where(Asset.parent_id == source.id))
        assert poster is not None and not poster.prompt
        poster.status = "draft"  # as a studio result would be, awaiting publishing
        db.session.commit()
        fake.flag_text("skull", "violence")
        outcome = publishing.publish_assets(db.session.get(User, uid), [db.session.get(Asset, poster.id)])
        assert outcome.held == [poster.id]
    sent = fake.requests_to("/v1/moderations")[-1].json["input"][0]["text"]
    assert "a burning skull" in sent
