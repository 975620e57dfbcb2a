"""The producer's locale: which one applies, how a poster prints the show's dates in it, and how a price
typed in it is read. PURE (Babel's CLDR data, no database or Flask).

Why Babel: "Sat 5 Dec · 8 pm", "Sat, Dec 5 · 8 PM", "Sa., 5. Dez. · 20 Uhr" and the collapsing of a
range's shared month and year ("14-16 Mar 2027" with an en dash) are CLDR's job, and hand-made
wording got them wrong ("SUN 14 - TUE 16 MARCH 2027, VARIOUS TIMES"). Prices: "25,50" means 25.50 in
Germany and is a typo in the US; reading it by the producer's locale — and refusing what is ambiguous
there, with an example — replaces the old "drop every comma", which saved $2,550.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

DEFAULT_LOCALE = "en_US"
#: Locales a producer can choose (Settings), and that Accept-Language is matched against.
LOCALES: dict[str, str] = {
    "en_US": "English (United States)",
    "en_GB": "English (United Kingdom)",
    "en_CA": "English (Canada)",
    "en_AU": "English (Australia)",
    "en_IE": "English (Ireland)",
    "de_DE": "Deutsch (Deutschland)",
    "de_AT": "Deutsch (Österreich)",
    "de_CH": "Deutsch (Schweiz)",
    "fr_FR": "Français (France)",
    "fr_CA": "Français (Canada)",
    "es_ES": "Español (España)",
    "es_MX": "Español (México)",
    "it_IT": "Italiano",
    "nl_NL": "Nederlands",
    "pt_BR": "Português (Brasil)",
    "pt_PT": "Português (Portugal)",
    "sv_SE": "Svenska",
    "da_DK": "Dansk",
    "nb_NO": "Norsk bokmål",
    "fi_FI": "Suomi",
    "pl_PL": "Polski",
    "cs_CZ": "Čeština",
    "ja_JP": "日本語",
}
_SEP = " · "


def resolve_locale(setting: str | None, accepted: Iterable[str] = ()) -> str:
    """The producer's own setting, else the first supported language their browser accepts (a bare
    "de" takes the first "de_*"), else en_US."""
    if setting in LOCALES:
        return setting
    for tag in accepted:
        code = str(tag).replace("-", "_")
        parts = code.split("_")
        exact = f"{parts[0].lower()}_{parts[1].upper()}" if len(parts) > 1 else ""
        if exact in LOCALES:
            return exact
        same_language = next((k for k in LOCALES if k.split("_")[0] == parts[0].lower()), None)
        if same_language:
            return same_language
    return DEFAULT_LOCALE


# --------------------------------------------------------------------------- dates


def _twelve_hour(locale: str) -> bool:
    from babel import Locale

    pattern = Locale.parse(locale).time_formats["short"].pattern
    return "h" in pattern or "K" in pattern


def format_clock(moment: datetime, locale: str) -> str:
    """'8 pm' / '8 PM' / '7:30 PM' in 12-hour locales (minutes only when not :00); '20:00' in 24-hour
    ones (a bare '20' does not read as a time)."""
    from babel.dates import format_skeleton

    skeleton = ("h" if moment.minute == 0 else "hm") if _twelve_hour(locale) else "Hm"
    return format_skeleton(skeleton, moment, locale=locale)


def poster_dates(starts: Sequence[datetime], locale: str = DEFAULT_LOCALE, today: date | None = None) -> str:
    """The show's dates as a poster prints them, from its performances' venue-local start times.

    One day: 'Sat 5 Dec · 8 pm' (several times: '… · 2 pm and 8 pm'); a run: '14-16 Mar 2027' (en dash),
    with the time added when every performance starts at the same time. The year only appears when a
    date is not in the current year. Times that vary are left out (the show page lists them). No dates: ''.
    """
    from babel.dates import format_interval, format_skeleton
    from babel.lists import format_list

    local = sorted(starts)
    if not local:
        return ""
    today = today or date.today()
    with_year = any(m.year != today.year for m in local)
    first, last = local[0], local[-1]
    times = list(dict.fromkeys(format_clock(m, locale) for m in local))
    if first.date() == last.date():
        day = format_skeleton("yMMMEd" if with_year else "MMMEd", first, locale=locale)
        if len(times) <= 3:
            return f"{day}{_SEP}{format_list(times, locale=locale)}"
        return day
    span = format_interval(first.date(), last.date(), "yMMMd" if with_year else "MMMd", locale=locale)
    return f"{span}{_SEP}{times[0]}" if len(times) == 1 else span


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{1,2}:\d{2})?")


def format_typed_date(text: str, locale: str = DEFAULT_LOCALE, today: date | None = None) -> str:
    """A date typed on the command line: an ISO date or date-time ('2026-12-05 20:00') is printed like
    the poster's own dates; anything else is the producer's wording and stays as typed."""
    text = " ".join((text or "").split())
    if not _ISO.fullmatch(text):
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if len(text) == 10:  # a date alone: no time to print
        from babel.dates import format_skeleton

        skeleton = "MMMEd" if moment.year == (today or date.today()).year else "yMMMEd"
        return format_skeleton(skeleton, moment, locale=locale)
    return poster_dates([moment], locale, today)


# --------------------------------------------------------------------------- prices


def price_example(locale: str) -> str:
    """'25.50' / '25,50': how a price with cents is written in this locale."""
    from babel.numbers import format_decimal

    return format_decimal(Decimal("25.50"), format="0.00", locale=locale)


def parse_localized_price(text: str, locale: str = DEFAULT_LOCALE) -> Decimal:
    """A price typed in the producer's locale ('25,50' in de_DE, '1,250.50' in en_US). Raises ValueError
    with an example when the text is not a number there, or is ambiguous: in a locale whose decimal mark is
    a point, '25,50' (a comma and exactly two digits at the end) is refused — it is far more likely cents
    typed the European way than 2,550."""
    from babel.numbers import NumberFormatError, get_decimal_symbol, get_group_symbol, parse_decimal

    example = price_example(locale)
    text = text.strip()
    group, decimal_mark = get_group_symbol(locale), get_decimal_symbol(locale)
    if group.isspace():  # French and others group with a (narrow) no-break space; accept a plain one
        text = re.sub(r"(?<=\d)[ \u00a0\u202f](?=\d{3}\b)", group, text)
    other = "," if decimal_mark == "." else "." if decimal_mark == "," else None
    if other and re.fullmatch(rf"\d+{re.escape(other)}\d{{2}}", text):
        raise ValueError(
            f"“{text}” is ambiguous here: for cents write {example} (with “{decimal_mark}”), "
            "or leave out the cents."
        )
    try:
        return parse_decimal(text, locale=locale, strict=True)
    except NumberFormatError:
        raise ValueError(
            f"Enter a number such as 25 or {example}, without the currency sign "
            f"(“{text[:30]}” is not a price we can read)."
        ) from None
