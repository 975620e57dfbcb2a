"""Shows: create and edit a show, fill its poster / square / banner slots, delete it.

Thin HTTP only: parse the form, call one function of services.shows, render or redirect.
Every view needs the media assistant. Viewing uses get_viewable_or_404 (owner, staff, admins);
every change uses get_owned_or_404 (owner only: staff get 403, everyone else 404). Forms post
and redirect without JavaScript; with HTMX (HX-Request) the same views answer with partials.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from webapp.authz import get_owned_or_404, get_viewable_or_404, media_assistant_required
from webapp.imaging.overlay_text import MAX_TITLE_CHARS, describe, unsettable
from webapp.models import MEDIA_SLOTS, SLOTS, Asset, Job, Show
from webapp.params import page_arg, parse_id
from webapp.services import describe as describe_service
from webapp.services import jobs as job_service
from webapp.services import shows as show_service
from webapp.shows.forms import AssignForm, FillFromJobForm, ShowForm, UseJobForm
from webapp.templating import is_htmx

bp = Blueprint("shows", __name__, url_prefix="/shows")

PICKER_PAGE_SIZE = 24
LIST_PAGE_SIZE = 20
SLOT = "<any(" + ", ".join(SLOTS) + "):slot>"
MEDIA_SLOT = "<any(" + ", ".join(MEDIA_SLOTS) + "):media>"


@bp.app_context_processor
def _show_helpers() -> dict[str, Any]:
    """`my_show_choices()` for the "Use these for show" form on auto-format results (rendered by
    other blueprints). A callable, so the query only runs where the form is shown."""

    def my_show_choices() -> list[tuple[int, str]]:
        if not current_user.is_authenticated:
            return []
        return show_service.show_choices(current_user)

    return {"my_show_choices": my_show_choices}


def _page_arg() -> int:
    return page_arg()


def _done(url: str, message: str | None = None) -> Response:
    """PRG: a redirect for plain forms; HX-Redirect for HTMX so the flash shows on a full page."""
    if message:
        flash(message, "success")
    if is_htmx():
        resp = make_response("", 200)
        resp.headers["HX-Redirect"] = url
        return resp
    return redirect(url)


# --------------------------------------------------------------------------- list, create, edit


@bp.get("")
@media_assistant_required
def index() -> ResponseReturnValue:
    """The producer's shows, newest first."""
    view = show_service.list_view(current_user, _page_arg(), LIST_PAGE_SIZE)
    return render_template("shows/index.html", **view)


def _render_form(form: ShowForm, show: Show | None, status: int = 200) -> ResponseReturnValue:
    action = url_for("shows.update", show_id=show.id) if show else url_for("shows.create")
    template = "shows/_form.html" if is_htmx() else "shows/form.html"
    return (
        render_template(template, form=form, show=show, action=action, max_title=MAX_TITLE_CHARS),
        status,
    )


def _unsettable_warning(show: Show) -> None:
    """Warn (after saving) when the title or venue has characters no poster typeface can set."""
    gaps = unsettable(f"{show.title} {show.venue_name or ''}")
    if gaps:
        flash(
            f"Posters cannot set {describe(gaps)} in the title or venue (no bundled typeface has them): "
            "they will be left out of the artwork. Replace them with words if they matter.",
            "warning",
        )


@bp.get("/new")
@media_assistant_required
def new() -> ResponseReturnValue:
    """An empty show form: venue zone preset to the producer's latest show's zone."""
    form = ShowForm(formdata=None, timezone=show_service.default_timezone(current_user))
    form.add_blank_rows()
    return _render_form(form, None)


@bp.post("")
@media_assistant_required
def create() -> ResponseReturnValue:
    """Save a new show, or (with "Add more dates") show the form again with more blank rows."""
    form = ShowForm()
    if form.more_dates.data:
        form.add_blank_rows()
        return _render_form(form, None)
    if not form.validate_on_submit():
        return _render_form(form, None, 422)
    try:
        show = show_service.create_show(current_user, form.show_data())
    except ValueError as exc:
        form.form_errors.append(str(exc))
        return _render_form(form, None, 422)
    _unsettable_warning(show)
    return _done(url_for("shows.detail", show_id=show.id), f"“{show.title}” created.")


@bp.get("/<int:show_id>")
@media_assistant_required
def detail(show_id: int) -> ResponseReturnValue:
    """The show page: details, dates in the venue's zone, slots, palette, its images."""
    show = get_viewable_or_404(Show, show_id)
    # Images stored before issue 17 get their offline alt text the first time they are shown.
    describe_service.ensure_described(
        [show.poster, show.square, show.banner, *show_service.show_images(show)[0]]
    )
    return render_template("shows/detail.html", **show_service.show_view(show, current_user))


@bp.get("/<int:show_id>/edit")
@media_assistant_required
def edit(show_id: int) -> ResponseReturnValue:
    """The edit form: existing performances plus blank rows."""
    show = get_owned_or_404(Show, show_id)
    return _render_form(ShowForm.for_show(show), show)


@bp.post("/<int:show_id>/edit")
@media_assistant_required
def update(show_id: int) -> ResponseReturnValue:
    """Save changes; rows ticked Remove are deleted, blank rows ignored."""
    show = get_owned_or_404(Show, show_id)
    form = ShowForm()
    if form.more_dates.data:
        form.add_blank_rows()
        return _render_form(form, show)
    if not form.validate_on_submit():
        return _render_form(form, show, 422)
    try:
        show_service.update_show(show, form.show_data())
    except ValueError as exc:
        form.form_errors.append(str(exc))
        return _render_form(form, show, 422)
    _unsettable_warning(show)
    return _done(url_for("shows.detail", show_id=show.id), "Changes saved.")


@bp.get("/<int:show_id>/delete")
@media_assistant_required
def confirm_delete(show_id: int) -> ResponseReturnValue:
    """Ask first (works without JavaScript), and say that the images stay in the library."""
    show = get_owned_or_404(Show, show_id)
    _, image_total = show_service.show_images(show, limit=0)
    return render_template("shows/delete.html", show=show, image_total=image_total)


@bp.post("/<int:show_id>/delete")
@media_assistant_required
def delete(show_id: int) -> ResponseReturnValue:
    """Delete the show and its performances; its images stay in My images."""
    show = get_owned_or_404(Show, show_id)
    title = show.title
    show_service.delete_show(show)
    return _done(url_for("shows.index"), f"“{title}” deleted. Its images are still in My images.")


# --------------------------------------------------------------------------- slots


def _render_picker(show: Show, slot: str, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    page = _page_arg()
    assets, total = show_service.fitting_assets(show, slot, page, PICKER_PAGE_SIZE)
    context = {
        "show": show,
        "slot": show_service.slot_view(show, slot),
        "assets": assets,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PICKER_PAGE_SIZE)),
        "error": error,
        "inline": is_htmx(),
    }
    if not is_htmx():
        return render_template("shows/picker.html", **context), status
    resp = make_response(render_template("shows/_picker.html", **context), status)
    if error:  # the Assign button targeted the slot; show the refusal in the picker instead
        resp.headers["HX-Retarget"] = "#slot-picker"
        resp.headers["HX-Reswap"] = "innerHTML"
    return resp


def _render_slot(show: Show, slot: str, message: str | None = None) -> ResponseReturnValue:
    view = show_service.slot_view(show, slot)
    return render_template("shows/_slot_swap.html", show=show, s=view, can_edit=True, slot_message=message)


@bp.get(f"/<int:show_id>/slots/{SLOT}")
@media_assistant_required
def picker(show_id: int, slot: str) -> ResponseReturnValue:
    """The owner's images that fit this slot, newest first, 24 per page, each with Assign."""
    show = get_owned_or_404(Show, show_id)
    return _render_picker(show, slot)


@bp.post(f"/<int:show_id>/slots/{SLOT}")
@media_assistant_required
def assign(show_id: int, slot: str) -> ResponseReturnValue:
    """Put one of the owner's images in the slot; refused (422, with why) if it does not fit."""
    show = get_owned_or_404(Show, show_id)
    form = AssignForm()
    if not form.validate_on_submit():
        return _render_picker(show, slot, "Choose an image to assign.", 422)
    try:
        asset = show_service.asset_for_show(show, form.asset_id.data)
        show_service.assign_slot(show, slot, asset)
    except ValueError as exc:
        return _render_picker(show, slot, str(exc), 422)
    from webapp.services.publishing import describing_note

    done = f"{slot.capitalize()} set to {asset.filename}."
    message = " ".join(x for x in (done, describing_note(asset)) if x)
    if is_htmx():
        return _render_slot(show, slot, message)
    flash(message, "success")
    return redirect(url_for("shows.detail", show_id=show.id, _anchor=f"slot-{slot}"))


@bp.post(f"/<int:show_id>/slots/{SLOT}/clear")
@media_assistant_required
def clear(show_id: int, slot: str) -> ResponseReturnValue:
    """Empty the slot; the image stays in the library."""
    show = get_owned_or_404(Show, show_id)
    show_service.clear_slot(show, slot)
    message = f"{slot.capitalize()} slot cleared. The image is still in My images."
    if is_htmx():
        return _render_slot(show, slot, message)
    flash(message, "success")
    return redirect(url_for("shows.detail", show_id=show.id, _anchor=f"slot-{slot}"))


@bp.post(f"/<int:show_id>/media/{MEDIA_SLOT}")
@media_assistant_required
def assign_media(show_id: int, media: str) -> ResponseReturnValue:
    """Put one of the owner's clips (promo) or audio files (voice) in the show's media slot."""
    from webapp.extensions import db
    from webapp.services import show_media

    show = get_owned_or_404(Show, show_id)
    form = AssignForm()
    asset = db.session.get(Asset, form.asset_id.data) if form.validate_on_submit() else None
    try:
        show_media.assign_media_slot(show, media, asset)
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("shows.detail", show_id=show.id, _anchor="media-slots"))
    flash(f"{show_media.MEDIA_SLOT_LABELS[media]} set to {asset.filename}.", "success")
    return redirect(url_for("shows.detail", show_id=show.id, _anchor="media-slots"))


@bp.post(f"/<int:show_id>/media/{MEDIA_SLOT}/clear")
@media_assistant_required
def clear_media(show_id: int, media: str) -> ResponseReturnValue:
    """Empty the media slot; the file stays in the library."""
    from webapp.services import show_media

    show = get_owned_or_404(Show, show_id)
    show_media.clear_media_slot(show, media)
    flash(f"{show_media.MEDIA_SLOT_LABELS[media]} cleared. The file is still in My images.", "success")
    return redirect(url_for("shows.detail", show_id=show.id, _anchor="media-slots"))


@bp.post("/<int:show_id>/fill-from-job")
@media_assistant_required
def fill_from_job(show_id: int) -> ResponseReturnValue:
    """Poster, square and banner from one of the producer's succeeded auto-format jobs."""
    show = get_owned_or_404(Show, show_id)
    form = FillFromJobForm()
    if not form.validate():
        return _fill_error(show, "Choose which auto-format result to use.")
    job = get_owned_or_404(Job, form.job_id.data)
    try:
        filled = show_service.fill_slots_from_job(show, job)
    except ValueError as exc:
        return _fill_error(show, str(exc))
    message = f"{_slot_list(filled)} now use the images from auto-format job #{job.id}."
    if is_htmx():
        return render_template("shows/_slots.html", message=message, **_slots_context(show))
    flash(message, "success")
    return redirect(url_for("shows.detail", show_id=show.id))


def _fill_error(show: Show, error: str) -> ResponseReturnValue:
    if is_htmx():
        return render_template("shows/_slots.html", error=error, **_slots_context(show)), 422
    view = show_service.show_view(show, current_user)
    return render_template("shows/detail.html", fill_error=error, **view), 422


@bp.post("/fill-from-job")
@media_assistant_required
def use_job() -> ResponseReturnValue:
    """The "Use these for show …" form on auto-format results: the show comes from a select."""
    form = UseJobForm()
    job_id = parse_id(form.job_id.data)  # read before validate(): the results need the job
    if job_id is None:
        abort(404)
    job = get_owned_or_404(Job, job_id)
    context = {"job": job, "outputs": job_service.outputs_of(job)}
    if not form.validate():
        return _render_use_job(context, "Choose the show to use these images for.", 422)
    show = get_owned_or_404(Show, form.show_id.data)
    try:
        filled = show_service.fill_slots_from_job(show, job)
    except ValueError as exc:
        return _render_use_job(context, str(exc), 422)
    if is_htmx():
        return render_template(
            "_partials/_use_for_show.html", used_show=show, filled_text=_slot_list(filled), **context
        )
    flash(f"{_slot_list(filled)} of “{show.title}” now use these images.", "success")
    return redirect(url_for("shows.detail", show_id=show.id))


def _render_use_job(context: dict[str, Any], error: str, status: int) -> ResponseReturnValue:
    template = "_partials/_use_for_show.html" if is_htmx() else "shows/use_job.html"
    return render_template(template, use_error=error, **context), status


def _slots_context(show: Show) -> dict[str, Any]:
    view = show_service.show_view(show, current_user)
    return {k: view[k] for k in ("show", "slots", "can_edit", "recent_jobs")}


def _slot_list(slots: list[str]) -> str:
    """['poster', 'square', 'banner'] -> 'Poster, square and banner'."""
    text = slots[0] if len(slots) == 1 else ", ".join(slots[:-1]) + " and " + slots[-1]
    return text.capitalize()


from webapp.shows import preview  # noqa: E402, F401  (registers /shows/<id>/preview on bp)
