"""Bulk rough edges over HTTP: remove duplicates, the percentage of a cancelled batch, a finished
batch's rate that stays put, the estimate from measured throughput, and Resume restarting the poller."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.integration.test_bulk_web import _batch, _review, _start

pytestmark = pytest.mark.usefixtures("app")


def test_duplicates_are_flagged_then_removed_on_request(client, app, login):
    login(role="admin")
    text = "Jazz at dawn\nOpera gala\njazz at dawn\nCircus night\nOpera gala"
    page = _review(client, app, text)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Line 3 repeats line 1" in html and "Line 5 repeats line 2" in html
    assert "Remove 2 duplicates and review" in html

    page = _review(client, app, text, dedupe="1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:1500]
    assert "2 repeated prompts left out (lines 3, 5)." in html
    prompts = re.findall(r"<li>([^<]+?)(?: <span|</li>)", html[html.index("bulk-review__prompts") :])
    assert prompts[:3] == ["Jazz at dawn", "Opera gala", "Circus night"]


def _progress(app, batch_id):
    from webapp.extensions import db
    from webapp.models import BulkBatch
    from webapp.services import bulk as bulk_service

    with app.app_context():
        p = bulk_service.progress(db.session.get(BulkBatch, batch_id))
        db.session.commit()
        return p


def test_cancelled_batch_is_not_100_percent(client, app, login):
    login(role="admin")
    batch_id = _start(client, app, "\n".join(f"Prompt {i}" for i in range(10)))
    resp = client.post(f"/bulk/{batch_id}/cancel", headers={"HX-Request": "true"})
    assert resp.status_code == 200
    p = _progress(app, batch_id)
    assert p.cancelled == 10 and p.percent == 0
    html = resp.get_data(as_text=True)
    assert "0%" in html and "10 cancelled" in html and "100%" not in html


def test_a_finished_batch_keeps_its_rate(client, app, login, run_jobs):
    from webapp.extensions import db
    from webapp.models import BulkBatch, BulkImage, utcnow

    login(role="admin")
    batch_id = _start(client, app, "\n".join(f"Prompt {i}" for i in range(4)))
    run_jobs()
    assert _batch(app, batch_id).status == "finished"
    with app.app_context():  # it ran three hours ago: 4 images over 2 minutes
        start = utcnow() - timedelta(hours=3)
        db.session.execute(update(BulkBatch).where(BulkBatch.id == batch_id).values(started_at=start))
        images = db.session.query(BulkImage).filter_by(batch_id=batch_id).order_by(BulkImage.id).all()
        for n, img in enumerate(images):
            img.created_at = start + timedelta(seconds=30 * (n + 1))
        db.session.commit()
    assert _progress(app, batch_id).rate_per_minute == 2.0  # not 0 because nothing came lately


def test_estimate_uses_measured_throughput(client, app, login, run_jobs):
    from webapp.extensions import db
    from webapp.models import BulkBatch, BulkImage, utcnow

    login(role="admin")
    before = _review(client, app, "\n".join(f"Idea {i}" for i in range(40))).get_data(as_text=True)
    assert "no batch has run on it yet" in before
    batch_id = _start(client, app, "\n".join(f"Past {i}" for i in range(4)))
    run_jobs()
    assert _batch(app, batch_id).status == "finished"
    with app.app_context():  # that batch drew its 4 images over 2 minutes: 2 a minute
        start = utcnow() - timedelta(minutes=30)
        db.session.execute(update(BulkBatch).where(BulkBatch.id == batch_id).values(started_at=start))
        images = db.session.query(BulkImage).filter_by(batch_id=batch_id).order_by(BulkImage.id).all()
        for n, img in enumerate(images):
            img.created_at = start + timedelta(seconds=40 * (n + 1))
        db.session.commit()
    html = _review(client, app, "\n".join(f"Idea {i}" for i in range(40))).get_data(as_text=True)
    assert "measured 1.5 images a minute on recent batches" in html
    assert "about 27 min" in html  # 40 images at 1.5 a minute, not "under a minute" from the limit


def test_resume_answers_with_a_live_poller(client, app, login):
    login(role="admin")
    batch_id = _start(client, app, "One\nTwo\nThree")
    paused = client.post(f"/bulk/{batch_id}/pause", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="bulk-poll"' in paused  # the poller always comes with the panel
    resumed = client.post(f"/bulk/{batch_id}/resume", headers={"HX-Request": "true"}).get_data(as_text=True)
    poller = resumed[resumed.index('id="bulk-poll"') :][:600]
    assert 'hx-swap-oob="outerHTML"' in poller and "hx-get=" in poller and 'data-live="true"' in poller
