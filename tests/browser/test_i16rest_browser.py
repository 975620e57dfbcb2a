"""Studio Video mode from a FRESH generation in Chromium (issue 16): no library image, the prompt comes
from the show's details, the free tier draws the still (step 1) and the offline renderer animates it
(step 2) in one job; the page shows the job's progress, then the player and the still, and the clip
becomes the show's promo clip and plays on the show page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.conftest import JOB_TIMEOUT_MS, LIVE_JOB_SETTINGS, LiveWorker, register
from tests.browser.test_i16video_browser import _plays
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


def test_studio_video_from_a_fresh_prompt_on_the_free_tier(live_server, page, app):
    from playwright.sync_api import expect
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Asset, Job

    register(page, live_server, "fresh-video@example.com")
    show_id = _make_show(app, "fresh-video@example.com")

    page.goto(f"{live_server}/studio/video?show={show_id}&source=new")
    expect(page.get_by_role("link", name="Video")).to_have_attribute("aria-current", "page")
    expect(page.get_by_label("Start from")).to_have_value("new")
    prompt = page.get_by_label("Describe the image to draw first")
    assert "Winter Jazz Weekend" in prompt.input_value()  # prefilled from the show's details
    prompt.fill("A saxophonist on a snowy rooftop at night, warm stage lights")
    page.get_by_label("Image provider or tier").select_option("free")
    page.get_by_label("Format").select_option("story")
    page.get_by_label("Length (seconds)").fill("2")
    page.get_by_label("Motion").select_option("pan-up")
    page.get_by_label("Show", exact=True).select_option(str(show_id))
    page.get_by_role("button", name="Make the clip").click()

    job = page.locator("section.job")
    expect(job).to_be_visible()
    expect(job.locator(".job__title")).to_contain_text("Clip")
    # Progress first (the partial polls itself), naming the two steps; then the player.
    expect(job.locator("progress")).to_be_visible()
    expect(page.locator("[data-testid=result-video]")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(job).to_have_attribute("data-job-status", "succeeded")
    assert _plays(page, "[data-testid=result-video]") == pytest.approx(2.0, abs=0.1)
    expect(page.locator("[data-testid=result-still] img")).to_be_visible()
    _shot(page, "i16rest-fresh-clip.png")

    with app.app_context():
        row = db.session.scalars(select(Job).where(Job.kind == "video")).one()
        still_id = row.result["still_asset_id"]
        clip = db.session.scalars(select(Asset).where(Asset.media_kind == "video")).one()
        still = db.session.get(Asset, still_id)
        assert clip.parent_id == still.id and still.provenance["provider"] == "local"
        assert still.prompt.startswith("A saxophonist on a snowy rooftop")
        stages = row.stage
        db.session.commit()
    assert stages == "Done"

    page.get_by_role("button", name="Use as promo clip").click()
    page.wait_for_url(f"**/shows/{show_id}*")
    expect(page.locator("[data-testid=show-promo-video]")).to_be_visible()
    assert _plays(page, "[data-testid=show-promo-video]") == pytest.approx(2.0, abs=0.1)
    assert not page.js_errors, page.js_errors
