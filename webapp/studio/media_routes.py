"""Studio Video and Voice modes: pick a library image, a format, a length and a motion (or write a
script), start the job, watch it through the shared job partial, play the result and put it in a show's
promo or voice slot. Doors for `actions.animate` and `actions.voiceover`."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from webapp.authz import media_assistant_required
from webapp.extensions import db
from webapp.models import Asset, Show
from webapp.params import id_arg
from webapp.services import actions
from webapp.services import jobs as job_service
from webapp.services import media as media_service
from webapp.services import shows as show_service
from webapp.studio.media_forms import VideoForm, VoiceForm
from webapp.studio.routes import bp

PICK_LIMIT = 60


def _images() -> list[Asset]:
    return list(
        db.session.scalars(
            select(Asset)
            .where(Asset.owner_id == current_user.id, Asset.media_kind == "image", Asset.hidden.is_(False))
            .order_by(Asset.id.desc())
            .limit(PICK_LIMIT)
        )
    )


def _providers(method: str) -> list[tuple[str, str]]:
    from webapp.providers import REGISTRY
    from webapp.services.providers import enabled_providers

    offered = [("local", "Local (free, offline)")] if method == "animate" else []
    for p in enabled_providers():
        if p.name == "local" or p.name not in REGISTRY:
            continue
        if method == "generate" or media_service.provider_can(p.name, method):
            offered.append((p.name, REGISTRY[p.name].spec.display_name))
    return offered


def _shows() -> list[tuple[Any, str]]:
    return [("", "No show"), *show_service.show_choices(current_user)]


def _video_page(
    form: VideoForm, job=None, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    from webapp.studio.media_forms import STILL_PROVIDERS

    form.show.choices = _shows()
    form.provider.choices = _providers("animate")
    form.image_provider.choices = STILL_PROVIDERS + [
        (name, label) for name, label in _providers("generate") if name != "local"
    ]
    images = _images()
    ctx: dict[str, Any] = {"form": form, "images": images, "error": error, "mode": "video"}
    if job is not None:
        ctx.update(job_service.job_view(job))
    return render_template("studio/video.html", **ctx), status


@bp.get("/video")
@media_assistant_required
def video() -> ResponseReturnValue:
    """Video mode. ?asset= preselects the image, ?show= the show (its title for the reveal, its details
    as the prompt of a new still), ?source=new starts from a new image."""
    form = VideoForm(formdata=None)
    form.asset_id.data = id_arg("asset")
    form.show.data = id_arg("show")
    if request.args.get("source") == "new":
        form.source.data = "new"
    show = db.session.get(Show, form.show.data) if form.show.data else None
    if show is not None and show.owner_id == current_user.id:
        form.image_prompt.data = _still_prompt(show)
        if form.asset_id.data is None and show.poster_asset_id:
            form.asset_id.data = show.poster_asset_id
    return _video_page(form)


def _still_prompt(show: Show) -> str:
    """A prompt for a new still from the show's details (the producer may rewrite it)."""
    who = ", ".join(
        str(p.get("name", p)) if isinstance(p, dict) else str(p) for p in (show.performers or [])[:3]
    )
    venue = f" at {show.venue_name}" if show.venue_name else ""
    return (
        f"A striking promotional image for “{show.title}”{venue}"
        + (f", featuring {who}" if who else "")
        + "."
    )


@bp.post("/video")
@media_assistant_required
def animate() -> ResponseReturnValue:
    """Start a clip; the page then shows the job partial, which polls until the player appears."""
    form = VideoForm()
    if not form.validate_on_submit():
        return _video_page(form, error="Some settings need changing.", status=422)
    fresh = form.source.data == "new"
    settings = media_service.VideoSettings(
        asset_id=None if fresh else form.asset_id.data,
        image_prompt=(form.image_prompt.data or "") if fresh else "",
        image_provider=form.image_provider.data or "free",
        format=form.format.data,
        seconds=form.seconds.data,
        motion=form.motion.data,
        title_reveal=bool(form.title_reveal.data),
        provider=form.provider.data or "local",
        prompt=form.prompt.data or "",
        show_id=form.show.data,
    )
    try:
        job = actions.animate(
            current_user, settings, idempotency_key=request.form.get("idempotency_key") or None
        )
    except actions.ActionError as exc:
        return _video_page(form, error=exc.message, status=actions.ACTION_STATUS.get(exc.code, 422))
    return _video_page(form, job=job)


def _voice_page(
    form: VoiceForm, job=None, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    form.show.choices = _shows()
    form.provider.choices = _providers("speak")
    ctx: dict[str, Any] = {
        "form": form,
        "error": error,
        "mode": "voice",
        "needs_premium": media_service.VOICE_NEEDS_PREMIUM,
    }
    if job is not None:
        ctx.update(job_service.job_view(job))
    return render_template("studio/voice.html", **ctx), status


@bp.get("/voice")
@media_assistant_required
def voice() -> ResponseReturnValue:
    """Voice mode: the script is prefilled from the show's details (?show=)."""
    form = VoiceForm(formdata=None)
    form.show.data = id_arg("show")
    show = db.session.get(Show, form.show.data) if form.show.data else None
    if show is not None and show.owner_id == current_user.id:
        from webapp.services.show_text import date_summary

        venue = f" at {show.venue_name}" if show.venue_name else ""
        form.text.data = f"{show.title}, {date_summary(show)}{venue}. {show.cta_text or 'Get tickets'} now!"
    return _voice_page(form)


@bp.post("/voice")
@media_assistant_required
def voiceover() -> ResponseReturnValue:
    form = VoiceForm()
    if not form.validate_on_submit():
        return _voice_page(form, error="Some settings need changing.", status=422)
    settings = media_service.VoiceSettings(
        text=form.text.data or "",
        voice=form.voice.data or None,
        provider=form.provider.data or None,
        show_id=form.show.data,
    )
    try:
        job = actions.voiceover(current_user, settings)
    except actions.ActionError as exc:
        return _voice_page(form, error=exc.message, status=actions.ACTION_STATUS.get(exc.code, 422))
    return _voice_page(form, job=job)


@bp.post("/media/<int:asset_id>/use")
@media_assistant_required
def use_media(asset_id: int) -> ResponseReturnValue:
    """ "Use as promo clip" / "Use as voice promo": put the file in the chosen show's media slot and go to
    the show, where it plays."""
    from flask import flash, redirect, url_for

    from webapp.authz import get_owned_or_404
    from webapp.params import parse_id
    from webapp.services import show_media
    from webapp.studio.forms import ActionForm

    item = get_owned_or_404(Asset, asset_id)
    form = ActionForm()
    form.show.choices = _shows()
    back = url_for("library.detail", asset_id=item.id)
    if not form.validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(back)
    show_id = parse_id(request.form.get("show"))
    show = db.session.get(Show, show_id) if show_id else None
    if show is None or show.owner_id != current_user.id:
        flash("Choose one of your shows first.", "error")
        return redirect(back)
    slot = "promo" if item.media_kind == "video" else "voice"
    try:
        show_media.assign_media_slot(show, slot, item)
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(back)
    flash(f"{show_media.MEDIA_SLOT_LABELS[slot]} of {show.title} set to {item.filename}.", "success")
    return redirect(url_for("shows.detail", show_id=show.id, _anchor="media-slots"))
