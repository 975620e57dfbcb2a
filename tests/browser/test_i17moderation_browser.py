"""Moderation in Chromium (issue 17): bulk → review → publish with one image held by moderation (the
OpenAI fake flags its prompt) → a staff member approves it in Approvals → it shows as published."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, JOB_TIMEOUT_MS, new_context
from tests.conftest import PASSWORD
from tests.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.browser

OPENAI_KEY = "sk-browser-moderation-4e2b"
PROMPTS = [
    "Neon jazz club at midnight, saxophone silhouette",
    "Dragon battle over the opera house",
    "Sunset folk festival on a hill, warm light",
]


def _log_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_bulk_publish_holds_the_flagged_image_and_staff_approval_publishes_it(
    live_server, browser, page, app, make_user
):
    from playwright.sync_api import expect

    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import keys, moderation, providers

    admin_id, email = make_user(role="admin")
    _, staff_email = make_user(role="staff")
    with FakeOpenAI(valid_key=OPENAI_KEY) as fake:
        fake.flag_text("dragon", "violence")
        with app.app_context():
            providers.ensure_providers()
            row = providers.get_provider("openai")
            providers.update_settings(row, {"enabled": True, "base_url": fake.url})
            keys.set_platform_key(row, OPENAI_KEY)
            moderation.update_settings(db.session.get(User, admin_id), "openai", True)

        _log_in(page, live_server, email)
        page.get_by_role("link", name="Bulk").click()
        page.get_by_label("Prompts, one per line").fill("\n".join(PROMPTS))
        page.get_by_label("Image type").select_option("square")
        page.get_by_role("button", name="Review cost and time").click()
        page.get_by_role("button", name="Start batch").click()
        tiles = page.locator("#bulk-grid li.btile")
        expect(tiles).to_have_count(3, timeout=JOB_TIMEOUT_MS)
        expect(page.locator("#bulk-panel")).to_contain_text("Batch finished", timeout=JOB_TIMEOUT_MS)

        page.get_by_role("button", name="Publish 3 selected").click()
        expect(page.get_by_text("2 published, 1 held for review (violence)").first).to_be_visible()
        held_tile = page.locator("#bulk-grid li.btile", has_text="Dragon battle")
        expect(held_tile.locator("[data-status=held]")).to_contain_text("Held for review")
        expect(held_tile).to_contain_text("violence")
        expect(page.locator("#bulk-grid [data-status=published]")).to_have_count(2)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "moderation-held-1280.png"), full_page=True, caret="initial")
        assert len(fake.requests_to("/v1/moderations")) == 3

        # A staff member decides in Approvals: the image, its category and score are there.
        staff_ctx = new_context(browser)
        staff = staff_ctx.new_page()
        _log_in(staff, live_server, staff_email)
        staff.goto(live_server + "/admin/approvals")
        card = staff.locator(".mod-held__item")
        expect(card).to_have_count(1)
        expect(card).to_contain_text("violence")
        expect(card).to_contain_text("0.930")
        expect(card.locator("img")).to_be_visible()
        staff.set_viewport_size({"width": 390, "height": 844})
        staff.screenshot(
            path=str(ARTIFACTS / "moderation-approvals-390.png"), full_page=True, caret="initial"
        )
        staff.set_viewport_size({"width": 1280, "height": 900})
        card.get_by_label("Reason").fill("A stage fight; fine for posters.")
        card.get_by_role("button", name="Approve image").click()
        expect(staff.locator(".flash--success").first).to_contain_text("approved and published")
        expect(staff.locator(".mod-held__item")).to_have_count(0)
        staff_ctx.close()

        # The producer sees it published: on the batch page and in the library's Published filter.
        page.reload()
        expect(page.locator("#bulk-grid [data-status=published]")).to_have_count(3)
        page.goto(live_server + "/library?status=published")
        expect(page.locator(".tile")).to_have_count(3)
        page.goto(live_server + "/library?status=held")
        expect(page.locator(".tile")).to_have_count(0)
        assert not page.js_errors, page.js_errors
