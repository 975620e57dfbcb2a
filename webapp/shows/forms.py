"""Show forms. Every field is validated here with a message that says what to do; the pure
rules (zones, prices, links, performers) live in services.shows so callers that skip the form
obey them too.

Performances are a FieldList of FormField rows so the page works without JavaScript: existing
rows plus a few blank ones, each existing row with a "Remove" box; blank rows are ignored.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import DateInput, TimeInput

from webapp.imaging.overlay_text import MAX_TITLE_CHARS
from webapp.models import Show
from webapp.params import MAX_ID, parse_id
from webapp.services import shows as show_service

BLANK_ROWS = 3
SAME_AS_SHOW = ""


@functools.cache
def _zone_select_choices() -> tuple[SelectChoice, ...]:
    """The zone options, built on first use (listing tzdata costs ~0.1 s, not paid at import)."""
    return tuple(
        SelectChoice(zone, zone.replace("_", " "), optgroup=region)
        for region, zone in show_service.zone_choices()
    )


@functools.cache
def _zone_values() -> frozenset[str]:
    return frozenset(choice.value for choice in _zone_select_choices())


def _zone_choices() -> list[SelectChoice]:
    return list(_zone_select_choices())


def _zone_choices_or_same() -> list[SelectChoice]:
    return [SelectChoice(SAME_AS_SHOW, "Same as the show"), *_zone_select_choices()]


CURRENCY_CHOICES = [
    SelectChoice(code, f"{code} — {name}") for code, (name, _symbol) in show_service.CURRENCIES.items()
]


def _parse_date(text: str) -> date:
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("Enter the date as YYYY-MM-DD, for example 2026-03-06.") from None
    if not 2000 <= value.year <= 2100:
        raise ValueError("Check the year: enter a date between 2000 and 2100.")
    return value


_TIME_12H = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s*m?\.?\s*$", re.IGNORECASE)


def _parse_time(text: str) -> time:
    text = text.strip()
    match = _TIME_12H.match(text)
    try:
        if match:
            hour, minute = int(match.group(1)), int(match.group(2) or 0)
            if not 1 <= hour <= 12:
                raise ValueError
            hour = hour % 12 + (12 if match.group(3).lower() == "p" else 0)
            return time(hour, minute)
        return time.fromisoformat(text).replace(second=0, microsecond=0, tzinfo=None)
    except ValueError:
        raise ValueError("Enter the start time as HH:MM, for example 19:30 (or 7:30 pm).") from None


def _parse_price(text: str | None) -> Decimal | None:
    """Read in the producer's locale ("25,50" is 25.50 in de_DE, refused as ambiguous in en_US)."""
    from webapp.web_locale import producer_locale

    return show_service.parse_price(text, producer_locale())


class PerformanceForm(Form):
    """One performance row. No CSRF of its own: it is part of ShowForm."""

    performance_id = HiddenField()
    date = StringField("Date", widget=DateInput(), validators=[Optional()])
    time = StringField("Start time", widget=TimeInput(), validators=[Optional()])
    timezone = SelectField(
        "Time zone",
        choices=_zone_choices_or_same,  # callables: resolved per form, cached
        default=SAME_AS_SHOW,
        validate_choice=False,  # checked with zoneinfo below, with a better message
    )
    remove = BooleanField("Remove")

    #: Set by ShowForm before validation: the zone "Same as the show" stands for.
    show_zone: str = "UTC"
    #: After validation: the UTC start, or None for a blank or removed row.
    starts_at: datetime | None = None

    @property
    def is_blank(self) -> bool:
        return not (self.date.data or "").strip() and not (self.time.data or "").strip()

    @property
    def existing_id(self) -> int | None:
        return parse_id(self.performance_id.data)

    def validate(self, extra_validators: Any = None) -> bool:
        """Blank rows and rows ticked Remove are fine; otherwise both date and time must parse and
        exist in the chosen zone."""
        self.starts_at = None
        if not super().validate(extra_validators):
            return False
        if self.remove.data:
            return True
        if self.is_blank:
            if self.existing_id is not None:
                self.date.errors.append("Enter the date and time, or tick Remove to delete this performance.")
                return False
            return True
        zone = self.timezone.data or self.show_zone
        try:
            zone = show_service.check_zone(zone)
        except ValueError as exc:
            self.timezone.errors.append(str(exc))
            return False
        day = moment = None
        if not (self.date.data or "").strip():
            self.date.errors.append("Add the date of this performance.")
        else:
            try:
                day = _parse_date(self.date.data)
            except ValueError as exc:
                self.date.errors.append(str(exc))
        if not (self.time.data or "").strip():
            self.time.errors.append("Add the start time, for example 19:30.")
        else:
            try:
                moment = _parse_time(self.time.data)
            except ValueError as exc:
                self.time.errors.append(str(exc))
        if day is None or moment is None:
            return False
        try:
            self.starts_at = show_service.local_to_utc(datetime.combine(day, moment), zone)
        except ValueError as exc:
            self.time.errors.append(str(exc))
            return False
        return True


class ShowForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[
            InputRequired("Give the show a title, for example “The Midnight Revue”."),
            Length(
                max=MAX_TITLE_CHARS,
                message=f"Keep the title to {MAX_TITLE_CHARS} characters (posters set up to that, smaller "
                "and on more lines as it grows).",
            ),
        ],
    )
    venue_name = StringField(
        "Venue", validators=[Length(max=200, message="Keep the venue name to 200 characters.")]
    )
    venue_address = TextAreaField(
        "Venue address", validators=[Length(max=1000, message="Keep the address to 1,000 characters.")]
    )
    timezone = SelectField(
        "Venue time zone",
        choices=_zone_choices,
        default="UTC",
        validate_choice=False,  # checked with zoneinfo, with a message that says what to do
    )
    performances = FieldList(
        FormField(PerformanceForm), min_entries=0, max_entries=show_service.MAX_PERFORMANCES
    )
    currency = SelectField("Currency", choices=CURRENCY_CHOICES, default="USD")
    price_min = StringField("Lowest price", render_kw={"inputmode": "decimal", "autocomplete": "off"})
    price_max = StringField("Highest price", render_kw={"inputmode": "decimal", "autocomplete": "off"})
    performers = TextAreaField("Performers", render_kw={"rows": 4})
    cta_text = StringField(
        "Button text",
        default=show_service.DEFAULT_CTA,
        validators=[Length(max=60, message="Keep the button text to 60 characters.")],
    )
    ticket_url = StringField(
        "Ticket link",
        render_kw={"type": "url", "inputmode": "url", "placeholder": "https://"},
        validators=[Length(max=500, message="Keep the link to 500 characters.")],
    )
    more_dates = SubmitField("Add more dates")
    save = SubmitField("Save show")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._keep_unlisted_zones()

    def _keep_unlisted_zones(self) -> None:
        """A zone outside the select (a legacy alias such as US/Eastern stored by another caller,
        or a refused value being shown again) stays selectable, so saving the form never
        silently switches the venue to the first zone in the list."""
        selects = [self.timezone, *(entry.form.timezone for entry in self.performances.entries)]
        for select in selects:
            if select.data and select.data not in _zone_values():
                select.choices = [*select.choices, SelectChoice(select.data, select.data, optgroup="Other")]

    @classmethod
    def for_show(cls, show: Show) -> ShowForm:
        """The edit form filled from a show: its performances in venue time, then blank rows."""
        rows = []
        for perf in show.performances:
            day, clock = show_service.local_parts(perf)
            zone = SAME_AS_SHOW if perf.timezone == show.timezone else perf.timezone
            rows.append({"performance_id": str(perf.id), "date": day, "time": clock, "timezone": zone})
        form = cls(
            data={
                "title": show.title,
                "venue_name": show.venue_name,
                "venue_address": show.venue_address,
                "timezone": show.timezone,
                "performances": rows,
                "currency": show.currency,
                "price_min": _plain(show.price_min),
                "price_max": _plain(show.price_max),
                "performers": "\n".join(show.performers or []),
                "cta_text": show.cta_text,
                "ticket_url": show.ticket_url,
            }
        )
        form.add_blank_rows()
        return form

    def add_blank_rows(self, count: int = BLANK_ROWS) -> None:
        for _ in range(count):
            if len(self.performances.entries) >= show_service.MAX_PERFORMANCES:
                break
            self.performances.append_entry()

    def validate(self, extra_validators: Any = None) -> bool:
        """Rows need the show's zone to resolve "Same as the show"; hand it down first."""
        for entry in self.performances.entries:
            entry.form.show_zone = self.timezone.data or "UTC"
        return super().validate(extra_validators)

    def validate_timezone(self, field: SelectField) -> None:
        try:
            show_service.check_zone(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_currency(self, field: SelectField) -> None:
        if field.data not in show_service.CURRENCIES:
            raise ValidationError("Choose a currency from the list.")

    def validate_price_min(self, field: StringField) -> None:
        try:
            _parse_price(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_price_max(self, field: StringField) -> None:
        try:
            high = _parse_price(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        try:
            low = _parse_price(self.price_min.data)
        except ValueError:
            return  # reported on the lowest price already
        try:
            show_service.check_prices(low, high)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_performers(self, field: TextAreaField) -> None:
        try:
            show_service.parse_performers(field.data or "")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_ticket_url(self, field: StringField) -> None:
        try:
            show_service.check_ticket_url(field.data or "")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def show_data(self) -> show_service.ShowData:
        """The validated form as the service's ShowData."""
        performances = [
            {
                "id": row.existing_id,
                "starts_at": row.starts_at,
                "timezone": row.timezone.data or self.timezone.data,
            }
            for row in (entry.form for entry in self.performances.entries)
            if row.starts_at is not None
        ]
        return {
            "title": self.title.data or "",
            "venue_name": self.venue_name.data or "",
            "venue_address": self.venue_address.data or "",
            "timezone": self.timezone.data,
            "currency": self.currency.data,
            "price_min": _parse_price(self.price_min.data),
            "price_max": _parse_price(self.price_max.data),
            "performers": show_service.parse_performers(self.performers.data or ""),
            "cta_text": self.cta_text.data or "",
            "ticket_url": self.ticket_url.data or "",
            "performances": performances,
        }


def _plain(value: Decimal | None) -> str:
    """A stored price written back in the producer's locale, so saving the form again reads it the same."""
    from babel.numbers import format_decimal, get_decimal_symbol

    from webapp.web_locale import producer_locale

    if value is None:
        return ""
    locale = producer_locale()
    text = format_decimal(value, format="0.00", locale=locale)
    zeros = get_decimal_symbol(locale) + "00"
    return text[: -len(zeros)] if text.endswith(zeros) else text


# Ids beyond MAX_ID cannot name a row; refusing them here keeps them from reaching Postgres.
_AN_ID = NumberRange(1, MAX_ID, "That is not one of the choices.")


class AssignForm(FlaskForm):
    asset_id = IntegerField(validators=[InputRequired("Choose an image to assign."), _AN_ID])


class FillFromJobForm(FlaskForm):
    job_id = IntegerField(validators=[InputRequired("Choose which auto-format result to use."), _AN_ID])


class UseJobForm(FillFromJobForm):
    """The "Use these for show …" form on auto-format results: the show comes from a select."""

    show_id = IntegerField(validators=[InputRequired("Choose the show to use these images for."), _AN_ID])
