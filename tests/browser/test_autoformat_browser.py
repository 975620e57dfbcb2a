"""A producer's first visit, in Chromium: register, upload, watch progress, get the ZIP."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from tests.browser.conftest import ARTIFACTS, JOB_TIMEOUT_MS
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_register_upload_watch_progress_and_download_zip(live_server, page, tmp_path, photo_jpeg):
    from playwright.sync_api import expect

    artwork = tmp_path / "Spring Gala.jpg"
    artwork.write_bytes(photo_jpeg)

    page.goto(live_server + "/")
    page.get_by_role("link", name="Create a free account").click()
    page.get_by_label("Your name").fill("Riley Producer")
    page.get_by_label("E-mail").fill("riley@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    # Registration answers alike whether or not the e-mail had an account (no auto-login): log in.
    page.wait_for_url("**/login")
    page.get_by_label("E-mail").fill("riley@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Auto-format your artwork")).to_be_visible()

    # app.js is deferred: on a busy machine a file chosen before it set the form up goes unseen.
    expect(page.locator("form.upload")).to_have_attribute("data-ready", "1")
    page.set_input_files("input[type=file]", str(artwork))
    expect(page.locator("[data-file-title]")).to_have_text("Spring Gala.jpg")
    expect(page.locator("[data-preview]")).to_be_visible()
    expect(page.locator('[data-crop-hint="square"]')).to_contain_text("blurred copy")
    page.get_by_role("button", name="Make my formats").click()

    # The job partial replaces the form and polls itself until the job is final.
    job = page.locator("section.job")
    expect(job).to_be_visible()
    expect(job).to_have_attribute("data-job-status", "succeeded", timeout=JOB_TIMEOUT_MS)
    assert "/jobs/" in page.url  # HX-Push-Url: a reload shows the same job
    expect(page.get_by_text("Download all three (ZIP)")).to_be_visible()

    previews = page.locator(".results img")
    expect(previews).to_have_count(3)
    sizes = previews.evaluate_all("els => els.map(e => [e.naturalWidth, e.naturalHeight, e.complete])")
    assert sorted(s[:2] for s in sizes) == [[1200, 1200], [1200, 1800], [2160, 1089]]
    boxes = [previews.nth(i).bounding_box() for i in range(3)]
    for (w, h, _), box in zip(sizes, boxes, strict=True):  # shown at their true aspect ratios
        assert abs(box["width"] / box["height"] - w / h) < 0.02
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "autoformat-results.png"), full_page=True)

    with page.expect_download() as info:
        page.get_by_text("Download all three (ZIP)").click()
    path = info.value.path()
    with zipfile.ZipFile(path) as zf:
        names = sorted(zf.namelist())
        # Search-friendly names from the title (issue 17), not the uploaded file's name.
        assert names == ["spring-gala-banner.jpg", "spring-gala-poster.jpg", "spring-gala-square.jpg"]
        got = {n: Image.open(io.BytesIO(zf.read(n))).size for n in names}
    assert got == {
        "spring-gala-banner.jpg": (2160, 1089),
        "spring-gala-poster.jpg": (1200, 1800),
        "spring-gala-square.jpg": (1200, 1200),
    }

    page.reload()
    expect(page.locator("section.job")).to_have_attribute("data-job-status", "succeeded")
    page.get_by_role("link", name="My images").click()
    expect(page.locator(".tile")).to_have_count(1)  # issue 19: the original and its formats, one stack
    expect(page.locator(".stack__summary")).to_contain_text("+3 formats")
    assert not [e for e in page.js_errors if "Content Security Policy" in e], page.js_errors


def test_refused_upload_shows_the_reason_in_the_form(live_server, page, tmp_path):
    from playwright.sync_api import expect

    bogus = tmp_path / "poster.jpg"
    bogus.write_bytes(b"GIF89a" + bytes(200))
    page.goto(live_server + "/register")
    page.get_by_label("E-mail").fill("sam@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    # Registration answers alike whether or not the e-mail had an account (no auto-login): log in.
    page.wait_for_url("**/login")
    page.get_by_label("E-mail").fill("sam@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.set_input_files("input[type=file]", str(bogus))
    page.get_by_role("button", name="Make my formats").click()
    expect(page.locator("#image-error")).to_contain_text("Upload a JPEG, PNG or WebP image")
    expect(page.locator("section.job")).to_have_count(0)
