"""Bulk batches when things go wrong: a provider's 429, a worker killed in the middle of a provider
call, and the CLI without any worker. (The shared rate limit itself: test_ratelimit.py.)"""

from __future__ import annotations

import base64
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import worker_env
from tests.fakes import FakeOpenAI, Reply, png
from tests.integration.test_worker_faults import _kill_tree

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("app")
KEY = "sk-fault-test-key-1234"


def _bodies(n: int, start: int = 0) -> list[dict]:
    """Distinct images, as a real provider would send for different prompts."""
    return [
        {
            "created": 0,
            "data": [{"b64_json": base64.b64encode(png(1024, 1024, i)).decode(), "revised_prompt": f"r{i}"}],
        }
        for i in range(start, start + n)
    ]


@pytest.fixture
def fake_openai(app):
    """FakeOpenAI as the enabled platform provider (60 images a minute, no budget cap)."""
    from webapp.extensions import db
    from webapp.services.keys import set_platform_key
    from webapp.services.providers import ensure_providers, get_provider

    with FakeOpenAI(valid_key=KEY) as fake:
        with app.app_context():
            ensure_providers()
            row = get_provider("openai")
            row.enabled, row.base_url, row.images_per_minute, row.monthly_budget = True, fake.url, 60, None
            db.session.commit()
            set_platform_key(row, KEY)
        fake.reset()
        yield fake


def _start(app, uid: int, prompts: str, variations: int = 1) -> int:
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import bulk

    with app.app_context():
        user = db.session.get(User, uid)
        settings = bulk.BatchSettings(provider="openai", image_type="square", variations=variations)
        return bulk.create_and_start(user, bulk.parse_prompts(prompts), settings).id


def _per_item(app, batch_id: int) -> dict[int, tuple[str, int]]:
    from webapp.extensions import db
    from webapp.models import BulkImage, BulkItem

    with app.app_context():
        rows = db.session.execute(
            select(BulkItem.id, BulkItem.status, func.count(BulkImage.id))
            .outerjoin(BulkImage, BulkImage.item_id == BulkItem.id)
            .where(BulkItem.batch_id == batch_id)
            .group_by(BulkItem.id, BulkItem.status)
        ).all()
        db.session.commit()
        return {item_id: (status, n) for item_id, status, n in rows}


def _heartbeats_older_than(app, batch_id: int, seconds: float) -> bool:
    """Every running item of the batch last beat more than `seconds` ago (by the app's clock)."""
    from webapp.extensions import db
    from webapp.models import BulkItem, utcnow

    with app.app_context():
        newest = db.session.scalar(
            select(func.max(BulkItem.heartbeat_at)).where(
                BulkItem.batch_id == batch_id, BulkItem.status == "running"
            )
        )
        db.session.commit()
    return newest is not None and (utcnow() - newest).total_seconds() > seconds


def test_a_429_backs_off_by_retry_after_without_losing_or_duplicating(app, make_user, run_jobs, fake_openai):
    uid, _ = make_user(role="admin")
    bodies = _bodies(2)
    fake_openai.enqueue("rate_limited", retry_after=2)
    fake_openai.enqueue(*(Reply(body=b) for b in bodies))
    batch_id = _start(app, uid, "a jazz poster", variations=2)
    run_jobs()
    [(status, images)] = _per_item(app, batch_id).values()
    assert (status, images) == ("succeeded", 2)
    calls = fake_openai.requests_to("/images/generations")
    assert len(calls) == 3
    assert calls[0].reply.kind == "rate_limited"
    assert calls[1].at - calls[0].at >= 2.0  # waited for Retry-After before the retried call


def test_a_worker_killed_mid_batch_is_replaced_and_every_image_is_drawn_once(
    app, make_user, fake_openai, pg_url, media_root, queue_prefix
):
    from webapp.extensions import db
    from webapp.models import Asset, BulkBatch
    from webapp.services.bulk import sweep

    uid, _ = make_user(role="admin")
    fake_openai.enqueue(*(Reply(delay=1.5, body=b) for b in _bodies(16)))
    fake_openai.set_mode("slow", delay=1.5)
    batch_id = _start(app, uid, "one\ntwo\nthree\nfour", variations=2)

    def worker() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "worker.py", "ai"],
            cwd=ROOT,
            env=worker_env(pg_url, media_root, queue_prefix),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    first = worker()
    try:
        deadline = time.monotonic() + 60
        # Kill once an image exists and the next call is in flight (the fake holds it 1.5 s).
        while time.monotonic() < deadline:
            calls = fake_openai.requests_to("/images/generations")
            if len(calls) >= 2 and time.monotonic() - calls[-1].at < 0.5:
                break
            time.sleep(0.02)
        else:
            pytest.fail("the worker never reached the provider")
    finally:
        _kill_tree(first.pid)
        first.wait(timeout=10)
    killed_at_calls = len(fake_openai.requests_to("/images/generations"))
    before = _per_item(app, batch_id)
    assert any(status == "running" for status, _ in before.values()), before

    deadline = time.monotonic() + 60  # until the killed item's heartbeat is older than stale_seconds=1
    while not _heartbeats_older_than(app, batch_id, 1.2) and time.monotonic() < deadline:
        time.sleep(0.1)
    with app.app_context():
        result = sweep(stale_seconds=1)
        assert result["items_reset"] and batch_id in result["batches_restarted"]

    second = worker()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with app.app_context():
                status = db.session.get(BulkBatch, batch_id).status
                db.session.commit()
            if status == "finished":
                break
            time.sleep(0.2)
        assert status == "finished"
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)

    after = _per_item(app, batch_id)
    assert sorted(after.values()) == [("succeeded", 2)] * 4  # each prompt's images exactly once
    # The call that was cut off is the only extra call: nothing else was drawn twice.
    assert len(fake_openai.requests_to("/images/generations")) == 8 + 1
    assert killed_at_calls >= 2
    with app.app_context():
        assets = db.session.scalars(select(Asset)).all()
        assert len(assets) == 8
        keys = {k for a in assets for k in (a.storage_key, a.thumb_key) if k}
    on_disk = {p.relative_to(media_root).as_posix() for p in media_root.rglob("*") if p.is_file()}
    assert on_disk == keys  # no orphans, no duplicates


def test_cli_runs_a_batch_without_workers_and_writes_the_images(app, make_user, tmp_path):
    make_user(role="admin")
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("neon jazz club\n\nsunset folk festival\n")
    out = tmp_path / "out"
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["bulk-generate", str(prompts), "--provider", "local", "--type", "square", "--variations", "2",
              "--out", str(out)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "finished: 2 of 2 prompts, 4 images" in result.output
    assert len(list(out.glob("*.jpg"))) == 4


def test_cli_without_an_admin_exits_with_a_message(app, tmp_path):
    prompts = tmp_path / "p.txt"
    prompts.write_text("x\n")
    result = app.test_cli_runner().invoke(args=["bulk-generate", str(prompts)])
    assert result.exit_code != 0 and "No admin account" in result.output


def test_cli_refuses_a_file_with_problems(app, make_user, tmp_path):
    make_user(role="admin")
    prompts = tmp_path / "p.txt"
    prompts.write_text("same\nsame\n")
    result = app.test_cli_runner().invoke(args=["bulk-generate", str(prompts), "--provider", "local"])
    assert result.exit_code == 1 and "Line 2 repeats line 1" in result.output
