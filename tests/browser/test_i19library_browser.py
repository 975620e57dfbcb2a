"""Issue 19, the library in Chromium at 1280 and 390 px: an original with its formats and a render is one
tile that expands in place, the star works from the keyboard and by mouse, the Favourites filter finds
it, the colour picker stays out of the URL until chosen — and the page logs no console errors (the
strict CSP reports any inline style or script as one)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD
from tests.jobwait import wait_for_job

pytestmark = pytest.mark.browser


def _login(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def _library_world(app, uid: int, photo_jpeg: bytes) -> dict[str, int]:
    """An uploaded original auto-formatted by the live worker, plus an overlay render of its poster."""
    from webapp.extensions import db
    from webapp.imaging.overlay import OverlaySpec
    from webapp.models import Asset, User
    from webapp.services import actions, studio
    from webapp.services.assets import ingest_upload

    with app.app_context():
        user = db.session.get(User, uid)
        original = ingest_upload(user, photo_jpeg, "Harbour Lights.jpg").asset
        job = actions.autoformat_asset(user, original.id)
        original_id, job_id = original.id, job.id
    assert wait_for_job(app, job_id).status == "succeeded"
    with app.app_context():
        user = db.session.get(User, uid)
        poster = db.session.scalar(
            select(Asset).where(Asset.parent_id == original_id, Asset.kind == "poster")
        )
        spec = OverlaySpec.from_dict({"texts": {"title": "Harbour Lights"}, "enabled": ["title"]})
        render = studio.save_with_overlay(user, poster, spec)
        return {"original": original_id, "poster": poster.id, "render": render.id}


@pytest.mark.parametrize("width", [1280, 390])
def test_library_stacks_stars_and_filters_without_console_errors(
    live_server, page, make_user, app, photo_jpeg, width
):
    from playwright.sync_api import expect

    from webapp.extensions import db
    from webapp.models import Asset

    uid, email = make_user()
    ids = _library_world(app, uid, photo_jpeg)
    page.set_viewport_size({"width": width, "height": 900})
    _login(page, live_server, email)
    page.goto(live_server + "/library")
    assert "color=" not in page.url

    tiles = page.locator("#gallery > li.tile")
    expect(tiles).to_have_count(1)
    stack = page.get_by_test_id(f"stack-{ids['original']}")
    summary = stack.locator("summary")
    expect(summary).to_contain_text("+3 formats, 1 render")
    members = stack.locator(".stack__item")
    expect(members.first).to_be_hidden()
    # Expand from the keyboard: the summary is focusable and Enter opens it in place.
    summary.focus()
    page.keyboard.press("Enter")
    expect(members).to_have_count(4)
    expect(members.first).to_be_visible()
    expect(stack.get_by_text("Harbour Lights-poster-with-details.jpg")).to_be_visible()
    box = tiles.first.bounding_box()
    gallery = page.locator("#gallery").bounding_box()
    assert box["width"] > gallery["width"] * 0.9  # the open stack takes the whole row
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1  # nothing overflows
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"i19library-stack-{width}.png"), full_page=True)

    # Star the render inside the stack by keyboard (Space on the focused button), the original by click.
    star = page.get_by_test_id(f"star-{ids['render']}")
    star.focus()
    page.keyboard.press("Space")
    expect(page.get_by_test_id(f"star-{ids['render']}")).to_have_attribute("aria-pressed", "true")
    page.get_by_test_id(f"star-{ids['original']}").click()
    expect(page.get_by_test_id(f"star-{ids['original']}")).to_have_attribute("aria-pressed", "true")
    with app.app_context():
        starred = set(db.session.scalars(select(Asset.id).where(Asset.owner_id == uid, Asset.favorite)))
    assert starred == {ids["render"], ids["original"]}

    # The Favourites filter (HTMX swaps the results and pushes a clean URL).
    page.get_by_label("Starred only").check()
    expect(page).to_have_url(re.compile(r"favorites=1"))
    assert "color=" not in page.url
    expect(tiles).to_have_count(1)
    expect(page.locator("#gallery .tile__match")).to_contain_text("2 of 5 in its stack match")
    expect(page.locator("#gallery .stack__summary")).to_contain_text("+1 render")
    # Unstar the original: the stack is still listed for its starred render, which becomes its tile.
    page.get_by_test_id(f"star-{ids['original']}").click()
    expect(page.get_by_test_id(f"star-{ids['original']}")).to_have_attribute("aria-pressed", "false")
    page.reload()
    expect(page.locator("#gallery > li.tile .tile__name")).to_have_text(
        "Harbour Lights-poster-with-details.jpg"
    )

    # Colour search: only once the producer picks a colour does it enter the URL.
    page.goto(live_server + "/library")
    page.locator("#color").fill("#1a2b3c")
    expect(page).to_have_url(re.compile(r"color=%231a2b3c.*by_color=1|by_color=1.*color=%231a2b3c"))
    page.get_by_label("By colour").uncheck()
    expect(page).not_to_have_url(re.compile(r"color="))
    page.goto(live_server + "/library?color=%237c3aed&q=")
    assert "color=" not in page.url  # an old link with the default colour is cleaned up

    page.goto(live_server + f"/assets/{ids['poster']}")
    page.get_by_role("button", name="Star Harbour Lights-poster.jpg").click()
    expect(page.get_by_role("button", name="Unstar Harbour Lights-poster.jpg")).to_be_visible()
    assert page.js_errors == [], page.js_errors
