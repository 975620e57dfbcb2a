"""Issue 15 in Chromium: a tiny upload is warned about; the near-duplicate question is keyboard-first
and its default (Enter) keeps both images."""

from __future__ import annotations

import pytest
from PIL import Image

from tests.browser.conftest import ARTIFACTS, JOB_TIMEOUT_MS, register

pytestmark = pytest.mark.browser


def test_tiny_upload_warning_and_near_duplicate_keeps_both_by_keyboard(live_server, page, tmp_path):
    from playwright.sync_api import expect

    tiny, again = tmp_path / "tiny.png", tmp_path / "tiny-again.png"
    Image.new("RGB", (8, 8), (0, 160, 60)).save(tiny)
    Image.new("RGB", (16, 16), (0, 160, 60)).save(again)
    register(page, live_server, "kim@example.com")

    page.set_input_files("input[type=file]", str(tiny))
    page.get_by_role("button", name="Make my formats").click()
    job = page.locator("section.job")
    expect(job).to_have_attribute("data-job-status", "succeeded", timeout=JOB_TIMEOUT_MS)
    warning = page.locator("[data-upscale-warning]")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("This image is 8×8 px; the poster is 1200×1800")
    expect(warning).to_contain_text("Upload at least 556×556 px for a sharp poster.")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "i15-upscale-warning.png"), full_page=True)

    page.goto(live_server + "/autoformat")
    page.set_input_files("input[type=file]", str(again))
    page.get_by_role("button", name="Make my formats").click()
    expect(page.get_by_role("heading", name="This looks like an image you already have")).to_be_visible()
    keep = page.get_by_role("button", name="Keep both and auto-format this upload")
    expect(keep).to_be_focused()
    expect(page.get_by_role("button", name="Use my earlier image and discard this upload")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "i15-near-duplicate.png"), full_page=True)
    page.keyboard.press("Enter")
    expect(page.locator("section.job")).to_have_attribute(
        "data-job-status", "succeeded", timeout=JOB_TIMEOUT_MS
    )
    page.get_by_role("link", name="My images").click()
    expect(page.locator(".tile", has_text="tiny-again.png")).to_have_count(1)
    expect(page.locator(".tile", has_text="tiny.png")).to_have_count(1)
    assert not [e for e in page.js_errors if "Content Security Policy" in e], page.js_errors
