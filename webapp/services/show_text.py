"""Show wording: how dates and prices read on every page (and later in the studio's typesetting).

Split out of services.shows so the words can change (and be tested) without touching the
database code: everything here is pure, takes a Show or Performance already loaded, and
returns text. Dates are the venue's wall-clock time; prices use the currency's own symbol.
services.shows re-exports the public names for older callers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from webapp.models import Performance, Show

#: Common ISO 4217 currencies for the select, with the symbol shown in prices. Codes without a
#: well-known unambiguous symbol are shown as the code ("CHF 25").
CURRENCIES: dict[str, tuple[str, str | None]] = {
    "USD": ("US dollar", "$"),
    "EUR": ("Euro", "€"),
    "GBP": ("Pound sterling", "£"),
    "CAD": ("Canadian dollar", "CA$"),
    "AUD": ("Australian dollar", "A$"),
    "NZD": ("New Zealand dollar", "NZ$"),
    "CHF": ("Swiss franc", None),
    "SEK": ("Swedish krona", None),
    "NOK": ("Norwegian krone", None),
    "DKK": ("Danish krone", None),
    "PLN": ("Polish złoty", None),
    "CZK": ("Czech koruna", None),
    "HUF": ("Hungarian forint", None),
    "JPY": ("Japanese yen", "¥"),
    "KRW": ("South Korean won", "₩"),
    "CNY": ("Chinese yuan", "CN¥"),
    "HKD": ("Hong Kong dollar", "HK$"),
    "SGD": ("Singapore dollar", "S$"),
    "INR": ("Indian rupee", "₹"),
    "ILS": ("Israeli new shekel", "₪"),
    "AED": ("UAE dirham", None),
    "ZAR": ("South African rand", None),
    "MXN": ("Mexican peso", "MX$"),
    "BRL": ("Brazilian real", "R$"),
    "ARS": ("Argentine peso", None),
}


def _clock(moment: datetime, short: bool) -> str:
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    if short and moment.minute == 0:
        return f"{hour} {suffix}"
    return f"{hour}:{moment.minute:02d} {suffix}"


def _day(moment: datetime, month: bool = True, year: bool = True) -> str:
    text = f"{moment:%a} {moment.day}"
    if month:
        text += f" {moment:%B}"
    if year:
        text += f" {moment.year}"
    return text


def format_performance(perf: Performance) -> str:
    """'Fri 6 March 2026, 8:00 pm (Europe/London)': wall-clock time at the venue."""
    local = perf.local_start
    return f"{_day(local)}, {_clock(local, short=False)} ({perf.timezone})"


def format_performances(show: Show) -> list[str]:
    """Every performance, in date order, in its venue's local time."""
    return [format_performance(p) for p in sorted(show.performances, key=lambda p: p.starts_at)]


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def date_summary(show: Show) -> str:
    """The dates in one line, as a poster would print them.

    'Fri 6 March 2026, 8 pm' for one date; 'Fri 6 - Sun 8 March 2026, 8 pm' (en dash) for a run at the
    same time within a month (month and year only repeated when they change); one day with
    several times lists them ('Sat 7 March 2026, 2 pm and 8 pm'); runs at varying times end in
    ', various times'. No dates: 'Dates to be announced'.
    """
    local = [p.local_start for p in sorted(show.performances, key=lambda p: p.starts_at)]
    if not local:
        return "Dates to be announced"
    first, last = local[0], local[-1]
    times = list(dict.fromkeys(_clock(m, short=True) for m in local))
    if first.date() == last.date():
        when = _join(times) if len(times) <= 3 else "various times"
        return f"{_day(first)}, {when}"
    same_year = first.year == last.year
    same_month = same_year and first.month == last.month
    span = f"{_day(first, month=not same_month, year=not same_year)} – {_day(last)}"
    return f"{span}, {times[0] if len(times) == 1 else 'various times'}"


def next_performance(show: Show, now: datetime | None = None) -> Performance | None:
    """The next performance still to come, or None when all are past (or there are none)."""
    now = now or datetime.now(UTC)
    upcoming = [p for p in show.performances if p.starts_at >= now]
    return min(upcoming, key=lambda p: p.starts_at) if upcoming else None


def _amount(value: Decimal, currency: str) -> str:
    symbol = CURRENCIES.get(currency, ("", None))[1]
    number = f"{value:,.2f}"
    if number.endswith(".00"):
        number = number[:-3]
    return f"{symbol}{number}" if symbol else f"{currency} {number}"


def price_text(show: Show) -> str:
    """'$25', '$25-$60' (en dash), 'Free' (both empty or 0), 'CHF 25' where there is no common symbol."""
    pmin = show.price_min if show.price_min is not None else None
    pmax = show.price_max if show.price_max is not None else None
    values = [v for v in (pmin, pmax) if v is not None]
    if not values or all(v == 0 for v in values):
        return "Free"
    low, high = min(values), max(values)
    if low == high:
        return _amount(low, show.currency)
    low_text = "Free" if low == 0 else _amount(low, show.currency)
    return f"{low_text}–{_amount(high, show.currency)}"


def local_parts(perf: Performance) -> tuple[str, str]:
    """('2026-03-06', '20:00') at the venue, to fill the edit form."""
    local = perf.local_start
    return local.date().isoformat(), local.time().replace(second=0, microsecond=0).strftime("%H:%M")


__all__ = [
    "CURRENCIES",
    "date_summary",
    "format_performance",
    "format_performances",
    "local_parts",
    "next_performance",
    "price_text",
]
