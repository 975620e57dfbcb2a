"""Palettes in Chromium: extract from an upload, edit a role and watch the contrast verdict change,
send it for approval, staff approve it, apply it to a show."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import ARTIFACTS, JOB_TIMEOUT_MS, new_context, register
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _artwork() -> bytes:
    arr = np.zeros((600, 800, 3), dtype=np.uint8)
    for x0, colour in zip(
        (0, 280, 480, 620, 720),
        ((27, 42, 73), (242, 239, 230), (209, 73, 91), (237, 174, 73), (0, 121, 140)),
        strict=True,
    ):
        arr[:, x0:] = colour
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def _shoot(page, name: str) -> None:
    """Full-page screenshots at desktop and phone widths, for people to look at.

    caret="initial": Playwright's default hides the caret by injecting a <style>, which our CSP blocks
    (and reports as a console error)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(ARTIFACTS / f"palettes-{name}-1280.png"), full_page=True, caret="initial")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / f"palettes-{name}-390.png"), full_page=True, caret="initial")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_editing_a_role_changes_the_contrast_verdict_and_the_palette_goes_through_approval(
    live_server, page, browser, app, make_user, tmp_path
):
    from playwright.sync_api import expect

    register(page, live_server, "ada@example.com")
    art = tmp_path / "Night Bloom.png"
    art.write_bytes(_artwork())
    page.goto(live_server + "/palettes/new")
    _shoot(page, "new-empty")
    page.set_input_files("input[type=file]", str(art))
    page.get_by_role("button", name="Extract palette").click()
    # The job page polls (HTMX) and moves on to the palette by itself once the worker is done.
    expect(page.get_by_role("heading", name="Contrast report")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(page.locator(".pal-summary--ok")).to_be_visible()
    _shoot(page, "detail")

    page.get_by_role("link", name="Customise roles").click()
    rule = page.locator('[data-pair="text-background"] .pal-rule')
    expect(rule).to_have_attribute("data-verdict", "pass")
    background = page.get_by_label("Background hex").input_value()
    text_box = page.get_by_label("Text hex")
    text_box.fill(background)  # text in the page colour: unreadable
    text_box.press("Tab")  # change -> HTMX recomputes the report
    expect(rule).to_have_attribute("data-verdict", "fail")
    expect(page.locator('[data-status="fail"]')).to_contain_text("text on background")
    _shoot(page, "editor-failing")
    light = int(background[1:3], 16) > 127
    page.get_by_label("Text hex").fill("#111111" if light else "#f5f5f5")
    page.get_by_label("Text hex").press("Tab")
    expect(rule).to_have_attribute("data-verdict", "pass")
    expect(page.locator('[data-status="pass"]')).to_be_visible()
    page.get_by_label("Accent hex").fill("#d1495b")
    page.get_by_label("Accent hex").press("Tab")
    expect(page.get_by_text("changed", exact=True).first).to_be_visible()
    page.get_by_role("button", name="Send for approval").click()
    expect(page.locator(".pal-notice--pending")).to_contain_text("Waiting for approval")
    assert page.js_errors == []

    # Staff approve it in their own session.
    _, staff_email = make_user(role="staff")
    staff_context = new_context(browser)
    staff = staff_context.new_page()
    staff.goto(live_server + "/login")
    staff.get_by_label("E-mail").fill(staff_email)
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Log in").click()
    staff.goto(live_server + "/admin/approvals")
    card = staff.locator(".pal-review").first
    expect(card).to_contain_text("(custom)")
    _shoot(staff, "approvals")
    card.get_by_role("button", name="Approve").click()
    expect(staff.locator(".pal-review__done")).to_contain_text("Approved")
    staff_context.close()

    # The producer sees the decision and applies the palette to a show.
    page.goto(live_server + "/shows/new")
    page.get_by_label("Title").fill("Night Bloom")
    page.get_by_role("button", name="Create show").click()
    expect(page).to_have_url(re.compile(r"/shows/\d+$"))
    page.goto(live_server + "/palettes/")
    expect(page.locator(".pal-decisions")).to_contain_text("Approved")
    _shoot(page, "index")
    page.locator(".pal-decision a").first.click()
    page.get_by_role("button", name="Apply to show").click()
    expect(page.locator(".flash--success")).to_contain_text("is now the palette of")
    expect(page.locator(".pal-show__roles")).to_contain_text("#d1495b")
    _shoot(page, "show")
    assert page.js_errors == []
