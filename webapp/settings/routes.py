"""Producer settings: their own provider keys, what they used this month, what they have left.

Thin HTTP: parse a form, call one function of services.keys / ledger / limits, then redirect (PRG,
works without JavaScript) or render. With HTMX, "Test" swaps just that key's card.

Every key route loads the key through `_own_key_or_404`: the current user's own row or 404, for
every role, so a producer can never see, test or delete another account's key and ids are not
confirmed. Keys are shown as their suffix only; the plaintext never reaches a template or a log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm

from webapp.auth.forms import ChangePasswordForm
from webapp.extensions import db
from webapp.models import User, UserKey
from webapp.providers import REGISTRY
from webapp.services import accounts, ledger, limits
from webapp.services import keys as key_service
from webapp.services import providers as provider_service
from webapp.settings.forms import AddKeyForm, PreferenceForm, RegionForm
from webapp.templating import is_htmx
from webapp.text import add_sentence

bp = Blueprint("settings", __name__, url_prefix="/settings")

ALLOWANCE_KINDS = ("ai", "autoformat", "palette")


def _own_key_or_404(key_id: int) -> UserKey:
    """The current user's key, or 404 (staff and admins included: keys are private)."""
    row = db.session.get(UserKey, key_id)
    if row is None or row.owner_id != current_user.id:
        abort(404)
    return row


def _key_views(user: User) -> list[dict[str, Any]]:
    """One entry per provider a producer may bring a key for: the key (if any) and its usage."""
    rows = key_service.user_keys(user)
    platform = {p.name: p for p in provider_service.enabled_providers()}
    views = []
    for name in key_service.KEY_PROVIDERS:
        row = rows.get(name)
        requests, cost, last_used = ledger.key_usage(user.id, name) if row else (0, 0, None)
        views.append(
            {
                "name": name,
                "display_name": REGISTRY[name].spec.display_name,
                "key": row,
                "requests": requests,
                "cost": cost,
                "last_used": last_used,
                "platform_enabled": name in platform,
                "pref_form": PreferenceForm(
                    prefix=f"pref-{name}",
                    data={"use_own": row.use_own, "allow_fallback": row.allow_fallback} if row else None,
                ),
            }
        )
    return views


def _render_keys(form: AddKeyForm, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "settings/keys.html",
            views=_key_views(current_user),
            form=form,
            action_form=FlaskForm(),
            money=provider_service.money,
        ),
        status,
    )


def _ai_limit_override() -> int | None:
    """The per-producer hourly image limit that applies to the default paid provider (what
    services.generation.quote uses), so the page shows the number a refusal would quote."""
    enabled = [p for p in provider_service.enabled_providers() if REGISTRY[p.name].spec.needs_key]
    chosen = next((p for p in enabled if p.is_default), enabled[0] if enabled else None)
    return chosen.user_images_per_hour if chosen is not None else None


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    """This month's own usage (platform vs own-key cost per provider) and hourly allowances."""
    start, end = ledger.month_range()
    totals = ledger.totals(start, end, user_id=current_user.id)
    allowances = [
        limits.allowance(kind, current_user, _ai_limit_override() if kind == "ai" else None)
        for kind in ALLOWANCE_KINDS
    ]
    return render_template(
        "settings/index.html",
        totals=totals,
        allowances=allowances,
        month=start,
        money=provider_service.money,
        display={n: c.spec.display_name for n, c in REGISTRY.items()},
    )


@bp.get("/keys")
@login_required
def keys() -> ResponseReturnValue:
    """The producer's own keys: suffix, status, usage, preferences; add / test / delete."""
    return _render_keys(AddKeyForm())


@bp.post("/keys")
@login_required
def add_key() -> ResponseReturnValue:
    """Validate the key with the provider, then save it encrypted; a refusal saves nothing."""
    form = AddKeyForm()
    if not form.validate_on_submit():
        return _render_keys(form, 422)
    try:
        row = key_service.add_user_key(current_user, form.provider.data, form.api_key.data)
    except key_service.KeyRefused as exc:
        form.api_key.errors = [add_sentence(str(exc), "Nothing was saved.")]
        return _render_keys(form, 422)
    flash(
        f"Your {REGISTRY[row.provider].spec.display_name} key {row.key_suffix} works and is saved. "
        "It will not be shown again.",
        "success",
    )
    return redirect(url_for("settings.keys"))


@bp.post("/keys/<int:key_id>/test")
@login_required
def test_key(key_id: int) -> ResponseReturnValue:
    """Check the key with the provider now and record the result."""
    row = _own_key_or_404(key_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    status = 200
    try:
        ok, message = key_service.test_user_key(row)
    except key_service.KeyUnreadable as exc:
        ok, message, status = False, str(exc), 409
    if is_htmx():
        view = next(v for v in _key_views(current_user) if v["name"] == row.provider)
        return render_template(
            "settings/_key.html", v=view, action_form=FlaskForm(), money=provider_service.money
        ), status
    flash(message, "success" if ok else "error")
    return redirect(url_for("settings.keys"))


@bp.post("/keys/<int:key_id>/preferences")
@login_required
def key_preferences(key_id: int) -> ResponseReturnValue:
    """Use my own key for this provider, and whether the platform may step in when it is limited."""
    row = _own_key_or_404(key_id)
    form = PreferenceForm(prefix=f"pref-{row.provider}")
    if form.validate_on_submit():
        key_service.set_use_own(row, bool(form.use_own.data), bool(form.allow_fallback.data))
        flash("Preferences saved.", "success")
    return redirect(url_for("settings.keys"))


@bp.get("/keys/<int:key_id>/delete")
@login_required
def confirm_delete_key(key_id: int) -> ResponseReturnValue:
    """Ask before deleting (the page that makes delete work without JavaScript)."""
    row = _own_key_or_404(key_id)
    return render_template(
        "settings/delete_key.html",
        key=row,
        display_name=REGISTRY[row.provider].spec.display_name,
        form=FlaskForm(),
    )


@bp.post("/keys/<int:key_id>/delete")
@login_required
def delete_key(key_id: int) -> ResponseReturnValue:
    """Delete the key (audited); generations then use the platform's providers."""
    row = _own_key_or_404(key_id)
    if FlaskForm().validate_on_submit():
        name, suffix = REGISTRY[row.provider].spec.display_name, row.key_suffix
        key_service.delete_user_key(row)
        flash(f"Your {name} key {suffix} was deleted.", "success")
    return redirect(url_for("settings.keys"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> ResponseReturnValue:
    """Change the password (the current one is asked for); every other session of the account ends."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()  # type: ignore[attr-defined]
        try:
            accounts.change_password(user, form.current.data, form.password.data)
        except accounts.PasswordPolicyError as exc:
            form.password.errors.append(str(exc))
        except accounts.AccountError as exc:
            form.current.errors.append(str(exc))
        else:
            login_user(user)  # this browser stays logged in, on fresh session material
            flash("Your password is changed. Other sessions of your account were logged out.", "success")
            return redirect(url_for("settings.password"))
    status = 200 if not form.is_submitted() else 422
    return render_template("settings/password.html", form=form), status


from webapp.settings import two_factor  # noqa: E402, F401  (registers /settings/two-factor)


@bp.route("/region", methods=["GET", "POST"])
@login_required
def region() -> ResponseReturnValue:
    """Language and region: how dates print on posters and how typed prices are read."""
    from webapp.services.show_locale import poster_dates, price_example
    from webapp.web_locale import producer_locale

    form = RegionForm(data=None if request.method == "POST" else {"locale": current_user.locale or ""})
    if form.validate_on_submit():
        current_user.locale = form.locale.data or None
        db.session.commit()
        flash("Saved. Dates and prices now follow this setting.", "success")
        return redirect(url_for("settings.region"))
    active = producer_locale()
    sample = poster_dates([datetime(2027, 3, 14, 20, 0), datetime(2027, 3, 16, 20, 0)], active)
    status = 200 if not form.is_submitted() else 422
    return render_template(
        "settings/region.html", form=form, active=active, sample=sample, price=price_example(active)
    ), status
