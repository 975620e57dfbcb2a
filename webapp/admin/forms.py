"""Admin forms: provider settings (with the per-model price table), platform keys, filters.

Every field is validated here with a message that says what to fix, so the services receive only
clean values. The price table is a grid of inputs built per provider (models x sizes x qualities)
because its shape depends on the adapter's model list and on the sizes each model is priced at.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from webapp.params import MAX_ID
from webapp.services.pricing import CREDIT_ROW, DEFAULT_PRICES, QUALITIES, TIER_ORDER, tier_of

MAX_UNIT_PRICE = Decimal("1000")
MAX_BUDGET = Decimal("10000000")
MAX_SPAN_DAYS = 366


def parse_money(text: str | None, *, places: int = 4, maximum: Decimal | None = None) -> Decimal | None:
    """A non-negative decimal with at most `places` decimals; None for an empty input.

    Raises ValueError with a message for the form. Exponents and NaN/Infinity are refused so what
    the admin typed is exactly what is stored.
    """
    raw = (text or "").strip().replace("$", "").replace(",", "")
    if not raw:
        return None
    # ASCII digits: str.isdigit() is also true for "²" and other scripts' digits.
    if not all(ch in "0123456789." for ch in raw) or raw.count(".") > 1 or raw == ".":
        raise ValueError("Enter a number like 0.05 (digits and one decimal point, not negative).")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError("Enter a number like 0.05.") from None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise ValueError(f"Use at most {places} decimal places.")
    if maximum is not None and value > maximum:
        raise ValueError(f"That is more than {maximum:,}; check the number.")
    return value


def validate_base_url(text: str | None, provider_name: str | None = None) -> str | None:
    """An http(s) URL with a host, or None. Proxies and gateways only: no credentials in the URL,
    because the URL is shown on the page and written to the audit log. With `provider_name`, the
    host must also be one keys may go to (the provider's own, or PROVIDER_BASE_URL_ALLOWLIST):
    the admin page, the API and the CLI all refuse the same URLs with the same message."""
    raw = (text or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("Enter a full http:// or https:// address, e.g. https://gateway.example.com/v1.")
    if parts.username or parts.password:
        raise ValueError("Leave credentials out of the address; the key is set separately below.")
    if parts.query or parts.fragment:
        raise ValueError("Leave out ?query and #fragment parts.")
    if provider_name is not None:
        from webapp.services.keys import check_base_url

        check_base_url(raw, provider_name)  # BaseUrlRefused is a ValueError with the message
    return raw.rstrip("/")


# --------------------------------------------------------------------------- price table


def price_grid(
    provider_name: str, models: tuple[str, ...], table: dict | None
) -> list[tuple[str, list[str]]]:
    """[(model, [sizes])] for the edit page: the sizes each model is priced at now, else its list
    prices' sizes, else the sizes of the provider's first priced model."""
    table = table or {}
    defaults = DEFAULT_PRICES.get(provider_name, {})
    fallback_sizes = next(iter(defaults.values()), {}) or next(iter(table.values()), {})
    grid = []
    for model in models:
        sizes = table.get(model) or defaults.get(model) or fallback_sizes
        grid.append((model, list(sizes)))
    return grid


def price_field_name(model: str, size: str, quality: str) -> str:
    return f"price__{model}__{size}__{quality}"


def _price_value(table: dict, defaults: dict, model: str, size: str, quality: str) -> str:
    for source in (table, defaults):
        try:
            return str(source[model][size][quality])
        except (KeyError, TypeError):
            continue
    return ""


def _check_price(_form: FlaskForm, field: Field) -> None:
    try:
        value = parse_money(field.data, places=4, maximum=MAX_UNIT_PRICE)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    if value is None:
        raise ValidationError("Enter a price (0 for free).")


class ProviderForm(FlaskForm):
    """Settings of one platform provider. Build with `provider_form(provider, spec)`."""

    model = SelectField("Model", choices=[])
    enabled = BooleanField("Enabled")
    make_default = BooleanField("Make this the default provider")
    fallback_order = IntegerField(
        "Fallback order", validators=[InputRequired("Enter a number."), NumberRange(0, 1000)]
    )
    default_quality = SelectField("Default quality", choices=[SelectChoice(q, q.title()) for q in QUALITIES])
    base_url = StringField("Base URL", validators=[Optional(), Length(max=500)])
    images_per_minute = IntegerField(
        "Images per minute (whole platform)",
        validators=[InputRequired("Enter a number."), NumberRange(1, 10000, "Between 1 and 10,000.")],
    )
    user_images_per_hour = IntegerField(
        "Images per producer per hour",
        validators=[InputRequired("Enter a number."), NumberRange(0, 10000, "Between 0 and 10,000.")],
    )
    monthly_budget = StringField("Monthly budget (USD)", validators=[Optional(), Length(max=20)])
    alert_percent = IntegerField(
        "Alert at (% of budget)",
        validators=[InputRequired("Enter a percentage."), NumberRange(1, 100, "Between 1 and 100.")],
    )
    tier = SelectField("Tier", choices=[SelectChoice(t, t.title()) for t in TIER_ORDER])
    # Hugging Face only: any Hub model id (overrides the list above) and who serves it.
    custom_model = StringField("Model id on the Hub", validators=[Optional(), Length(max=64)])
    routing = SelectField("Routing", choices=[], validate_choice=False)

    price_fields: list[tuple[str, list[str], dict[str, dict[str, str]]]]
    provider_name: str | None = None

    def validate_base_url(self, field: Field) -> None:
        try:
            field.data = validate_base_url(field.data, self.provider_name)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_custom_model(self, field: Field) -> None:
        from webapp.providers import REGISTRY

        value = (field.data or "").strip()
        if value and (
            self.provider_name not in REGISTRY or not REGISTRY[self.provider_name].accepts_model(value)
        ):
            raise ValidationError("Enter a Hub model id like owner/name.")
        field.data = value

    def validate_routing(self, field: Field) -> None:
        if self.routing.choices and field.data not in [c.value for c in self.routing.choices]:
            raise ValidationError("Choose one of the listed routings.")

    def validate_monthly_budget(self, field: Field) -> None:
        try:
            parse_money(field.data, places=2, maximum=MAX_BUDGET)
        except ValueError as exc:
            raise ValidationError(str(exc).replace("4 decimal", "2 decimal")) from None

    def price_table(self) -> dict[str, dict[str, dict[str, str]]]:
        """The validated grid as the JSON the Provider row stores (strings, exact decimals)."""
        out: dict[str, dict[str, dict[str, str]]] = {}
        for model, sizes, names in self.price_fields:
            for size in sizes:
                for quality in QUALITIES:
                    value = parse_money(self[names[size][quality]].data)
                    out.setdefault(model, {}).setdefault(size, {})[quality] = str(value)
        return out

    def changes(self) -> dict[str, Any]:
        """Only the fields `services.providers.update_settings` accepts, in stored types."""
        changes = {
            "model": self.custom_model.data or self.model.data,
            "tier": self.tier.data,
            "enabled": bool(self.enabled.data),
            "fallback_order": self.fallback_order.data,
            "default_quality": self.default_quality.data,
            "base_url": self.base_url.data or None,
            "images_per_minute": self.images_per_minute.data,
            "user_images_per_hour": self.user_images_per_hour.data,
            "price_table": self.price_table(),
            "monthly_budget": parse_money(self.monthly_budget.data, places=2),
            "alert_percent": self.alert_percent.data,
        }
        if self.routing.choices:
            changes["options"] = {**(self.options or {}), "routing": self.routing.data}
        return changes

    options: dict | None = None


def provider_form(provider: Any, spec: Any, formdata: Any = None) -> ProviderForm:
    """A ProviderForm with one price input per model x size x quality, pre-filled from the
    provider's table (else the list prices) on GET, from the posted data on POST."""
    table = provider.price_table or {}
    defaults = DEFAULT_PRICES.get(provider.name, {})
    # Every priced row: the adapter's models, plus the provider's other list-priced rows (the credit
    # rate, video and voice models, a "*" fallback) and models the admin chose that are not listed.
    extra = [m for m in (*defaults, *table) if m not in spec.models]
    if provider.model not in spec.models:
        extra.append(provider.model)
    grid = price_grid(provider.name, tuple(dict.fromkeys((*spec.models, *extra))), table)

    class _Form(ProviderForm):
        pass

    price_fields = []
    for model, sizes in grid:
        names: dict[str, dict[str, str]] = {}
        for size in sizes:
            for quality in QUALITIES:
                name = price_field_name(model, size, quality)
                setattr(
                    _Form,
                    name,
                    StringField(
                        f"{model} {size} {quality}",
                        default=_price_value(table, defaults, model, size, quality),
                        validators=[_check_price],
                    ),
                )
                names.setdefault(size, {})[quality] = name
        price_fields.append((model, sizes, names))

    data = {
        "model": provider.model,
        "enabled": provider.enabled,
        "make_default": provider.is_default,
        "fallback_order": provider.fallback_order,
        "default_quality": provider.default_quality,
        "base_url": provider.base_url or "",
        "images_per_minute": provider.images_per_minute,
        "user_images_per_hour": provider.user_images_per_hour,
        "monthly_budget": "" if provider.monthly_budget is None else f"{provider.monthly_budget:.2f}",
        "alert_percent": provider.alert_percent,
        "tier": tier_of(provider, provider.name),
        "custom_model": provider.model if provider.model not in spec.models else "",
        "routing": (provider.options or {}).get("routing", ""),
    }
    form = _Form(formdata=formdata, data=data) if formdata is not None else _Form(data=data)
    form.model.choices = [SelectChoice(m, m) for m in spec.models]
    if provider.name == "huggingface":
        from webapp.providers.huggingface_provider import ROUTINGS

        form.routing.choices = [SelectChoice(r, r) for r in ROUTINGS]
    form.price_fields = price_fields
    form.provider_name = provider.name
    form.options = provider.options
    form.credit_row = CREDIT_ROW if CREDIT_ROW in defaults or CREDIT_ROW in table else None
    return form


class PlatformKeyForm(FlaskForm):
    """Set or replace a platform key. PasswordField never renders its value back."""

    api_key = PasswordField(
        "API key",
        validators=[
            InputRequired("Paste the key."),
            Length(min=8, max=512, message="That is not a whole key."),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


class UsageFilterForm(FlaskForm):
    """Date range of the usage page and the CSV export (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])

    def range(self, today: date) -> tuple[date, date]:
        """(first day, last day) inclusive; defaults to this month so far."""
        start = self.start.data or today.replace(day=1)
        end = self.end.data or today
        return start, end

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        start, end = self.range(datetime.now(UTC).date())
        if start > end:
            self.end.errors.append("The end date is before the start date.")
            return False
        if (end - start) > timedelta(days=MAX_SPAN_DAYS - 1):
            self.end.errors.append(f"Choose a range of at most {MAX_SPAN_DAYS} days.")
            return False
        return True


class AuditFilterForm(FlaskForm):
    """Filters of the audit log (GET)."""

    class Meta:
        csrf = False

    action = SelectField("Action", choices=[SelectChoice("", "All actions")], validate_choice=False)
    actor = StringField("Actor", validators=[Optional(), Length(max=100)])
    target = StringField("Target", validators=[Optional(), Length(max=128)])
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
    before = IntegerField("Before", validators=[Optional(), NumberRange(min=1, max=MAX_ID)])

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if self.start.data and self.end.data and self.start.data > self.end.data:
            self.end.errors.append("The end date is before the start date.")
            return False
        return ok
