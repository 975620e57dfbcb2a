"""Password reset in Chromium: "Forgot your password?" on the login page, the e-mail (through a real
SMTP server the live server sends to), the link, a new password, logging in with it, and the link
refused the second time."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email import message_from_bytes

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.browser

NEW_PASSWORD = "violet kettle on a quiet tram"


class _Inbox:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def live_smtp() -> Iterator[_Inbox]:
    """A real SMTP server on loopback; SMTP_URL points at it while this module's live server starts."""
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
        yield inbox
    controller.stop()


@pytest.fixture(scope="module")
def live_http(live_smtp, live_http):
    """The live server reads SMTP_URL from the environment when it is built, so build it after."""
    return live_http


def _wait_for_mail(inbox: _Inbox, deadline: float = 60.0):
    end = time.monotonic() + deadline
    while not inbox.envelopes and time.monotonic() < end:
        time.sleep(0.1)
    assert inbox.envelopes, "no reset mail arrived"
    return inbox.envelopes[-1]


def test_forgot_password_mail_link_new_password_then_link_is_dead(live_server, live_smtp, page, make_user):
    from playwright.sync_api import expect

    _, email = make_user(email="forgetful@example.com")
    page.goto(live_server + "/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_text("If an account uses that address")).to_be_visible()

    envelope = _wait_for_mail(live_smtp)
    assert envelope.rcpt_tos == [email]
    body = message_from_bytes(envelope.content).get_payload(decode=True).decode()
    link = re.search(r"http://\S+/password/reset/\S+", body).group(0)
    assert link.startswith(live_server)

    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill("password1234")
    page.get_by_label("Repeat new password").fill("password1234")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_text("common or breached")).to_be_visible()

    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_text("Your password is changed")).to_be_visible()

    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    # the refused form answered 422, which Chromium logs as "Failed to load resource"; no script failed
    assert [e for e in page.js_errors if not e.startswith("Failed to load resource")] == []

    page.goto(link)
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
