"""Issue 17 in Chromium: pick Instagram story and a custom size with the keyboard, see both in the
results at their true aspect ratios, and find the choice preselected on the next visit."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, JOB_TIMEOUT_MS
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_pick_story_and_custom_size_by_keyboard_and_it_is_remembered(live_server, page, tmp_path, photo_jpeg):
    from playwright.sync_api import expect

    artwork = tmp_path / "gala.jpg"
    artwork.write_bytes(photo_jpeg)
    page.goto(live_server + "/register")
    page.get_by_label("Your name").fill("Ines Producer")
    page.get_by_label("E-mail").fill("ines@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/login")
    page.get_by_label("E-mail").fill("ines@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Auto-format your artwork")).to_be_visible()
    expect(page.locator("form.upload")).to_have_attribute("data-ready", "1")

    for name in ("poster", "square", "banner"):  # preselected on a first visit; untick by keyboard
        box = page.locator(f'[data-format-pick="{name}"]')
        expect(box).to_be_checked()
        box.focus()
        page.keyboard.press("Space")
        expect(box).not_to_be_checked()
    story = page.locator('[data-format-pick="ig-story"]')
    story.focus()
    page.keyboard.press("Space")
    expect(story).to_be_checked()
    page.get_by_label("Fill for Instagram story 1080×1920").select_option("solid")
    page.get_by_label("Custom sizes", exact=True).fill("1600x900")

    page.set_input_files("input[type=file]", str(artwork))
    # The hint follows the fill chosen for the row and, once the file is measured, says where the
    # plain colour shows on this image (a wide artwork in a tall story: above and below).
    expect(page.locator('[data-crop-hint="ig-story"]')).to_contain_text("plain colour")
    expect(page.locator('[data-crop-hint="ig-story"]')).to_contain_text("above and below")
    page.get_by_role("button", name="Make my formats").click()
    job = page.locator("section.job")
    expect(job).to_have_attribute("data-job-status", "succeeded", timeout=JOB_TIMEOUT_MS)
    expect(page.locator(".results figcaption strong")).to_have_text(["Instagram story", "Custom size"])
    expect(page.get_by_text("Download both (ZIP)")).to_be_visible()
    previews = page.locator(".results img")
    sizes = previews.evaluate_all("els => els.map(e => [e.naturalWidth, e.naturalHeight])")
    assert sizes == [[1080, 1920], [1600, 900]]
    for i, (w, h) in enumerate(sizes):
        box = previews.nth(i).bounding_box()
        assert abs(box["width"] / box["height"] - w / h) < 0.02
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "i17formats-results.png"), full_page=True)

    page.goto(live_server + "/autoformat")
    expect(page.locator('[data-format-pick="ig-story"]')).to_be_checked()
    expect(page.locator('[data-format-pick="poster"]')).not_to_be_checked()
    expect(page.get_by_label("Custom sizes", exact=True)).to_have_value("1600x900")
    expect(page.get_by_label("Fill for Instagram story 1080×1920")).to_have_value("solid")
