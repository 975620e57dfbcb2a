"""Issue 19 in Chromium, as a new producer would see it: no control cut off and no page wider than the
window at 1280 px and 390 px, and the auto-format hint that follows the fill chosen per format.

"Truncated" is measured, not eyeballed: a button, link-button or input whose text is wider than its box
(scrollWidth > clientWidth), a select whose chosen option's text (measured with the select's own font) is
wider than its content box, or a page that scrolls sideways. Set I19POLISH_SHOTS=/some/dir to also save a
full-page screenshot of every page at both widths.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

WIDTHS = [(1280, 900), (390, 844)]

# Everything a page can be cut off by, measured in the page (a list of human-readable findings).
MEASURE = (Path(__file__).parent / "i19polish_measure.js").read_text(encoding="utf-8")


def _seed(app, email: str) -> dict[str, int]:
    """A producer with what a first week leaves: an uploaded image, a show with a long unbroken title and
    an applied palette, a finished auto-format job."""
    from tests.integration.test_palettes import _artwork, _palette
    from webapp.extensions import db
    from webapp.models import Asset, Job, Role, Show, User
    from webapp.services import shows as show_service
    from webapp.services.accounts import create_user
    from webapp.services.assets import ingest_upload

    with app.app_context():
        user = create_user(email, PASSWORD, "Riley Producer", Role("producer"))
        asset = ingest_upload(user, _artwork(7), "Spring Gala poster.png").asset
        show = show_service.create_show(
            user, {"title": "Thegreatmidsummernightjazzandlanternfestivalextravaganza", "venue": "The Hall"}
        )
        asset = db.session.get(Asset, asset.id)
        asset.show_id = show.id
        db.session.commit()
        ids = {"user": user.id, "asset": asset.id, "show": show.id}
    ids["palette"] = _palette(app, ids["user"])
    with app.app_context():
        db.session.get(Show, ids["show"]).palette_id = ids["palette"]
        db.session.commit()
        job = db.session.query(Job).filter_by(owner_id=ids["user"]).first()
        ids["job"] = job.id if job else 0
        assert db.session.get(User, ids["user"]) is not None
    return ids


def _pages(ids: dict[str, int]) -> list[str]:
    pages = [
        "/",
        "/autoformat",
        "/library",
        f"/assets/{ids['asset']}",
        "/studio",
        f"/studio/assets/{ids['asset']}",
        f"/studio/assets/{ids['asset']}/overlay",
        "/studio/video",
        "/studio/voice",
        "/bulk",
        "/shows",
        "/shows/new",
        f"/shows/{ids['show']}",
        f"/shows/{ids['show']}/edit",
        f"/shows/{ids['show']}/preview",
        f"/shows/{ids['show']}/slots/poster",
        "/palettes/",
        "/palettes/new",
        f"/palettes/{ids['palette']}",
        "/jobs",
        "/settings",
        "/settings/keys",
        "/settings/tokens",
        "/settings/password",
        "/settings/region",
        "/settings/two-factor",
        "/api",
    ]
    if ids.get("job"):
        pages.append(f"/jobs/{ids['job']}")
    return pages


def _login(page, live_server: str, email: str) -> None:
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_no_control_is_cut_off_and_no_page_scrolls_sideways_at_1280_and_390(live_server, page, app):
    email = "riley.layout@example.com"
    ids = _seed(app, email)
    _login(page, live_server, email)
    shots = os.environ.get("I19POLISH_SHOTS")
    findings: list[str] = []
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        for path in _pages(ids):
            resp = page.goto(live_server + path)
            assert resp is not None and resp.status == 200, f"{path}: {resp and resp.status}"
            page.wait_for_load_state("load")
            if shots:
                Path(shots).mkdir(parents=True, exist_ok=True)
                slug = path.strip("/").replace("/", "_") or "home"
                page.screenshot(path=f"{shots}/{width}-{slug}.png", full_page=True)
            findings += [f"{width}px {path}: {f}" for f in page.evaluate(MEASURE)]
    assert not findings, "\n".join(findings)


def test_the_autoformat_hint_follows_the_fill_chosen_per_format(live_server, page, app, tmp_path, photo_jpeg):
    from playwright.sync_api import expect

    from webapp.models import Role
    from webapp.services.accounts import create_user

    with app.app_context():
        create_user("riley.hint@example.com", PASSWORD, "Riley", Role("producer"))
    _login(page, live_server, "riley.hint@example.com")
    page.goto(live_server + "/autoformat")
    expect(page.locator("form.upload")).to_have_attribute("data-ready", "1")
    hint = {name: page.locator(f'[data-crop-hint="{name}"]') for name in ("poster", "square", "banner")}
    # Before an image is chosen, each hint describes its fill in general.
    expect(hint["poster"]).to_have_text("The whole artwork on a softly blurred copy of itself.")
    page.get_by_label("Fill for Square 1200×1200").select_option("solid")
    expect(hint["square"]).to_have_text("The whole artwork on a plain colour taken from its edges.")

    artwork = tmp_path / "Spring Gala.jpg"  # 1600x1067, a 3:2 landscape
    artwork.write_bytes(photo_jpeg)
    page.set_input_files("input[type=file]", str(artwork))
    expect(page.locator("[data-file-title]")).to_have_text("Spring Gala.jpg")
    expect(hint["poster"]).to_have_text(
        "The whole artwork; a blurred copy of itself fills the space above and below."
    )
    expect(hint["square"]).to_have_text(
        "The whole artwork; a plain colour from its edges fills the space above and below."
    )
    # Crop is described only where crop was chosen, with the real loss for this image.
    page.get_by_label("Fill for Poster 1200×1800").select_option("crop")
    expect(hint["poster"]).to_have_text(
        "Crop would trim 56% from the sides, too much: the blurred backdrop is used instead."
    )
    page.get_by_label("Fill for Banner 2160×1089").select_option("crop")
    expect(hint["banner"]).to_have_text(
        "Crop would trim 24% from the top and bottom, too much: the blurred backdrop is used instead."
    )
    page.get_by_label("Fill for Poster 1200×1800").select_option("blur")
    expect(hint["poster"]).to_contain_text("blurred copy of itself fills")
    assert not page.js_errors
