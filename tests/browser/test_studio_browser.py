"""The studio in Chromium: a poster for a show with the offline provider, the font changed after generation
without a new provider call, then saved with the show's details into the show's poster slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.browser.conftest import ARTIFACTS, JOB_TIMEOUT_MS, register

pytestmark = pytest.mark.browser


def _make_show(app, email: str) -> int:
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import shows

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        start = datetime(2027, 3, 5, 20, 0, tzinfo=UTC)
        show = shows.create_show(
            user,
            {
                "title": "Winter Jazz Weekend",
                "venue_name": "The Blue Room",
                "venue_address": "12 Harbour Street, Brighton",
                "price_min": Decimal("25"),
                "price_max": Decimal("60"),
                "performers": ["Ana Moura", "Trio Azul"],
                "performances": [{"starts_at": start + timedelta(days=d)} for d in range(3)],
            },
        )
        return show.id


def _counts(app) -> tuple[int, int]:
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import Job, UsageEvent

    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Job)),
            db.session.scalar(select(func.count()).select_from(UsageEvent)),
        )


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_poster_for_a_show_font_change_costs_nothing_and_fills_the_poster_slot(live_server, page, app):
    from playwright.sync_api import expect

    from webapp.extensions import db
    from webapp.models import Asset, Show

    register(page, live_server, "studio@example.com")
    show_id = _make_show(app, "studio@example.com")

    page.goto(f"{live_server}/studio?show={show_id}")
    expect(page.get_by_role("heading", name="Studio")).to_be_visible()
    expect(page.locator("[data-estimate-total]")).to_have_text("$0.00")
    page.get_by_label("Describe the artwork").fill(
        "A jazz trio on a small stage, warm spotlights, smoky club"
    )
    expect(page.locator("[data-count]")).to_have_text("57")
    page.locator("label.seg__opt", has_text="Poster").click()
    page.locator("fieldset", has_text="Variations").locator("label.seg__opt", has_text="2").click()
    page.get_by_label("Style").select_option("neon")
    _shot(page, "studio-before-1280.png")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "studio-before-390.png")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name="Generate").click()
    expect(page.locator(".gen")).to_have_attribute("data-job-status", "succeeded", timeout=JOB_TIMEOUT_MS)
    expect(page.locator('.variation[data-status="succeeded"]')).to_have_count(2)
    _shot(page, "studio-after-1280.png")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "studio-after-390.png")
    page.set_viewport_size({"width": 1280, "height": 900})
    jobs_before, ledger_before = _counts(app)
    assert ledger_before == 2

    page.locator(".variation").first.get_by_role("link", name="Add show details").click()
    expect(page.get_by_role("heading", name="Set the show's details")).to_be_visible()
    # The editor's form reacts through htmx, which binds it when the page has loaded; on a busy
    # machine the heading shows well before that, and a change made earlier is never sent.
    page.wait_for_load_state("load")
    expect(page.get_by_label("Title text")).to_have_value("Winter Jazz Weekend")
    preview = page.locator("[data-preview-img]")
    expect(preview).to_have_attribute("src", containing("font=bebas"))
    page.get_by_label("Typeface").select_option("spartan")
    expect(preview).to_have_attribute("src", containing("font=spartan"))
    # Issue 15: layouts and nudges from the keyboard, each a re-render of the same image.
    page.get_by_label("Centred stack").check()
    expect(preview).to_have_attribute("src", containing("position=center"))
    page.get_by_label("Centred stack").press("ArrowRight")  # arrow keys walk the radio group
    expect(preview).to_have_attribute("src", containing("position=split"))
    page.get_by_label("Down 1").press("Space")
    expect(preview).to_have_attribute("src", containing("offset=1"))
    expect(page.locator(".layout-pick__thumb")).to_have_count(4)
    page.wait_for_function("() => document.querySelector('[data-preview-img]').naturalWidth > 0")
    _shot(page, "studio-overlay-1280.png")
    assert _counts(app) == (jobs_before, ledger_before)  # re-typesetting is free: no job, no provider call

    page.get_by_role("button", name="Save with show details").click()
    expect(page.locator(".flash--success")).to_contain_text("Saved with the show's details")
    page.get_by_role("button", name="Use as poster").click()
    expect(page.locator(".flash--success")).to_contain_text("now the poster of Winter Jazz Weekend")
    _shot(page, "studio-saved-1280.png")
    assert _counts(app) == (jobs_before, ledger_before)

    with app.app_context():
        show = db.session.get(Show, show_id)
        poster = db.session.get(Asset, show.poster_asset_id)
        assert poster.kind == "edited" and poster.parent_id is not None
        assert poster.provenance["overlay"]["font"] == "spartan"
        assert (poster.width, poster.height) == (1200, 1800)
    assert not page.js_errors, page.js_errors


def containing(fragment: str):
    import re

    return re.compile(re.escape(fragment))
