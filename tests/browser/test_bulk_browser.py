"""Bulk generator in Chromium: an admin pastes prompts, reviews the cost, starts, watches the tiles
arrive, leaves one out, publishes, and finds the rest in the library."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, JOB_TIMEOUT_MS
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

PROMPTS = [
    "Neon jazz club at midnight, saxophone silhouette",
    "Sunset folk festival on a hill, warm light",
    "Opera gala in gold and black",
    "Circus big top under the stars",
    "Rooftop string quartet at dawn",
]


def test_paste_review_start_watch_deselect_publish(live_server, page, make_user):
    from playwright.sync_api import expect

    _, email = make_user(role="admin")
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Bulk").click()
    expect(page.get_by_role("heading", name="Bulk generator")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "bulk-start-1280.png"), full_page=True, caret="initial")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "bulk-start-390.png"), full_page=True, caret="initial")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_label("Prompts, one per line").fill("\n".join(PROMPTS))
    page.get_by_label("Image type").select_option("square")
    page.get_by_label("Variations per prompt").fill("2")
    page.get_by_role("button", name="Review cost and time").click()

    expect(page.locator(".bulk-stats")).to_contain_text("10")  # 5 prompts x 2 images
    expect(page.locator(".bulk-stats")).to_contain_text("Estimated cost")
    page.get_by_role("button", name="Start batch").click()

    tiles = page.locator("#bulk-grid li.btile")
    expect(tiles.first).to_be_visible(timeout=JOB_TIMEOUT_MS)
    page.screenshot(path=str(ARTIFACTS / "bulk-running-1280.png"), full_page=True, caret="initial")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "bulk-running-390.png"), full_page=True, caret="initial")
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(tiles).to_have_count(10, timeout=JOB_TIMEOUT_MS)
    expect(page.locator("#bulk-panel")).to_contain_text("Batch finished", timeout=JOB_TIMEOUT_MS)
    expect(page.locator("#bulk-poll")).to_have_attribute("data-live", "false")

    # The large preview shows the prompt.
    tiles.first.locator("[data-preview]").click()
    expect(page.locator("#bulk-preview")).to_be_visible()
    expect(page.locator("[data-preview-prompt]")).to_contain_text(PROMPTS[0])
    page.get_by_role("button", name="Close preview").click()

    # Leave one out: the panel follows (the click posts the selection with htmx).
    first_box = tiles.first.get_by_role("checkbox")
    with page.expect_response(lambda r: r.url.endswith("/selection") and r.status == 200):
        first_box.uncheck()
    expect(page.get_by_role("button", name="Publish 9 selected")).to_be_visible()
    expect(page.locator("[data-selected-count]")).to_contain_text("9 of 10 selected")
    page.screenshot(path=str(ARTIFACTS / "bulk-finished-1280.png"), full_page=True, caret="initial")
    page.get_by_role("button", name="Publish 9 selected").click()
    expect(page.locator(".flash--success").first).to_contain_text("Published 9 images")

    assert not page.js_errors, page.js_errors  # strict CSP held on the bulk pages
    page.get_by_role("link", name="My images", exact=True).click()
    expect(page.locator(".tile")).to_have_count(9)
