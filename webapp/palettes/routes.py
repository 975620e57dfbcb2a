"""Palettes: extract from a library image or an upload, view the theme and its contrast report, make a
custom palette (sent to staff for approval), apply a palette to a show.

Thin HTTP only: parse the form, call services.palettes, render or redirect. Viewing uses
get_viewable_or_404 (owner, staff, admins); changing uses get_owned_or_404 (owner only: staff 403,
everyone else 404). Every form posts and redirects without JavaScript; with HTMX the role editor
re-renders itself on change and the job page polls its partial.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from webapp.authz import get_owned_or_404, get_viewable_or_404, media_assistant_required
from webapp.extensions import db
from webapp.models import Asset, Job, Palette, Show
from webapp.palettes.forms import COLOR_CHOICES, ApplyForm, ExtractForm, RolesForm
from webapp.params import parse_id
from webapp.services import actions, limits
from webapp.services import jobs as job_service
from webapp.services import palettes as palette_service
from webapp.services import shows as show_service
from webapp.services.actions import ACTION_STATUS
from webapp.templating import is_htmx

bp = Blueprint("palettes", __name__, url_prefix="/palettes")

PICKER_SIZE = 24


@bp.app_context_processor
def _palette_helpers() -> dict[str, Any]:
    """Callables for templates of other blueprints (the show page's palette card, the asset page's
    "Extract palette" form), so their queries only run where those parts are rendered."""

    def show_palette_panel(show: Show) -> dict[str, Any]:
        return palette_service.show_panel(show)

    return {
        "show_palette_panel": show_palette_panel,
        "palette_color_choices": COLOR_CHOICES,
    }


def _extract_form() -> ExtractForm:
    form = ExtractForm()
    form.show_id.choices = [SelectChoice("", "No show yet")] + [
        SelectChoice(str(sid), title) for sid, title in show_service.show_choices(current_user)
    ]
    return form


def _picker_assets() -> list[Asset]:
    return list(
        db.session.scalars(
            select(Asset)
            .where(Asset.owner_id == current_user.id)
            .order_by(Asset.created_at.desc())
            .limit(PICKER_SIZE)
        )
    )


def _render_new(form: ExtractForm, status: int = 200, error: str | None = None) -> ResponseReturnValue:
    chosen = form.chosen_asset_id() or parse_id(request.args.get("asset_id"))
    return (
        render_template(
            "palettes/new.html",
            form=form,
            assets=_picker_assets(),
            chosen=chosen,
            error=error,
            allowance=limits.allowance("palette", current_user),
        ),
        status,
    )


# --------------------------------------------------------------------------- list and extraction


@bp.get("/")
@media_assistant_required
def index() -> ResponseReturnValue:
    """The producer's palettes, newest first, with recent approval decisions on top."""
    return render_template(
        "palettes/index.html",
        palettes=palette_service.list_for(current_user),
        decisions=palette_service.recent_decisions(current_user),
        pending_count=palette_service.pending_count() if current_user.is_staff else 0,
        labels=palette_service.STATUS_LABELS,
    )


@bp.get("/new")
@media_assistant_required
def new() -> ResponseReturnValue:
    """Pick a library image (or upload one), the number of colours and the background option."""
    form = _extract_form()
    if request.args.get("show_id"):
        form.show_id.data = request.args["show_id"]
    return _render_new(form)


@bp.post("/new")
@media_assistant_required
def create() -> ResponseReturnValue:
    """Start a palette job on the chosen or uploaded image (counts against the hourly allowance)."""
    form = _extract_form()
    if not form.validate_on_submit():
        return _render_new(form, 422)
    upload = request.files.get("image")
    has_upload = upload is not None and bool(upload.filename)
    if not has_upload and form.chosen_asset_id() is None:
        return _render_new(form, 422, "Choose an image from your library or upload one.")
    try:
        job = actions.extract_palette(
            current_user,
            form.chosen_asset_id(),
            upload=(upload.read(), upload.filename) if has_upload else None,
            n_colors=int(form.n_colors.data),
            ignore_background=bool(form.ignore_background.data),
            show_id=form.show_id.data or None,
        )
    except actions.ActionError as exc:
        if exc.code == "not_found":
            abort(404)
        return _render_new(form, ACTION_STATUS.get(exc.code, 422), exc.message)
    db.session.refresh(job)
    palette = palette_service.palette_of_job(job)
    if palette is not None:  # ran in-process (no queue): straight to the result
        return redirect(url_for("palettes.detail", palette_id=palette.id))
    return redirect(url_for("palettes.job", job_id=job.id))


@bp.get("/jobs/<int:job_id>")
@media_assistant_required
def job(job_id: int) -> ResponseReturnValue:
    """Progress of an extraction. Polls itself with HTMX (or refreshes without JS); done -> the palette."""
    found = get_viewable_or_404(Job, job_id)
    if found.kind != "palette":
        abort(404)
    view = job_service.job_view(found)
    palette = palette_service.palette_of_job(found)
    if palette is not None:
        url = url_for("palettes.detail", palette_id=palette.id)
        if is_htmx():
            resp = make_response("", 200)
            resp.headers["HX-Redirect"] = url
            return resp
        return redirect(url)
    template = "palettes/_job.html" if is_htmx() else "palettes/job.html"
    return render_template(template, **view)


# --------------------------------------------------------------------------- one palette


@bp.get("/<int:palette_id>")
@media_assistant_required
def detail(palette_id: int) -> ResponseReturnValue:
    """Colours, theme roles, contrast report, colour-blind and show previews, status, apply and history."""
    palette = get_viewable_or_404(Palette, palette_id)
    return render_template("palettes/detail.html", **_detail_view(palette, ApplyForm()))


def _detail_view(palette: Palette, apply_form: ApplyForm) -> dict[str, Any]:
    is_owner = palette.owner_id == current_user.id
    applicable, why_not = palette_service.can_apply(palette)
    shows = palette_service.applyable_shows(current_user) if is_owner else []
    apply_form.show_id.choices = [SelectChoice(str(s.id), show_service.option_title(s.title)) for s in shows]
    if palette.show_id and not apply_form.show_id.data:
        apply_form.show_id.data = str(palette.show_id)
    show = db.session.get(Show, palette.show_id) if palette.show_id else None
    return {
        "palette": palette,
        "theme": palette_service.theme_view(palette.roles),
        "is_owner": is_owner,
        "applicable": applicable,
        "why_not": why_not,
        "apply_form": apply_form,
        "shows": shows,
        "show": show,
        "source": db.session.get(Asset, palette.source_asset_id) if palette.source_asset_id else None,
        "labels": palette_service.STATUS_LABELS,
        "preview_text": _preview_text(show),
        "history": palette_service.history_for_show(show) if show else [],
    }


def _title_lines(title: str, width: int = 22, max_lines: int = 2) -> tuple[list[str], int]:
    """The preview card's title in up to two lines at a size that fits (22, 18 or 15 px): the
    whole title where it fits, a word-boundary ellipsis only past two lines of the smallest size."""
    import textwrap

    for size, chars in ((22, width), (18, int(width * 1.22)), (15, int(width * 1.46))):
        lines = textwrap.wrap(title, chars, break_long_words=True) or [""]
        if len(lines) <= max_lines:
            return lines, size
    lines = textwrap.wrap(title, int(width * 1.46), break_long_words=True)[:max_lines]
    lines[-1] = lines[-1].rstrip(" ,;:·-") + "…"
    return lines, 15


def _preview_text(show: Show | None) -> dict[str, Any]:
    """What the preview card says: the show's own words, or a sample clearly made up as one."""
    if show is None:
        lines, size = _title_lines("Your Show Title")
        return {
            "title": "Your Show Title",
            "title_lines": lines,
            "title_size": size,
            "date": "Fri 12 Jun · 8 pm",
            "cta": "Get Tickets",
            "venue": "The Venue",
            "detail": "",
        }
    lines, size = _title_lines(show.title)
    detail = show_service.price_text(show) or " · ".join(show.performers or [])
    return {
        "title": show.title,
        "title_lines": lines,
        "title_size": size,
        "date": show_service.date_summary(show) or "Date to be announced",
        "cta": show.cta_text or "Get Tickets",
        "venue": show.venue_name or "",
        "detail": detail,
    }


@bp.post("/<int:palette_id>/apply")
@media_assistant_required
def apply(palette_id: int) -> ResponseReturnValue:
    """Apply an approved (or passing extracted) palette to one of the producer's shows."""
    palette = get_owned_or_404(Palette, palette_id)
    form = ApplyForm()
    shows = palette_service.applyable_shows(current_user)
    form.show_id.choices = [SelectChoice(str(s.id), show_service.option_title(s.title)) for s in shows]
    if not form.validate_on_submit():
        flash("Choose one of your shows.", "error")
        return redirect(url_for("palettes.detail", palette_id=palette.id))
    show = get_owned_or_404(Show, int(form.show_id.data))
    try:
        applied = palette_service.apply_to_show(palette, show, current_user)
    except palette_service.PaletteError as exc:
        flash(str(exc), "error")
        return redirect(url_for("palettes.detail", palette_id=palette.id))
    flash(f"“{applied.name}” is now the palette of “{show.title}”.", "success")
    return redirect(url_for("shows.detail", show_id=show.id))


# --------------------------------------------------------------------------- custom palettes


def _render_editor(
    palette: Palette, form: RolesForm, roles: dict[str, str], errors: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    valid = {r: h for r, h in roles.items() if r not in errors}
    shown = {**palette.roles, **valid}
    show = db.session.get(Show, palette.show_id) if palette.show_id else None
    context = {
        "palette": palette,
        "form": form,
        "values": {**palette.roles, **roles},
        "errors": errors,
        "theme": palette_service.theme_view(shown),
        "preview_text": _preview_text(show),
        "changed": sorted(r for r in shown if shown[r] != palette.roles.get(r)),
    }
    template = "palettes/_editor.html" if is_htmx() else "palettes/customize.html"
    return render_template(template, **context), status


@bp.get("/<int:palette_id>/customize")
@media_assistant_required
def customize(palette_id: int) -> ResponseReturnValue:
    """The role editor, starting from this palette's roles."""
    palette = get_owned_or_404(Palette, palette_id)
    form = RolesForm(formdata=None, name=f"{palette.name} (custom)"[:120])
    return _render_editor(palette, form, dict(palette.roles), {})


@bp.post("/<int:palette_id>/customize/check")
@media_assistant_required
def check(palette_id: int) -> ResponseReturnValue:
    """Recompute the contrast report and previews for the submitted roles; saves nothing.

    HTMX posts here on every change (the editor swaps itself); without JS the "Check contrast" button
    does, and gets the whole page back."""
    palette = get_owned_or_404(Palette, palette_id)
    form = RolesForm()
    raw = form.values(request.form)
    roles, errors = palette_service.parse_roles(raw)
    return _render_editor(palette, form, {**raw, **roles}, errors)


@bp.post("/<int:palette_id>/customize")
@media_assistant_required
def save_custom(palette_id: int) -> ResponseReturnValue:
    """Save the edited roles as a new custom palette, waiting for staff approval."""
    palette = get_owned_or_404(Palette, palette_id)
    form = RolesForm()
    raw = form.values(request.form)
    roles, errors = palette_service.parse_roles(raw)
    if errors or not form.validate_on_submit():
        return _render_editor(palette, form, {**raw, **roles}, errors, 422)
    custom = palette_service.save_custom(palette, current_user, roles, form.name.data or "")
    note = "" if custom.contrast.get("passes") else " Some contrast checks fail: staff may reject it."
    flash(f"Custom palette saved and sent to staff for approval.{note}", "success")
    if is_htmx():
        resp = make_response("", 200)
        resp.headers["HX-Redirect"] = url_for("palettes.detail", palette_id=custom.id)
        return resp
    return redirect(url_for("palettes.detail", palette_id=custom.id))
