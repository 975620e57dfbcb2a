"""The current producer's locale for a request: their Settings choice, else their browser's
Accept-Language, else en_US (the rule itself is the pure ``services.show_locale.resolve_locale``)."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from webapp.services.show_locale import DEFAULT_LOCALE, resolve_locale


def producer_locale() -> str:
    """The locale dates and prices are written and read in for this request."""
    if not has_request_context():
        return DEFAULT_LOCALE
    setting = getattr(current_user, "locale", None) if current_user.is_authenticated else None
    return resolve_locale(setting, [lang for lang, _ in request.accept_languages])
