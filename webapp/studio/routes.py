"""The AI studio: create or edit artwork, watch the variations arrive, set the show's details in type.

Thin HTTP: parse a form, call one function of services.studio, render a page or a partial (decided by the
HX-Request header). Every page works without JavaScript: forms post and redirect, the overlay editor is a
GET form whose "Update preview" button re-renders the page. Viewing uses get_viewable_or_404, every
change get_owned_or_404, so another producer gets 404 and never learns an id exists.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from webapp.authz import get_owned_or_404, get_viewable_or_404, media_assistant_required
from webapp.extensions import db
from webapp.imaging import ImageRejected
from webapp.imaging.fonts import FAMILIES
from webapp.imaging.overlay_layout import layout as overlay_layout
from webapp.models import Asset, Job, PromptTemplate, Show
from webapp.params import id_arg, parse_id, parse_int
from webapp.providers import REGISTRY
from webapp.services import generation
from webapp.services import shows as show_service
from webapp.services import studio as studio_service
from webapp.services.actions import ActionError
from webapp.services.keys import user_keys
from webapp.services.overlay_colours import applied_palette, overlay_colours
from webapp.services.providers import RoutingError
from webapp.studio.forms import ActionForm, EstimateForm, OverlayForm, StudioForm
from webapp.templating import is_htmx
from webapp.web_locale import producer_locale

bp = Blueprint("studio", __name__, url_prefix="/studio")


@bp.app_template_filter("studio_money")
def studio_money(value: Any) -> str:
    """Dollars as people read prices: "$0.05", "$0.013", "$0.00" (never float noise)."""
    amount = Decimal(str(value or 0)).quantize(Decimal("0.0001"))
    text = f"{amount:.4f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


# --------------------------------------------------------------------------- helpers


def _own_show(show_id: int | None) -> Show | None:
    """The current producer's show, or None; someone else's show is simply not offered (404 on URLs)."""
    if not show_id:
        return None
    show = db.session.get(Show, show_id)
    if show is None or show.owner_id != current_user.id:
        abort(404)
    return show


def _show_choices() -> list[SelectChoice]:
    return [
        SelectChoice(None, "No show"),
        *(SelectChoice(i, t) for i, t in show_service.show_choices(current_user)),
    ]


def _setup(form: StudioForm) -> dict[str, Any]:
    """Fill the database-backed choices and return what the page needs around the form."""
    image_type = form.image_type.data if form.image_type.data in generation.IMAGE_TYPES else "poster"
    quality = form.quality.data if form.quality.data in generation.QUALITIES else "medium"
    options = studio_service.model_options(image_type, quality)
    tier_values = [value for value, _label in studio_service.TIER_OPTIONS]
    form.model.choices = [
        *(SelectChoice(v, label) for v, label in studio_service.TIER_OPTIONS),
        *(SelectChoice(o.value, o.label) for o in options),
    ]
    if not form.model.data or form.model.data not in {o.value for o in options} | set(tier_values):
        form.model.data = studio_service.default_model(image_type)
    form.show.choices = _show_choices()
    recent = studio_service.recent_images(current_user, include=parse_id(form.source_asset.data))
    form.source_asset.choices = [SelectChoice(a.id, a.filename) for a in recent]
    show = _own_show(form.show.data) if form.show.data else None
    palette_id = parse_id(request.values.get("palette")) or parse_id(form.palette.data)
    colours, colour_source = studio_service.palette_colours(current_user, show, palette_id)
    keys = user_keys(current_user)
    return {
        "options": options,
        "limits": {
            **{o.value: REGISTRY[o.provider].spec.prompt_limit for o in options},
            # A tier may pick any provider: the smallest limit of all.
            **dict.fromkeys(tier_values, min(cls.spec.prompt_limit for cls in REGISTRY.values())),
        },
        "tier_options": studio_service.TIER_OPTIONS,
        "recent": recent,
        "colours": colours,
        "colour_source": colour_source,
        "palette_id": palette_id,
        "own_keys": {name: row.key_suffix for name, row in keys.items()},
        "templates": studio_service.templates_by_type(),
        "examples": studio_service.EXAMPLES,
    }


def _use_own(form: StudioForm) -> bool | None:
    provider, _ = form.provider_model()
    return bool(form.use_own_key.data) if provider and provider in user_keys(current_user) else None


def _estimate(form: StudioForm, ctx: dict[str, Any]) -> studio_service.Estimate:
    return studio_service.quote_for(current_user, form.to_request(ctx["colours"], _use_own(form)))


def _render_index(
    form: StudioForm, job: Job | None = None, status: int = 200, error: str | None = None
) -> ResponseReturnValue:
    ctx = _setup(form)
    view = studio_service.generation_view(job) if job is not None else None
    return (
        render_template(
            "studio/index.html",
            form=form,
            estimate=_estimate(form, ctx),
            gen=view,
            recent_jobs=studio_service.generation_jobs(current_user),
            action_form=ActionForm(),
            error=error,
            **ctx,
        ),
        status,
    )


def _prefill(form: StudioForm, job: Job) -> None:
    data = job.input or {}
    form.mode.data = "edit" if data.get("operation") == "edit" else "create"
    form.image_type.data = data.get("image_type", "poster")
    form.prompt.data = data.get("prompt", "")
    form.negative.data = data.get("negative", "")
    form.style.data = data.get("style") or ""
    form.quality.data = data.get("quality", "medium")
    form.variations.data = str(data.get("variations", 1))
    form.show.data = data.get("show_id")
    form.source_asset.data = data.get("source_asset_id")
    form.use_palette.data = bool(data.get("palette"))
    if data.get("provider"):
        form.model.data = f"{data['provider']}:{data.get('model') or ''}"


def _results(job: Job) -> ResponseReturnValue:
    """After starting a job: the live results partial (HTMX) or the studio page showing it."""
    if is_htmx():
        resp = make_response(
            render_template(
                "studio/_results.html", gen=studio_service.generation_view(job), action_form=ActionForm()
            )
        )
        resp.headers["HX-Push-Url"] = url_for("studio.index", job=job.id)
        return resp
    return redirect(url_for("studio.index", job=job.id))


def _back(job_id: int | None, message: str | None = None, category: str = "success") -> Response:
    if message:
        flash(message, category)
    target = url_for("studio.index", job=job_id) if job_id else url_for("studio.index")
    if is_htmx():
        resp = make_response("", 204)
        resp.headers["HX-Redirect"] = target
        return resp
    return redirect(target)


def _action_ok() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


# --------------------------------------------------------------------------- the studio page


@bp.get("")
@media_assistant_required
def index() -> ResponseReturnValue:
    """The studio. ?job= shows that generation (and fills the form from it), ?show= and ?palette= preselect,
    ?template= / ?example= put a starter into the prompt (the no-JS path for those buttons)."""
    form = StudioForm(formdata=None)
    form.use_own_key.data = any(k.use_own for k in user_keys(current_user).values())
    job = None
    job_id, show_id, asset_id = id_arg("job"), id_arg("show"), id_arg("asset")
    palette_id, template_id = id_arg("palette"), id_arg("template")
    if job_id:
        job = get_viewable_or_404(Job, job_id)
        if job.kind != "generate":
            abort(404)
        _prefill(form, job)
    if show_id:
        form.show.data = _own_show(show_id).id  # type: ignore[union-attr]
    if request.args.get("type") in generation.IMAGE_TYPES:
        form.image_type.data = request.args["type"]
    if asset_id:
        source = get_owned_or_404(Asset, asset_id)
        form.mode.data, form.source_asset.data = "edit", source.id
    if palette_id:
        form.palette.data = str(palette_id)
        form.use_palette.data = True
    if template_id:
        tpl = db.session.get(PromptTemplate, template_id)
        if tpl is not None:
            form.prompt.data, form.image_type.data = tpl.text, tpl.image_type
    example = request.args.get("example", "")
    image_type, _, n = example.partition("-")
    if image_type in studio_service.EXAMPLES:
        index = parse_int(n, lo=0, hi=len(studio_service.EXAMPLES[image_type]) - 1)
        if index is not None:
            form.prompt.data, form.image_type.data = studio_service.EXAMPLES[image_type][index], image_type
    return _render_index(form, job)


@bp.post("/estimate")
@media_assistant_required
def estimate() -> ResponseReturnValue:
    """The live cost estimate partial, recomputed as options change (same function as the ledger)."""
    form = EstimateForm()
    ctx = _setup(form)
    return render_template("studio/_estimate.html", estimate=_estimate(form, ctx), form=form, **ctx)


@bp.post("/generate")
@media_assistant_required
def generate() -> ResponseReturnValue:
    """Validate and start the generation; the results appear as the job publishes them."""
    form = StudioForm()
    ctx = _setup(form)
    error = None
    if form.validate_on_submit():
        try:
            if form.mode.data == "edit" and form.source_upload.data and form.source_upload.data.filename:
                upload = form.source_upload.data
                form.source_asset.data = studio_service.ingest_source(
                    current_user, upload.read(), upload.filename
                ).id
            job = studio_service.start(current_user, form.to_request(ctx["colours"], _use_own(form)))
        except ImageRejected as exc:
            form.source_upload.errors = [exc.message]
        except ActionError as exc:
            error = exc.message
        except (generation.GenerationError, RoutingError, studio_service.StudioError) as exc:
            error = str(exc)
        else:
            return _results(job)
    if error and "prompt" in error.lower():
        form.prompt.errors = [*form.prompt.errors, error]
        error = None
    if is_htmx():
        resp = make_response(_render_index(form, status=422, error=error)[0])  # type: ignore[index]
        resp.status_code = 422
        resp.headers["HX-Retarget"] = "#studio"
        resp.headers["HX-Reselect"] = "#studio"
        resp.headers["HX-Reswap"] = "outerHTML"
        return resp
    return _render_index(form, status=422, error=error)


@bp.get("/jobs/<int:job_id>")
@media_assistant_required
def job_status(job_id: int) -> ResponseReturnValue:
    """The live results partial; it polls itself until the job is final."""
    job = get_viewable_or_404(Job, job_id)
    if job.kind != "generate":
        abort(404)
    if not is_htmx():
        return redirect(url_for("studio.index", job=job.id))
    return render_template(
        "studio/_results.html", gen=studio_service.generation_view(job), action_form=ActionForm()
    )


def _start_again(back_to: int | None, start, *args) -> ResponseReturnValue:
    """Run a service call that starts a new generation; refusals go back to the page as a notice."""
    try:
        new = start(current_user, *args)
    except (generation.GenerationError, RoutingError, studio_service.StudioError) as exc:
        return _back(back_to, str(exc), "error")
    except ActionError as exc:
        return _back(back_to, exc.message, "error")
    return _results(new)


@bp.post("/jobs/<int:job_id>/retry")
@media_assistant_required
def retry(job_id: int) -> ResponseReturnValue:
    """Run only the failed variations again (the others are kept, not redrawn or paid for)."""
    job = get_owned_or_404(Job, job_id)
    _action_ok()
    return _start_again(job.id, studio_service.retry_failed, job)


@bp.post("/jobs/<int:job_id>/regenerate")
@media_assistant_required
def regenerate(job_id: int) -> ResponseReturnValue:
    """The same settings again, new pictures."""
    job = get_owned_or_404(Job, job_id)
    _action_ok()
    return _start_again(job.id, studio_service.regenerate, job)


# --------------------------------------------------------------------------- one result


def _asset_page(asset: Asset, **extra: Any) -> ResponseReturnValue:
    job = db.session.get(Job, asset.job_id) if asset.job_id else None
    show = db.session.get(Show, asset.show_id) if asset.show_id else None
    return render_template(
        "studio/asset.html",
        asset=asset,
        job=job,
        show=show,
        slot=studio_service.slot_for(asset),
        shows=show_service.show_choices(current_user),
        action_form=ActionForm(),
        **extra,
    )


@bp.get("/assets/<int:asset_id>")
@media_assistant_required
def asset(asset_id: int) -> ResponseReturnValue:
    """One result with everything that can be done with it."""
    return _asset_page(get_viewable_or_404(Asset, asset_id))


@bp.post("/assets/<int:asset_id>/more")
@media_assistant_required
def more(asset_id: int) -> ResponseReturnValue:
    """New variations from the prompt and settings that made this image."""
    item = get_owned_or_404(Asset, asset_id)
    _action_ok()
    return _start_again(item.job_id, studio_service.more_like, item)


@bp.post("/assets/<int:asset_id>/delete")
@media_assistant_required
def delete(asset_id: int) -> ResponseReturnValue:
    """Throw away an unwanted variation (it is a library image like any other)."""
    item = get_owned_or_404(Asset, asset_id)
    _action_ok()
    job_id, name = item.job_id, item.filename
    studio_service.delete_variation(item)
    return _back(job_id, f"Deleted {name}.")


@bp.post("/assets/<int:asset_id>/assign")
@media_assistant_required
def assign(asset_id: int) -> ResponseReturnValue:
    """Put the image in the chosen show's slot of its size."""
    item = get_owned_or_404(Asset, asset_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    show = _own_show(parse_id(request.form.get("show")))
    if show is None:
        flash("Choose a show first.", "error")
        return redirect(url_for("studio.asset", asset_id=item.id))
    try:
        slot = studio_service.assign(show, item)
    except (ValueError, studio_service.StudioError) as exc:
        flash(str(exc), "error")
        return redirect(url_for("studio.asset", asset_id=item.id))
    from webapp.services.publishing import describing_note

    note = describing_note(item)  # publishing a draft started its AI description
    flash(" ".join(x for x in (f"This image is now the {slot} of {show.title}.", note) if x), "success")
    if request.form.get("next") == "job" and item.job_id:
        return redirect(url_for("studio.index", job=item.job_id))
    return redirect(url_for("studio.asset", asset_id=item.id))


@bp.post("/assets/<int:asset_id>/autoformat")
@media_assistant_required
def autoformat(asset_id: int) -> ResponseReturnValue:
    """Poster, square and banner from this image in one click."""
    item = get_owned_or_404(Asset, asset_id)
    _action_ok()
    try:
        job = studio_service.autoformat(current_user, item)
    except ActionError as exc:
        flash(exc.message, "error")
        return redirect(url_for("studio.asset", asset_id=item.id)), 303
    return redirect(url_for("activity.show", job_id=job.id))


# --------------------------------------------------------------------------- the show's details in type


def _overlay_form(source: Asset, show: Show | None) -> OverlayForm:
    """The editor's form: from the query (preview / "fill in from show"), else from the stored spec."""
    submitted = request.method == "POST" or request.args.get("spec")
    if request.method == "POST":
        form = OverlayForm()  # CSRF as configured
    else:
        form = OverlayForm(formdata=request.args if submitted else None, meta={"csrf": False})
    form.show.choices = _show_choices()
    if not submitted:
        spec = studio_service.default_spec(source, show, producer_locale())
        for name, value in studio_service.spec_fields(spec).items():
            if name in form._fields:
                form[name].data = True if name.startswith("on_") else value
        form.show.data = show.id if show else None
    if request.args.get("fill") and show is not None:
        texts = studio_service.show_texts(show, producer_locale())
        for item, text in texts.items():
            form[f"text_{item}"].data = text
            form[f"on_{item}"].data = bool(text) and item != "address"
        for name, hex_ in overlay_colours(show).items():  # the show's applied palette, still changeable
            form[name].data = hex_
            form[f"{name}_mode"].data = "custom"
    return form


def _editor_context(source: Asset, form: OverlayForm) -> dict[str, Any]:
    spec = studio_service.spec_from_fields(form.values())
    lay = overlay_layout(spec, (source.width, source.height))
    show = db.session.get(Show, form.show.data) if isinstance(form.show.data, int) else None
    palette = applied_palette(show) if show is not None and show.owner_id == source.owner_id else None
    return {
        "palette": palette,
        "source": source,
        "form": form,
        "spec": spec,
        "fits": lay.fits,
        "warnings": lay.warnings,
        "preview_args": studio_service.spec_fields(spec),
        "families": FAMILIES,
    }


def _editor_show(source: Asset) -> Show | None:
    show_id = parse_id(request.values.get("show")) or source.show_id
    if show_id:
        show = db.session.get(Show, show_id)
        if show is not None and show.owner_id == source.owner_id:
            return show
    return None


@bp.get("/assets/<int:asset_id>/overlay")
@media_assistant_required
def overlay(asset_id: int) -> ResponseReturnValue:
    """The editor: texts filled in from the show, each switchable and editable; font, position, colour.
    With HTMX only the preview panel is swapped as the producer types (no provider call, ever)."""
    source = studio_service.clean_source(get_owned_or_404(Asset, asset_id))
    if source.id != asset_id:
        return redirect(url_for("studio.overlay", asset_id=source.id))
    form = _overlay_form(source, _editor_show(source))
    ctx = _editor_context(source, form)
    if is_htmx() and request.args.get("panel"):
        return render_template("studio/_overlay_preview.html", **ctx)
    if is_htmx() and request.args.get("fill"):
        return render_template("studio/_overlay_editor.html", **ctx)
    return render_template("studio/overlay.html", **ctx)


@bp.get("/assets/<int:asset_id>/preview.jpg")
@media_assistant_required
def preview(asset_id: int) -> ResponseReturnValue:
    """The image with the current spec set on it, as a JPEG (rendered per request, < 200 ms)."""
    source = get_viewable_or_404(Asset, asset_id)
    form = OverlayForm(formdata=request.args, meta={"csrf": False})
    spec = studio_service.spec_from_fields(form.values())
    width = request.args.get("width", "")
    size = int(width) if width.isdigit() and len(width) < 5 else studio_service.PREVIEW_WIDTH
    resp = make_response(studio_service.preview_jpeg(source, spec, size))
    resp.headers["Content-Type"] = "image/jpeg"
    resp.headers["Cache-Control"] = "private, max-age=600"
    return resp


@bp.post("/assets/<int:asset_id>/overlay")
@media_assistant_required
def save_overlay(asset_id: int) -> ResponseReturnValue:
    """Save "with overlay": a new edited image next to the untouched clean one."""
    source = studio_service.clean_source(get_owned_or_404(Asset, asset_id))
    show = _editor_show(source)
    form = _overlay_form(source, show)
    if not form.validate_on_submit():
        return render_template("studio/overlay.html", **_editor_context(source, form)), 422
    spec = studio_service.spec_from_fields(form.values())
    try:
        saved = studio_service.save_with_overlay(current_user, source, spec, show)
    except studio_service.StudioError as exc:
        flash(str(exc), "error")
        return render_template("studio/overlay.html", **_editor_context(source, form)), 422
    flash("Saved with the show's details. The clean image is still in your library.", "success")
    target = url_for("studio.asset", asset_id=saved.id)
    if is_htmx():
        resp = make_response("", 204)
        resp.headers["HX-Redirect"] = target
        return resp
    return redirect(target)


from webapp.studio import media_routes  # noqa: E402, F401  (Video and Voice modes register on bp)
