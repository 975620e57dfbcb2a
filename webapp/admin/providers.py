"""Admin pages for AI providers, the audit log and usage. Registered on the admin `bp`.

Thin HTTP: parse a form, call one service (services.providers / keys / ledger / audit), then redirect
(POST -> redirect -> GET, so every page works without JavaScript) or render. With HTMX the "Test key"
button swaps just the provider's status instead of reloading the page.

Keys: the key form's PasswordField is never rendered back, key values are never logged or flashed,
and everything shown about a key is its suffix ("…9f3a"), which the key service stores.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from webapp.admin.forms import AuditFilterForm, PlatformKeyForm, UsageFilterForm, provider_form
from webapp.admin.routes import bp
from webapp.authz import admin_required
from webapp.models import Provider
from webapp.providers import REGISTRY
from webapp.providers.base import redact
from webapp.services import audit as audit_service
from webapp.services import budget, charts, ledger
from webapp.services import keys as key_service
from webapp.services import providers as provider_service
from webapp.services.pricing import tier_of
from webapp.templating import is_htmx

AUDIT_PAGE_SIZE = 50


def _provider_or_404(name: str) -> Provider:
    """The platform row of a registered provider (rows are created on first visit)."""
    if name not in REGISTRY:
        abort(404)
    provider_service.ensure_providers()
    provider = provider_service.get_provider(name)
    if provider is None:
        abort(404)
    return provider


def _status(provider: Provider) -> dict[str, Any]:
    """What the list shows about one provider: spend this month against its budget."""
    spent, reserved = budget.month_spend(provider.id)
    percent = None
    if provider.monthly_budget:
        percent = min(100, int((spent + reserved) / provider.monthly_budget * 100))
    return {
        "provider": provider,
        "spec": REGISTRY[provider.name].spec,
        "tier": tier_of(provider, provider.name),
        "spent": spent,
        "reserved": reserved,
        "percent": percent,
        "alert": percent is not None and percent >= provider.alert_percent,
    }


# --------------------------------------------------------------------------- providers


@bp.get("/providers")
@admin_required
def providers() -> ResponseReturnValue:
    """Every provider with status, key suffix, last test and this month's spend vs budget."""
    rows = [_status(p) for p in provider_service.ensure_providers() if p.name in REGISTRY]
    return render_template("admin/providers.html", rows=rows, form=FlaskForm(), money=provider_service.money)


def _render_edit(
    provider: Provider, form: Any, key_form: PlatformKeyForm, status: int = 200
) -> ResponseReturnValue:
    return (
        render_template(
            "admin/providers_edit.html",
            row=_status(provider),
            form=form,
            key_form=key_form,
            action_form=FlaskForm(),
            money=provider_service.money,
        ),
        status,
    )


@bp.get("/providers/<name>")
@admin_required
def provider_edit(name: str) -> ResponseReturnValue:
    """Settings, price table and key of one provider."""
    provider = _provider_or_404(name)
    return _render_edit(provider, provider_form(provider, REGISTRY[name].spec), PlatformKeyForm())


@bp.post("/providers/<name>")
@admin_required
def provider_update(name: str) -> ResponseReturnValue:
    """Save settings (audited by the service); invalid input re-renders the form with messages."""
    provider = _provider_or_404(name)
    form = provider_form(provider, REGISTRY[name].spec, formdata=request.form)
    if not form.validate_on_submit():
        flash("Nothing was saved: fix the fields marked below.", "error")
        return _render_edit(provider, form, PlatformKeyForm(), 422)
    key_cleared = provider_service.update_settings(provider, form.changes(), current_user)
    message = f"{REGISTRY[name].spec.display_name} settings saved."
    if key_cleared:
        message += " The base URL changed, so the stored key was cleared: enter the key again below."
    if form.make_default.data and not provider.is_default:
        try:
            provider_service.set_default(provider, current_user)
            message += " It is now the default provider."
        except provider_service.RoutingError as exc:
            flash(str(exc), "error")
    if provider.enabled and REGISTRY[name].spec.needs_key and not provider.encrypted_key and not key_cleared:
        flash(
            "This provider is enabled but has no key yet: set one below before producers use it.", "warning"
        )
    flash(message, "success")
    return redirect(url_for("admin.provider_edit", name=name))


@bp.post("/providers/<name>/key")
@admin_required
def provider_key(name: str) -> ResponseReturnValue:
    """Set or replace the platform key. It is tested first; a refusal saves nothing."""
    provider = _provider_or_404(name)
    if not REGISTRY[name].spec.needs_key:
        abort(404)
    key_form = PlatformKeyForm()
    settings_form = provider_form(provider, REGISTRY[name].spec)
    if not key_form.validate_on_submit():
        return _render_edit(provider, settings_form, key_form, 422)
    try:
        key_service.set_platform_key(provider, key_form.api_key.data, current_user)
    except key_service.KeyRefused as exc:
        key_form.api_key.errors = [f"{exc} The key was not saved."]
        return _render_edit(provider, settings_form, key_form, 422)
    flash(f"Key {provider.key_suffix} accepted and saved. It will not be shown again.", "success")
    return redirect(url_for("admin.provider_edit", name=name))


@bp.post("/providers/<name>/test")
@admin_required
def provider_test(name: str) -> ResponseReturnValue:
    """Test the stored key now. HTMX swaps the status cell; without JS, flash and go back."""
    provider = _provider_or_404(name)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    status = 200
    try:
        ok, message = key_service.test_platform_key(provider, current_user)
    except key_service.KeyUnreadable as exc:
        ok, message, status = False, str(exc), 409
    if is_htmx():
        return render_template("admin/providers_status.html", provider=provider), status
    flash(message, "success" if ok else "error")
    if request.args.get("from") == "edit":
        return redirect(url_for("admin.provider_edit", name=name))
    return redirect(url_for("admin.providers"))


@bp.post("/providers/<name>/default")
@admin_required
def provider_default(name: str) -> ResponseReturnValue:
    """Make this the one default provider (the service clears the others in the same commit)."""
    provider = _provider_or_404(name)
    if FlaskForm().validate_on_submit():
        try:
            provider_service.set_default(provider, current_user)
            flash(f"{REGISTRY[name].spec.display_name} is now the default provider.", "success")
        except provider_service.RoutingError as exc:
            flash(str(exc), "error")
    return redirect(url_for("admin.providers"))


# --------------------------------------------------------------------------- audit


def _detail_text(detail: dict | None) -> str:
    """key=value pairs for the table. The services store suffixes only; `redact` is a second
    guard so nothing shaped like a provider key is ever rendered from the log."""
    if not detail:
        return ""
    return redact(", ".join(f"{k}={v}" for k, v in detail.items()), None)


def _audit_filters(form: AuditFilterForm) -> audit_service.Filters:
    """The form's filters as the service's; dates are whole UTC days, the end day included."""
    start = datetime.combine(form.start.data, time.min, UTC) if form.start.data else None
    end = datetime.combine(form.end.data + timedelta(days=1), time.min, UTC) if form.end.data else None
    return audit_service.Filters(
        action=form.action.data or None,
        actor=(form.actor.data or "").strip() or None,
        target=(form.target.data or "").strip() or None,
        start=start,
        end=end,
    )


def _audit_query_args(form: AuditFilterForm) -> dict[str, str]:
    """The filters in effect as query arguments (for the pager and the CSV link)."""
    args = {
        "action": form.action.data or "",
        "actor": (form.actor.data or "").strip(),
        "target": (form.target.data or "").strip(),
        "start": form.start.data.isoformat() if form.start.data else "",
        "end": form.end.data.isoformat() if form.end.data else "",
    }
    return {k: v for k, v in args.items() if v}


@bp.get("/audit")
@admin_required
def audit() -> ResponseReturnValue:
    """Newest first; filter by action, actor, target and date range; keyset pages (`before` = last
    id shown); the same filters export as CSV."""
    form = AuditFilterForm(request.args)
    actions = [SelectChoice(a, a) for a in audit_service.actions()]
    form.action.choices = [SelectChoice("", "All actions"), *actions]
    status = 200
    if not form.validate():
        # A bad `before` is a bad link, bad dates are a bad filter: say so, show what is valid.
        status = 400 if (form.before.errors or form.start.errors or form.end.errors) else 200
        form.before.data = None
        if form.start.errors or form.end.errors:
            form.start.data = form.end.data = None
    events, next_before = audit_service.page(
        before=form.before.data, size=AUDIT_PAGE_SIZE, filters=_audit_filters(form)
    )
    return render_template(
        "admin/audit.html",
        form=form,
        events=events,
        next_before=next_before,
        filters=_audit_query_args(form),
        detail_text=_detail_text,
        paged=bool(form.before.data),
    ), status


AUDIT_CSV_HEADER = ["when_utc", "actor", "action", "target", "detail", "ip", "user_agent"]


@bp.get("/audit.csv")
@admin_required
def audit_csv() -> ResponseReturnValue:
    """The filtered log as CSV, newest first, streamed in batches (the whole log may be large)."""
    form = AuditFilterForm(request.args)
    form.action.choices = [SelectChoice("", "All actions")]
    if not form.validate():
        errors = "; ".join(e for f in form for e in f.errors)
        return Response(errors + "\n", status=400, mimetype="text/plain")
    filters = _audit_filters(form)

    def rows() -> Iterator[str]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(AUDIT_CSV_HEADER)
        for n, event in enumerate(audit_service.iter_events(filters), 1):
            writer.writerow(
                [
                    event.created_at.astimezone(UTC).isoformat(timespec="seconds"),
                    _cell(event.actor_label),
                    _cell(event.action),
                    _cell(event.target),
                    _cell(_detail_text(event.detail)),
                    _cell(event.ip),
                    _cell(event.user_agent),
                ]
            )
            if n % 200 == 0:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="marquee-audit-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


# --------------------------------------------------------------------------- usage


def _usage_range(form: UsageFilterForm) -> tuple[Any, Any]:
    return form.range(datetime.now(UTC).date())


@bp.get("/usage")
@admin_required
def usage() -> ResponseReturnValue:
    """Spend and images per provider per day (inline SVG), key-owner share, top users."""
    form = UsageFilterForm(request.args)
    if not form.validate():
        return render_template("admin/usage.html", form=form, invalid=True), 400
    first, last = _usage_range(form)
    form.start.data, form.end.data = first, last  # show the range in effect, defaults included
    start, end = ledger.day_range(first, last)
    series = ledger.daily_series(first, last)
    totals = ledger.totals(start, end)
    span = f"{first:%d %b %Y} to {last:%d %b %Y}"
    chart_cost = charts.stacked_bars(
        series["days"],
        series["cost"],
        money=True,
        y_label="USD",
        title=f"Spend per day by provider, {span}",
        desc=_cost_desc(totals),
    )
    chart_images = charts.bars(
        series["days"],
        series["images"],
        y_label="Images",
        layout=charts.Layout(width=480, height=260),
        title=f"Images per day, {span}",
        desc=f"{totals['images']} images in {totals['requests']} requests.",
    )
    chart_share = charts.share_bar(
        [("platform", totals["platform"]), ("own key", totals["own_key"])],
        title="Platform-paid vs producers' own keys",
        desc=f"Platform ${totals['platform']:.2f}; producers' own keys ${totals['own_key']:.2f} (estimated).",
    )
    return render_template(
        "admin/usage.html",
        form=form,
        invalid=False,
        first=first,
        last=last,
        totals=totals,
        chart_cost=chart_cost,
        chart_images=chart_images,
        chart_share=chart_share,
        series=series,
        top=ledger.top_users(start, end),
        money=provider_service.money,
    )


def _cost_desc(totals: dict[str, Any]) -> str:
    if not totals["by_provider"]:
        return "No usage in this period."
    parts = [f"{name}: ${t['cost']:.2f}" for name, t in sorted(totals["by_provider"].items())]
    return "Total per provider: " + "; ".join(parts) + "."


CSV_HEADER = (
    "time",
    "user_email",
    "provider",
    "model",
    "operation",
    "size",
    "quality",
    "images",
    "cost",
    "key_owner",
    "job",
    "outcome",
    "tier",
    "media",
)


def _cell(value: Any) -> str:
    """Spreadsheet-safe text: a leading = + - @ would be run as a formula by Excel/Sheets."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/usage.csv")
@admin_required
def usage_csv() -> ResponseReturnValue:
    """Every ledger row in the range, oldest first, with the same filters as the page."""
    form = UsageFilterForm(request.args)
    if not form.validate():
        errors = "; ".join(e for f in form for e in f.errors)
        return Response(errors + "\n", status=400, mimetype="text/plain")
    first, last = _usage_range(form)
    start, end = ledger.day_range(first, last)

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_HEADER)
    for event, email in ledger.events(start, end):
        writer.writerow(
            [
                event.created_at.astimezone(UTC).isoformat(timespec="seconds"),
                _cell(email),
                event.provider,
                event.model,
                event.operation,
                event.size,
                event.quality,
                event.images,
                f"{Decimal(event.cost):.4f}",
                event.key_owner,
                event.job_id or "",
                event.outcome,
                ledger.tier_of_event(event),
                ledger.media_of(event.operation),
            ]
        )
    filename = f"marquee-usage-{first:%Y%m%d}-{last:%Y%m%d}.csv"
    return Response(
        buf.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
