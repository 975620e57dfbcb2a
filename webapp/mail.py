"""Sending e-mail: SMTP when SMTP_URL is set, otherwise the message goes to the log.

SMTP_URL looks like smtp://user:pass@host:587 (STARTTLS when the server offers it) or
smtps://host:465. A mail failure never breaks the action that triggered it: it is logged.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

from flask import current_app

log = logging.getLogger(__name__)


def send_mail(to: list[str], subject: str, text: str, html: str | None = None) -> bool:
    """Send one message to `to`. Returns False (and logs) when it could not be sent."""
    recipients = [r for r in to if r]
    if not recipients:
        return False
    msg = EmailMessage()
    msg["From"] = current_app.config.get("MAIL_FROM", "Marquee <marquee@localhost>")
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    url = current_app.config.get("SMTP_URL")
    if not url:
        log.info("mail (no SMTP_URL set) to=%s subject=%r\n%s", recipients, subject, text)
        return True
    parsed = urlparse(url)
    try:
        if parsed.scheme == "smtps":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                parsed.hostname or "localhost", parsed.port or 465, timeout=10
            )
        else:
            server = smtplib.SMTP(parsed.hostname or "localhost", parsed.port or 25, timeout=10)
        with server:
            server.ehlo()
            if parsed.scheme == "smtp" and server.has_extn("starttls"):
                server.starttls()
                server.ehlo()
            if parsed.username:
                server.login(unquote(parsed.username), unquote(parsed.password or ""))
            server.send_message(msg)
        return True
    except (OSError, smtplib.SMTPException):
        log.exception("could not send mail %r to %s", subject, recipients)
        return False
