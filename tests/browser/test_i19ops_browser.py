"""Issue 19 in Chromium: the bulk control cycle (pause → resume → finish, and cancel) keeps the
gallery live, and the top bar is one row at 1280 px and a real menu at 390 px."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from tests.browser.conftest import JOB_TIMEOUT_MS
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _login(page, live_server, email: str) -> None:
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _slow_free_generator(app, per_minute: int) -> None:
    """The free generator through the shared per-key limiter at `per_minute`: a batch then takes
    long enough to pause and cancel it mid-way."""
    from webapp.extensions import db
    from webapp.models import Provider
    from webapp.services.providers import ensure_providers

    with app.app_context():
        ensure_providers()
        db.session.execute(
            update(Provider).where(Provider.name == "local").values(images_per_minute=per_minute)
        )
        db.session.commit()


def _start_batch(page, prompts: list[str]) -> None:
    page.get_by_role("link", name="Bulk", exact=True).click()
    page.get_by_label("Prompts, one per line").fill("\n".join(prompts))
    page.get_by_label("Image type").select_option("square")
    page.get_by_label("Variations per prompt").fill("1")
    page.get_by_role("button", name="Review cost and time").click()
    page.get_by_role("button", name="Start batch").click()


def test_bulk_pause_resume_finish_then_cancel(live_server, page, make_user, app):
    from playwright.sync_api import expect

    _slow_free_generator(app, 20)  # one image every 3 s
    _, email = make_user(role="admin")
    _login(page, live_server, email)
    _start_batch(page, [f"Poster idea {i}: a lantern festival" for i in range(6)])

    panel = page.locator("#bulk-panel")
    tiles = page.locator("#bulk-grid li.btile")
    page.get_by_role("button", name="Pause").click()
    expect(panel).to_contain_text("Paused")
    # Prompts being drawn finish; then nothing can change by itself and polling stops.
    expect(page.locator("#bulk-poll")).to_have_attribute("data-live", "false", timeout=JOB_TIMEOUT_MS)
    done_while_paused = int(page.locator("[data-images-done]").inner_text())
    expect(tiles).to_have_count(done_while_paused)
    assert done_while_paused < 6

    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#bulk-poll")).to_have_attribute("data-live", "true")
    # The gallery follows the batch to the end without a reload (it froze at "4 / 40" before).
    expect(tiles).to_have_count(6, timeout=JOB_TIMEOUT_MS * 2)
    expect(panel).to_contain_text("Batch finished", timeout=JOB_TIMEOUT_MS)
    expect(page.locator(".bpanel__pct")).to_contain_text("100%")

    _start_batch(page, [f"Second batch {i}: harbour at night" for i in range(6)])
    expect(tiles.first).to_be_visible(timeout=JOB_TIMEOUT_MS)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel batch").click()
    expect(panel).to_contain_text("Cancelled")
    expect(page.locator("#bulk-poll")).to_have_attribute("data-live", "false", timeout=JOB_TIMEOUT_MS)
    pct = page.locator(".bpanel__pct").inner_text()
    assert not pct.startswith("100%"), pct  # cancelled prompts were never drawn
    assert "cancelled" in pct
    drawn = int(page.locator("[data-images-done]").inner_text())
    expect(tiles).to_have_count(drawn)
    assert not page.js_errors, page.js_errors


PAGES = ["Auto-format", "Bulk", "Shows", "Studio", "My images", "Palettes", "Jobs", "Admin"]


def test_top_bar_is_one_row_at_1280_and_a_menu_at_390(live_server, page, make_user):
    from playwright.sync_api import expect

    _, email = make_user(role="admin")
    _login(page, live_server, email)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server + "/library")
    bar = page.locator("header.topbar").bounding_box()
    link = page.locator(".nav a").first.bounding_box()
    assert bar["height"] < 2 * link["height"] + 24, (bar, link)  # one row, not two
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
    for name in PAGES:
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server + "/library")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.get_by_role("link", name="Jobs", exact=True)).to_be_hidden()
    # Keyboard: Tab to the menu button, Space opens it; every page is then one click away.
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # brand
    page.keyboard.press("Tab")  # the menu's toggle
    page.keyboard.press("Space")
    for name in PAGES:
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    page.get_by_role("link", name="Palettes", exact=True).click()
    expect(page).to_have_url(re.compile(r"/palettes/?$"))
    # Closed again on the next page, and the Menu button opens it with a tap too.
    expect(page.get_by_role("link", name="Jobs", exact=True)).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    page.get_by_role("link", name="Jobs", exact=True).click()
    expect(page).to_have_url(re.compile(r"/jobs/?$"))
    assert not page.js_errors, page.js_errors
