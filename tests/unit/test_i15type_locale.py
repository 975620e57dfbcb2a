"""Issue 15, the producer's locale: poster dates worded by Babel, prices read by locale (never "25,50" as
2550), the locale chosen from the setting, the browser, then en_US; the CLI's typed dates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from webapp.services.show_locale import (
    format_typed_date,
    parse_localized_price,
    poster_dates,
    resolve_locale,
)
from webapp.services.show_rules import parse_price

TODAY = date(2026, 12, 3)
T = "\u2009"  # CLDR's thin space around an interval's dash in English


def at(*days: tuple[int, int, int, int, int]) -> list[datetime]:
    return [datetime(*d) for d in days]


ONE = at((2026, 12, 5, 20, 0))
TWO_TIMES = at((2026, 12, 5, 14, 0), (2026, 12, 5, 20, 0))
RUN_SAME_TIME = at((2027, 3, 14, 20, 0), (2027, 3, 15, 20, 0), (2027, 3, 16, 20, 0))
RUN_VARIED = at((2027, 3, 14, 20, 0), (2027, 3, 16, 19, 30))
ACROSS_MONTHS = at((2026, 12, 30, 20, 0), (2027, 1, 2, 20, 0))
HALF_PAST = at((2026, 12, 5, 19, 30))


@pytest.mark.parametrize(
    ("starts", "locale", "expected"),
    [
        (ONE, "en_US", "Sat, Dec 5 · 8 PM"),
        (ONE, "en_GB", "Sat 5 Dec · 20:00"),
        (ONE, "de_DE", "Sa., 5. Dez. · 20:00"),
        (ONE, "fr_FR", "sam. 5 déc. · 20:00"),
        (HALF_PAST, "en_US", "Sat, Dec 5 · 7:30 PM"),
        (TWO_TIMES, "en_US", "Sat, Dec 5 · 2 PM and 8 PM"),
        (TWO_TIMES, "de_DE", "Sa., 5. Dez. · 14:00 und 20:00"),
        (RUN_SAME_TIME, "en_GB", f"14{T}–{T}16 Mar 2027 · 20:00"),
        (RUN_SAME_TIME, "en_US", f"Mar 14{T}–{T}16, 2027 · 8 PM"),
        (RUN_VARIED, "en_GB", f"14{T}–{T}16 Mar 2027"),  # times vary: left out, nothing shouted
        (RUN_VARIED, "de_DE", "14.–16. März 2027"),
        (ACROSS_MONTHS, "en_GB", f"30 Dec 2026{T}–{T}2 Jan 2027 · 20:00"),
        ([], "en_US", ""),
    ],
)
def test_poster_dates_are_compact_and_in_the_producers_locale(starts, locale, expected):
    assert poster_dates(starts, locale, TODAY) == expected
    assert "various" not in expected.lower()


def test_the_year_is_printed_only_when_a_date_is_not_this_year():
    assert "2026" not in poster_dates(ONE, "en_US", TODAY)
    assert "2026" in poster_dates(ONE, "en_US", date(2025, 6, 1))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-12-05 20:00", "Sat, Dec 5 · 8 PM"),
        ("2026-12-05T19:30", "Sat, Dec 5 · 7:30 PM"),
        ("2026-12-05", "Sat, Dec 5"),
        ("2027-01-02", "Sat, Jan 2, 2027"),
        ("Every Friday in March", "Every Friday in March"),
        ("2026-13-45 20:00", "2026-13-45 20:00"),  # not a date: kept as typed
    ],
)
def test_a_date_typed_on_the_command_line_reads_like_the_posters(typed, expected):
    assert format_typed_date(typed, "en_US", TODAY) == expected


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("25", "en_US", Decimal("25")),
        ("25.50", "en_US", Decimal("25.50")),
        ("1,250", "en_US", Decimal("1250")),
        ("1,250.50", "en_US", Decimal("1250.50")),
        ("25,50", "de_DE", Decimal("25.50")),
        ("1.250,50", "de_DE", Decimal("1250.50")),
        ("1 250,50", "fr_FR", Decimal("1250.50")),
        ("25,5", "fr_FR", Decimal("25.5")),
    ],
)
def test_prices_are_read_in_the_producers_locale(text, locale, expected):
    assert parse_localized_price(text, locale) == expected
    assert parse_price(text, locale) == expected


@pytest.mark.parametrize(
    ("text", "locale", "message"),
    [
        ("25,50", "en_US", "for cents write 25.50"),  # never 2550
        ("25,50", "en_GB", "for cents write 25.50"),
        ("25.50", "de_DE", "for cents write 25,50"),
        ("25,5", "en_US", "Enter a number such as 25 or 25.50"),
        ("ten", "en_US", "Enter a number such as 25 or 25.50"),
        ("ten", "de_DE", "Enter a number such as 25 or 25,50"),
        ("$25", "en_US", "without the currency sign"),
    ],
)
def test_ambiguous_or_unreadable_prices_are_refused_with_an_example(text, locale, message):
    with pytest.raises(ValueError, match=message):
        parse_price(text, locale)


@pytest.mark.parametrize(
    ("setting", "accepted", "expected"),
    [
        ("de_DE", ["en-US"], "de_DE"),
        (None, ["en-GB", "en"], "en_GB"),
        (None, ["de"], "de_DE"),
        (None, ["pt-br"], "pt_BR"),
        (None, ["tlh", "x-klingon"], "en_US"),
        ("xx_YY", [], "en_US"),
        (None, [], "en_US"),
    ],
)
def test_the_locale_is_the_setting_then_the_browser_then_en_us(setting, accepted, expected):
    assert resolve_locale(setting, accepted) == expected
