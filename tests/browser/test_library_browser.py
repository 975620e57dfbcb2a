"""Library in Chromium: deleting an image that a show uses warns first, then removes it."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, JOB_TIMEOUT_MS, register

pytestmark = pytest.mark.browser


def test_deleting_an_in_use_image_shows_the_warning(live_server, page, app, tmp_path, photo_jpeg):
    from playwright.sync_api import expect
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Asset, Show, User

    register(page, live_server, "lee@example.com")
    artwork = tmp_path / "Winter Tour.jpg"
    artwork.write_bytes(photo_jpeg)
    page.set_input_files("input[type=file]", str(artwork))
    page.get_by_role("button", name="Make my formats").click()
    expect(page.locator("section.job")).to_have_attribute(
        "data-job-status", "succeeded", timeout=JOB_TIMEOUT_MS
    )

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "lee@example.com"))
        poster = db.session.scalar(select(Asset).where(Asset.owner_id == user.id, Asset.kind == "poster"))
        db.session.add(Show(owner_id=user.id, title="Winter Tour 2027", poster_asset_id=poster.id))
        db.session.commit()
        poster_name = poster.filename

    page.get_by_role("link", name="My images").click()
    # Issue 19: the original and its formats are one stack; open it to reach the poster.
    expect(page.locator(".tile")).to_have_count(1)
    page.locator(".stack__summary").click()
    expect(page.locator(".stack__item", has_text=poster_name).locator(".badge")).to_contain_text("in use")
    page.get_by_label(f"Select {poster_name}").check()
    expect(page.locator("[data-selected-count]")).to_have_text("1 selected")
    page.get_by_role("button", name="Delete selected…").click()

    warning = page.locator("[data-usage-warning]")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Winter Tour 2027")
    expect(warning).to_contain_text("poster slot")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "library-delete-warning.png"), full_page=True)
    page.get_by_role("button", name="Delete it").click()

    expect(page.locator(".flash--success")).to_contain_text(f"Deleted {poster_name}")
    expect(page.locator(".tile")).to_have_count(1)
    expect(page.locator(".stack__summary")).to_contain_text("+2 formats")
    expect(page.locator(".stack__item", has_text=poster_name)).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "library.png"), full_page=True)
