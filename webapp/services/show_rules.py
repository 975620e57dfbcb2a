"""Show input rules: what a show's zone, start times, ticket link, performers and prices may be.

Split out of services.shows so the form (for messages next to each field) and the service (so
callers that skip the form cannot store nonsense) share one pure copy of the checks, with no
database or Flask import. Each check returns the cleaned value or raises ValueError with a
message for the producer. services.shows re-exports the public names for older callers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

MAX_PERFORMERS = 30
MAX_PERFORMER_CHARS = 120
MAX_PRICE = Decimal("99999999.99")  # Numeric(10, 2)

ZONE_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


def zone_choices() -> list[tuple[str, str]]:
    """(region, zone) pairs of canonical IANA zones, sorted, plus UTC; legacy aliases left out
    so the select stays readable."""
    zones = sorted(z for z in available_timezones() if z.split("/", 1)[0] in ZONE_REGIONS and "/" in z)
    return [("UTC", "UTC"), *((z.split("/", 1)[0], z) for z in zones)]


def check_zone(name: str) -> str:
    """The zone name if zoneinfo knows it; ValueError with a message otherwise."""
    name = (name or "").strip()
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ZoneInfoNotFoundError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"“{name[:64]}” is not a time zone we know. Choose the venue's zone from the list, "
            "for example Europe/London or America/New_York."
        ) from None
    return name


def local_to_utc(local: datetime, zone: str) -> datetime:
    """Wall-clock time at the venue -> UTC. Refuses times the clocks skip over (spring forward),
    because storing them would silently move the show by an hour."""
    tz = ZoneInfo(check_zone(zone))
    aware = local.replace(tzinfo=tz)
    utc = aware.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValueError(
            f"{local:%H:%M} does not exist on {local:%d %b %Y} in {zone}: the clocks go forward then. "
            "Choose another time."
        )
    return utc


def check_ticket_url(url: str) -> str:
    """An http(s) link with a host, or ''. Other schemes (javascript:, data:, ftp:) are refused."""
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or re.search(r"\s", url)
        or len(url) > 500
    ):
        raise ValueError(
            "Enter the full ticket link, starting with https:// (for example "
            "https://tickets.example.com/my-show)."
        )
    return url


def parse_performers(text: str | Iterable[str]) -> list[str]:
    """One performer per line -> a list. Blank lines are dropped; limits are checked."""
    lines = text.splitlines() if isinstance(text, str) else list(text)
    names = [" ".join(line.split()) for line in lines]
    names = [n for n in names if n]
    for n in names:
        if len(n) > MAX_PERFORMER_CHARS:
            raise ValueError(
                f"“{n[:30]}…” is {len(n)} characters long; keep each performer to "
                f"{MAX_PERFORMER_CHARS} characters."
            )
    if len(names) > MAX_PERFORMERS:
        raise ValueError(
            f"That is {len(names)} performers; list at most {MAX_PERFORMERS} (one per line), "
            "for example the headliners."
        )
    return names


PRICE_FORMAT = "Enter a number such as 25 or 25.50, without the currency sign."


def parse_price(value: object, locale: str | None = None) -> Decimal | None:
    """A ticket price from a form box or a JSON number/string: None when empty, else a Decimal
    of at most two places within 0..MAX_PRICE. A string is read in the producer's ``locale``
    (default en_US: "1,250.50"; de_DE: "1.250,50"); what is ambiguous there ("25,50" in en_US) is
    refused with an example, never read as 2550. ValueError with a message for the producer
    otherwise — never decimal's own "[<class 'decimal.ConversionSyntax'>]"."""
    from webapp.services.show_locale import DEFAULT_LOCALE, parse_localized_price

    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(PRICE_FORMAT)
    if not isinstance(value, str):
        text = str(value).strip()
        if not text:
            return None
        try:
            price = Decimal(text)
        except InvalidOperation:
            raise ValueError(PRICE_FORMAT) from None
    else:
        if not value.strip():
            return None
        price = parse_localized_price(value, locale or DEFAULT_LOCALE)
    if not price.is_finite():
        raise ValueError(PRICE_FORMAT)
    if price < 0:
        raise ValueError("Prices cannot be negative. Use 0 (or leave both empty) for a free show.")
    if price > MAX_PRICE:
        raise ValueError("That price is too large; enter it in whole currency units, for example 25.")
    if price != price.quantize(Decimal("0.01")):
        raise ValueError("Use at most two decimal places, for example 25.50.")
    return price


def check_prices(price_min: Decimal | None, price_max: Decimal | None) -> None:
    for value in (price_min, price_max):
        if value is not None and (value < 0 or value > MAX_PRICE):
            raise ValueError("Prices must be between 0 and 99,999,999.99.")
    if price_min is not None and price_max is not None and price_min > price_max:
        raise ValueError("The lowest price is higher than the highest: swap them or correct one.")


__all__ = [
    "MAX_PERFORMERS",
    "MAX_PERFORMER_CHARS",
    "MAX_PRICE",
    "ZONE_REGIONS",
    "check_prices",
    "check_ticket_url",
    "check_zone",
    "local_to_utc",
    "parse_performers",
    "parse_price",
    "zone_choices",
]
