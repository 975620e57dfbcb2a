"""Bulk batches: parsing, running through real RQ workers, pause/resume, cancel, retry, publish."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

pytestmark = pytest.mark.usefixtures("app")


def _user(app, uid):
    from webapp.extensions import db
    from webapp.models import User

    return db.session.get(User, uid)


def _counts(app, batch_id):
    from webapp.extensions import db
    from webapp.models import BulkImage, BulkItem

    with app.app_context():
        items = dict(
            db.session.execute(
                select(BulkItem.status, func.count())
                .where(BulkItem.batch_id == batch_id)
                .group_by(BulkItem.status)
            ).all()
        )
        images = db.session.scalar(
            select(func.count()).select_from(BulkImage).where(BulkImage.batch_id == batch_id)
        )
        return items, images


def test_parse_flags_duplicates_whitespace_long_lines_and_csv_columns():
    from webapp.services.bulk import parse_prompts

    r = parse_prompts("jazz night poster\n\n   \nJazz Night Poster\n" + "x" * 1200 + "\nrock gala")
    assert [p.prompt for p in r.prompts] == ["jazz night poster", "rock gala"]
    assert any("only whitespace" in p for p in r.problems)
    assert any("repeats line 1" in p for p in r.problems)
    assert any("1200 characters" in p for p in r.problems)
    assert r.notes == ["1 blank line ignored."]
    csv_data = b"prompt,type,style,variations\nopera,banner,vintage,2\nballet,square,,\n"
    r = parse_prompts(upload=csv_data, filename="p.csv")
    assert [(p.prompt, p.image_type, p.style, p.variations) for p in r.prompts] == [
        ("opera", "banner", "vintage", 2),
        ("ballet", "square", None, None),
    ]
    assert parse_prompts(upload=b"title\nx\n", filename="p.csv").problems


def test_batch_runs_on_rq_workers_and_publishes_selected(app, make_user, run_jobs):
    from webapp.extensions import db
    from webapp.models import Asset
    from webapp.services import bulk

    uid, _ = make_user(role="admin")
    with app.app_context():
        user = _user(app, uid)
        parsed = bulk.parse_prompts("neon jazz club\nsunset folk festival\nopera gala in gold")
        settings = bulk.BatchSettings(provider="local", image_type="square", variations=2)
        summary = bulk.summarize(user, parsed, settings)
        assert (summary.prompts, summary.images, summary.allowed) == (3, 6, True)
        batch = bulk.create_and_start(user, parsed, settings)
        batch_id = batch.id
    run_jobs()
    items, images = _counts(app, batch_id)
    assert items == {"succeeded": 3} and images == 6
    with app.app_context():
        from webapp.models import BulkBatch, BulkImage

        batch = db.session.get(BulkBatch, batch_id)
        assert batch.status == "finished" and batch.notified_at is not None
        hidden = db.session.scalar(select(func.count()).select_from(Asset).where(Asset.hidden.is_(True)))
        assert hidden == 6  # not in the library until published
        first = db.session.scalars(select(BulkImage).where(BulkImage.batch_id == batch_id)).first()
        bulk.select_images(batch, [first.id], False)
        assert bulk.publish(batch, _user(app, uid)) == 5
        assert bulk.close(batch) == 1  # the deselected one is discarded
        assert db.session.scalar(select(func.count()).select_from(Asset)) == 5
        assert db.session.scalar(select(func.count()).select_from(Asset).where(Asset.hidden.is_(True))) == 0


def test_pause_resume_cancel_and_move_to_top(app, make_user, run_jobs):
    from webapp.extensions import db
    from webapp.models import BulkBatch, BulkItem
    from webapp.services import bulk

    uid, _ = make_user(role="admin")
    with app.app_context():
        user = _user(app, uid)
        batch = bulk.create_and_start(
            user, bulk.parse_prompts("a\nb\nc\nd"), bulk.BatchSettings(provider="local")
        )
        batch_id = batch.id
        bulk.set_status(batch, "paused")
    run_jobs()  # pumps find the batch paused and stop
    assert _counts(app, batch_id)[0] == {"pending": 4}
    with app.app_context():
        last = db.session.scalars(
            select(BulkItem).where(BulkItem.batch_id == batch_id).order_by(BulkItem.id)
        ).all()[-1]
        bulk.move_to_top(last)
        batch = db.session.get(BulkBatch, batch_id)
        bulk.set_status(batch, "running")
        from webapp.jobs.bulk import claim_next

        item_id, token = claim_next(batch_id)
        assert item_id == last.id  # moved to the top: claimed first
        from webapp.jobs.bulk import process_item

        process_item(item_id, token)
        bulk.set_status(db.session.get(BulkBatch, batch_id), "cancelled")
    run_jobs()
    items, images = _counts(app, batch_id)
    assert items == {"succeeded": 1, "cancelled": 3} and images == 1


def test_producers_need_their_own_key_for_paid_bulk_but_not_for_free(app, make_user):
    from tests.conftest import provider_row
    from webapp.extensions import db
    from webapp.models import Provider
    from webapp.services import bulk

    row = provider_row(app, "openai")
    with app.app_context():
        db.session.get(Provider, row.id).enabled = True
        db.session.commit()
    uid, _ = make_user()
    with app.app_context():
        paid = bulk.BatchSettings(provider="openai")
        summary = bulk.summarize(_user(app, uid), bulk.parse_prompts("x"), paid)
        assert not summary.allowed and "own provider key" in summary.reason
        with pytest.raises(bulk.BulkError):
            bulk.create_and_start(_user(app, uid), bulk.parse_prompts("x"), paid)
        free = bulk.BatchSettings(provider="local")
        summary = bulk.summarize(_user(app, uid), bulk.parse_prompts("x"), free)
        assert summary.allowed and summary.cost == 0
        batch = bulk.create_and_start(_user(app, uid), bulk.parse_prompts("x"), free)
        assert batch.key_owner == "platform" and batch.provider == "local"
