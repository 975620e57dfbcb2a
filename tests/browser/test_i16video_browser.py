"""Studio Video mode in Chromium on a fresh install (no keys): pick the show's poster, start a clip with
the free offline renderer, watch the job's progress, play the result, make it the show's promo clip, and
see it play on the show page (issue 16)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.conftest import JOB_TIMEOUT_MS, LIVE_JOB_SETTINGS, LiveWorker, register
from tests.browser.test_studio_browser import _make_show, _shot
from tests.conftest import worker_env

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_worker(pg_url, media_root, queue_prefix, tmp_path_factory) -> Iterator[LiveWorker]:
    """The live worker, rendering clips at a third of their size (this test is about the page)."""
    env = {**{k: str(v) for k, v in LIVE_JOB_SETTINGS.items()}, "LOCAL_VIDEO_SCALE": "0.3333"}
    worker = LiveWorker(
        worker_env(pg_url, media_root, queue_prefix, **env), tmp_path_factory.mktemp("worker") / "worker.log"
    )
    yield worker
    worker.stop()


def _poster_for(app, email: str, show_id: int, photo: bytes) -> int:
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import User
    from webapp.services.assets import ingest_upload

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        asset = ingest_upload(user, photo, "winter-jazz-poster.jpg").asset
        asset.show_id = show_id
        db.session.commit()
        return asset.id


def _plays(page, selector: str) -> float:
    """Wait until the browser has loaded the clip's metadata; return its duration in seconds."""
    page.wait_for_function(
        f"() => {{ const v = document.querySelector('{selector}'); return v && v.readyState >= 1; }}",
        timeout=JOB_TIMEOUT_MS,
    )
    return page.eval_on_selector(selector, "v => v.duration")


def test_studio_video_mode_makes_a_promo_clip_that_plays_on_the_show(live_server, page, app, photo_jpeg):
    from playwright.sync_api import expect

    register(page, live_server, "video@example.com")
    show_id = _make_show(app, "video@example.com")
    asset_id = _poster_for(app, "video@example.com", show_id, photo_jpeg)

    page.goto(f"{live_server}/studio/video?show={show_id}&asset={asset_id}")
    expect(page.get_by_role("link", name="Video")).to_have_attribute("aria-current", "page")
    page.locator(f"input[name=asset_id][value='{asset_id}']").check()
    page.get_by_label("Format").select_option("story")
    page.get_by_label("Length (seconds)").fill("2")
    page.get_by_label("Motion").select_option("push-in")
    page.get_by_label("Reveal the show's title and dates").check()
    page.get_by_role("button", name="Make the clip").click()

    job = page.locator("section.job")
    expect(job).to_be_visible()
    expect(job.locator(".job__title")).to_contain_text("Clip")
    # The job partial polls itself; the player replaces the progress bar when the clip is stored.
    expect(page.locator("[data-testid=result-video]")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(job).to_have_attribute("data-job-status", "succeeded")
    assert _plays(page, "[data-testid=result-video]") == pytest.approx(2.0, abs=0.1)
    _shot(page, "i16video-studio-result.png")

    page.get_by_role("button", name="Use as promo clip").click()
    page.wait_for_url(f"**/shows/{show_id}*")
    expect(page.locator("[data-testid=show-promo-video]")).to_be_visible()
    assert _plays(page, "[data-testid=show-promo-video]") == pytest.approx(2.0, abs=0.1)
    _shot(page, "i16video-show-promo.png")
    assert not page.js_errors, page.js_errors
