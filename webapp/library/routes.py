"""The media library: gallery, detail, delete (single and multi-select), ZIP, and file serving.

Files are only ever served to their owner (and staff): the local backend streams them after the
check, S3 redirects to a short-lived presigned URL after the same check.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from webapp.authz import get_owned_or_404, get_viewable_or_404, media_assistant_required
from webapp.downloads import serve_asset_file, zip_response
from webapp.extensions import db
from webapp.library.forms import DescribeForm, LibraryFilterForm, SelectionForm
from webapp.models import Asset, Job, Show
from webapp.params import parse_ids
from webapp.services import actions, describe, library_stacks
from webapp.services import formats as format_service
from webapp.services import library as library_service
from webapp.services.upload_analysis import analysis_pending
from webapp.templating import is_htmx

bp = Blueprint("library", __name__)


def _filters() -> tuple[LibraryFilterForm, library_service.LibraryFilter]:
    form = LibraryFilterForm(request.args)
    shows = db.session.execute(
        select(Show.id, Show.title).where(Show.owner_id == current_user.id).order_by(Show.title)
    ).all()
    form.show.choices = [("", "Any show")] + [(str(sid), title) for sid, title in shows]
    # Kinds, then every format (presets and the custom sizes this producer made): 'ig-story', '1600x900'.
    kinds = [(k, k.capitalize()) for k in library_service.KINDS if k not in ("poster", "square", "banner")]
    form.kind.choices = (
        [("", "All kinds and formats")]
        + kinds
        + [(c.value, c.title) for c in format_service.filter_choices(current_user)]
    )
    valid = form.validate()
    errors = {name: f.errors for name, f in form._fields.items() if f.errors} if not valid else {}

    def ok(name: str, value):
        return "" if name in errors else value

    flt = library_service.LibraryFilter(
        kind=ok("kind", form.kind.data or ""),
        source=ok("source", form.source.data or ""),
        media=ok("media", form.media.data or ""),
        status=ok("status", form.status.data or ""),
        show_id=int(form.show.data) if ok("show", form.show.data) else None,
        q=ok("q", (form.q.data or "").strip()),
        sort=ok("sort", form.sort.data) or "newest",
        color=(ok("color", form.color.data or "") or "").lower() if request.args.get("by_color") else "",
        cursor=ok("cursor", form.cursor.data or request.args.get("cursor", "")),
        favorites=bool(form.favorites.data),
    )
    return form, flt


@bp.get("/library")
@media_assistant_required
def index():
    """The gallery: filters, search, sort, colour search, keyset pages ("Load more")."""
    form, flt = _filters()
    canonical = url_for("library.index", **flt.as_args(cursor=flt.cursor))
    if "color" in request.args and not request.args.get("by_color") and not is_htmx():
        # The colour picker always has a value; it is a filter only when "By colour" is ticked.
        return redirect(canonical)
    page = library_stacks.stacks(current_user, flt)
    describe.ensure_described(
        item.asset for stack in page.stacks for item in (stack.cover, *stack.members, *stack.older)
    )
    selection = SelectionForm()
    if is_htmx() and request.args.get("cursor"):
        return render_template("library/_page.html", page=page, selection=selection)
    template = "library/_results.html" if is_htmx() else "library/index.html"
    resp = make_response(render_template(template, form=form, page=page, selection=selection))
    if is_htmx() and not request.args.get("cursor"):
        resp.headers["HX-Push-Url"] = url_for("library.index", **flt.as_args())  # no stray colour
    return resp


@bp.post("/assets/<int:asset_id>/favorite")
@media_assistant_required
def favorite(asset_id: int):
    """Star or unstar (``favorite`` = 1 or 0). HTMX swaps the button; without JavaScript the form
    posts here and the producer is sent back to the page they were on."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    get_owned_or_404(Asset, asset_id)  # staff may look at others' images, not star them (403)
    raw = request.form.get("favorite", "")
    value = {"1": True, "0": False}.get(raw, raw)
    try:
        asset = actions.set_favorite(current_user, asset_id, value)
    except actions.ActionError as exc:
        if exc.code == "not_found":
            abort(404)
        return exc.message, 422
    if is_htmx():
        return render_template("library/_star.html", a=asset, back=_safe_back(request.values.get("next")))
    flash(f"{'Starred' if asset.favorite else 'Unstarred'} {asset.filename}.", "success")
    back = _safe_back(request.values.get("next"))
    return redirect(back or url_for("library.detail", asset_id=asset.id)), 303


def _safe_back(target: str | None) -> str:
    """Only same-site relative paths (no open redirect)."""
    relative = bool(target) and target.startswith("/") and not target.startswith("//")
    if relative and "\\" not in target and not urlsplit(target).netloc and len(target) <= 2000:
        return target
    return ""


@bp.get("/assets/<int:asset_id>")
@media_assistant_required
def detail(asset_id: int):
    """Preview, facts, provenance, family (parent and derived), and where the image is used."""
    asset = get_viewable_or_404(Asset, asset_id)
    usage = library_service.usages([asset])[asset.id]
    parent = db.session.get(Asset, asset.parent_id) if asset.parent_id else None
    job = db.session.get(Job, asset.job_id) if asset.job_id else None
    show = db.session.get(Show, asset.show_id) if asset.show_id else None
    relatives = library_service.family(asset, [a for a in (parent, *usage.derived) if a is not None])
    describe.ensure_described([asset, parent, *usage.derived, *relatives])
    return render_template(
        "library/detail.html",
        asset=asset,
        usage=usage,
        parent=parent,
        relatives=relatives,
        job=job,
        show=show,
        form=FlaskForm(),
        describe_form=_describe_form(asset),
        ai=_ai_describe(asset),
    )


def _ai_describe(asset: Asset) -> dict | None:
    """What the "Describe with AI" block shows: the estimate, or why there is no button."""
    if not asset.is_image or asset.owner_id != current_user.id:
        return None
    from webapp.services import describe_ai as describe_ai_service

    quote, why = describe_ai_service.quote_or_none(current_user)
    return {"quote": quote, "why": why, "record": describe_ai_service.record_of(asset)}


def _describe_form(asset: Asset, formdata=None) -> DescribeForm:
    form = DescribeForm(formdata=formdata)
    if formdata is None:
        form.alt_text.data = asset.alt_text or ""
        form.title.data = asset.title or ""
        form.description.data = asset.description or ""
        form.tags.data = ", ".join(asset.tags or [])
    return form


@bp.post("/assets/<int:asset_id>/describe")
@media_assistant_required
def describe_asset(asset_id: int):
    """Save the producer's alt text, title, description and tags (owner only; 400 with each
    field's error, nothing written, when they do not fit)."""
    asset = get_owned_or_404(Asset, asset_id)
    form = _describe_form(asset, request.form)
    if not form.validate_on_submit():
        abort(400)
    if not asset.is_image:
        abort(404)
    try:
        describe.update_description(
            asset,
            {
                "alt_text": form.alt_text.data,
                "title": form.title.data,
                "description": form.description.data,
                "tags": form.tags.data or "",
            },
        )
    except describe.DescriptionError as exc:
        db.session.rollback()
        for name, message in exc.errors.items():
            getattr(form, name).errors = [message]
        usage = library_service.usages([asset])[asset.id]
        parent = db.session.get(Asset, asset.parent_id) if asset.parent_id else None
        job = db.session.get(Job, asset.job_id) if asset.job_id else None
        show = db.session.get(Show, asset.show_id) if asset.show_id else None
        html = render_template(
            "library/detail.html",
            asset=asset,
            usage=usage,
            parent=parent,
            job=job,
            show=show,
            form=FlaskForm(),
            describe_form=form,
        )
        return html, 400
    flash("Saved the alt text, title, description and tags.", "success")
    return redirect(url_for("library.detail", asset_id=asset.id)), 303


@bp.route("/assets/<int:asset_id>/delete", methods=["GET", "POST"])
@media_assistant_required
def delete(asset_id: int):
    """GET: the warning with every place the image is used. POST: delete it everywhere."""
    asset = get_owned_or_404(Asset, asset_id)
    form = SelectionForm()
    if request.method == "POST" and form.validate_on_submit():
        name = asset.filename
        library_service.delete_assets([asset])
        return _after_delete(f"Deleted {name}.")
    usage = library_service.usages([asset])
    return render_template(
        "library/confirm_delete.html", assets=[asset], usage=usage, form=form, ids=[asset.id]
    )


@bp.post("/library/selection")
@media_assistant_required
def selection():
    """Multi-select actions: delete (after a confirmation listing usage) or ZIP download."""
    form = SelectionForm()
    if not form.validate_on_submit():
        abort(400)
    ids = _ids(request.form.getlist("ids"))
    assets = library_service.owned_assets(current_user, ids)
    if not assets:
        return redirect(url_for("library.index"))
    if request.form.get("action") == "zip":
        return redirect(url_for("library.download_zip", ids=[a.id for a in assets]))
    if form.confirm.data != "yes":
        usage = library_service.usages(assets)
        return render_template(
            "library/confirm_delete.html", assets=assets, usage=usage, form=form, ids=[a.id for a in assets]
        )
    count = library_service.delete_assets(assets)
    return _after_delete(f"Deleted {count} image{'s' if count != 1 else ''}.")


def _after_delete(message: str):
    from flask import flash

    flash(message, "success")
    if is_htmx():
        resp = Response(status=204)
        resp.headers["HX-Redirect"] = url_for("library.index")
        return resp
    return redirect(url_for("library.index"))


def _ids(values: list[str]) -> list[int]:
    return parse_ids(values, 500)


@bp.get("/library/download.zip")
@media_assistant_required
def download_zip():
    """The selected images in one streamed ZIP (only the producer's own)."""
    assets = library_service.owned_assets(current_user, _ids(request.args.getlist("ids")))
    if not assets:
        abort(404)
    return zip_response(assets, "marquee-images.zip")


@bp.post("/assets/<int:asset_id>/autoformat")
@media_assistant_required
def autoformat(asset_id: int):
    """Auto-format an image already in the library: default options, in the formats the producer
    chose last time on the upload page (the show's three until they choose)."""
    asset = get_owned_or_404(Asset, asset_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    formats, fills = format_service.remembered_request(current_user)
    try:
        job = actions.autoformat_asset(
            current_user, asset.id, actions.AutoformatSettings(formats=formats, fills=fills)
        )
    except actions.ActionError as exc:
        flash(exc.message, "error")
        return redirect(url_for("library.detail", asset_id=asset.id)), 303
    return redirect(url_for("activity.show", job_id=job.id))


@bp.post("/assets/<int:asset_id>/describe-ai")
@media_assistant_required
def describe_ai(asset_id: int):
    """Describe with AI: a job writes the words from the image (priced; the estimate is on the button)."""
    asset = get_owned_or_404(Asset, asset_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        job = actions.describe_images(current_user, [asset.id])
    except actions.ActionError as exc:
        flash(exc.message, "error")
        return redirect(url_for("library.detail", asset_id=asset.id, _anchor="describe")), 303
    return redirect(url_for("activity.show", job_id=job.id))


@bp.post("/assets/<int:asset_id>/publish")
@media_assistant_required
def publish(asset_id: int):
    """Publish a draft, or check again an image held because its moderation check failed."""
    from webapp.services import moderation, publishing

    asset = get_owned_or_404(Asset, asset_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        outcome = publishing.ensure_publishable(current_user, asset)
    except moderation.ModerationError as exc:
        flash(str(exc), "error")
    else:
        flash(" ".join(x for x in ("Published.", outcome.describe_note) if x), "success")
    return redirect(url_for("library.detail", asset_id=asset.id)), 303


@bp.get("/assets/<int:asset_id>/file")
@media_assistant_required
def file(asset_id: int):
    """The image itself, for <img> tags. Owner (or staff) only; 404 for anyone else."""
    asset = get_viewable_or_404(Asset, asset_id)
    return serve_asset_file(asset, asset.storage_key, asset.content_type, asset.filename, download=False)


@bp.get("/assets/<int:asset_id>/download")
@media_assistant_required
def download(asset_id: int):
    """The image as an attachment with its friendly filename."""
    asset = get_viewable_or_404(Asset, asset_id)
    return serve_asset_file(asset, asset.storage_key, asset.content_type, asset.filename, download=True)


@bp.get("/assets/<int:asset_id>/thumb")
@media_assistant_required
def thumb(asset_id: int):
    """A small WebP made once at ingest (or now, once, for images that predate thumbnails)."""
    asset = get_viewable_or_404(Asset, asset_id)
    if not asset.thumb_key and analysis_pending(asset):
        # A fresh upload: its job makes the thumbnail in a moment; no image work in a page request.
        return serve_asset_file(asset, asset.storage_key, asset.content_type, asset.filename, download=False)
    if not asset.thumb_key:
        try:
            library_service.ensure_thumbnail(asset)
        except Exception:
            current_app.logger.warning(
                "thumbnail for asset %s failed; serving the file", asset.id, exc_info=True
            )
            return serve_asset_file(
                asset, asset.storage_key, asset.content_type, asset.filename, download=False
            )
    stem = asset.filename.rsplit(".", 1)[0]
    return serve_asset_file(asset, asset.thumb_key, "image/webp", f"{stem}-thumb.webp", download=False)
