"""Bulk generator pages: start (paste or upload, review the cost), watch a batch fill its gallery,
choose, publish, close. Thin views: parse the form, call `services.bulk`, render or redirect.

Every page works without JavaScript (POST -> redirect, a <noscript> refresh while a batch runs);
with htmx the batch page polls `updates`, which sends only new tiles and, when something changed,
the status panel — never the whole gallery again.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from webapp.authz import get_owned_or_404, get_viewable_or_404, media_assistant_required
from webapp.bulk.forms import ActionForm, BatchSettingsForm, ConfirmForm, PromptForm, StartForm
from webapp.downloads import zip_response
from webapp.extensions import db
from webapp.models import Asset, BulkBatch, BulkImage, BulkItem, Show, User
from webapp.params import MAX_ID, int_arg, parse_ids
from webapp.providers import REGISTRY
from webapp.services import bulk as bulk_service
from webapp.services import moderation, publishing
from webapp.services.keys import user_keys
from webapp.services.providers import enabled_providers
from webapp.templating import is_htmx

bp = Blueprint("bulk", __name__, url_prefix="/bulk")

LIVE_ITEM_STATES = ("pending", "running")
QUEUE_SHOWN = 12


# -- form choices ---------------------------------------------------------------------------------


def _engine_choices(user: User) -> list[SelectChoice]:
    """Enabled platform providers plus the ones this producer has their own key for, grouped by
    provider (an <optgroup> each), one option per model: no dependent selects, so no JS needed."""
    own = user_keys(user)
    rows = {p.name: p for p in enabled_providers()}
    names = [n for n in own if n in REGISTRY] + [n for n in rows if n not in own]
    groups: list[SelectChoice] = []
    for name in names:
        spec = REGISTRY[name].spec
        default = rows[name].model if name in rows else spec.default_model
        models = [default] + [m for m in spec.models if m != default]
        whose = "your key" if name in own else ("platform key" if spec.needs_key else "offline, free")
        group = f"{spec.display_name} ({whose})"
        short = spec.display_name.split(" (")[0]  # the group label already says "(offline, free)" etc.
        groups += [
            SelectChoice(f"{name}:{m}", f"{short} · {m}" if len(models) > 1 else short, optgroup=group)
            for m in models
        ]
    return groups


def _default_engine(user: User, choices: list[SelectChoice]) -> str:
    """The first engine this account may run: own key, then (admins) the platform, then free."""
    own = user_keys(user)
    free = set(bulk_service.free_providers())
    for choice in choices:
        if user.is_admin or choice.value.split(":", 1)[0] in own:
            return choice.value
    for choice in choices:
        if choice.value.split(":", 1)[0] in free:
            return choice.value
    return ""


def _prepare(form: BatchSettingsForm) -> BatchSettingsForm:
    groups = _engine_choices(current_user)
    form.engine.choices = groups
    if not form.engine.data:
        form.engine.data = _default_engine(current_user, groups)
    shows = db.session.execute(
        select(Show.id, Show.title).where(Show.owner_id == current_user.id).order_by(Show.title)
    ).all()
    form.show.choices = [SelectChoice("", "No show")] + [
        SelectChoice(str(sid), title) for sid, title in shows
    ]
    return form


def _refusal(user: User) -> str | None:
    """Why this account cannot start a batch at all. Every producer with the media assistant on
    can run the free offline generator, so this is only ever the switch."""
    free = bulk_service.free_providers()
    return bulk_service.who_may_run(user, bulk_service.BatchSettings(provider=free[0] if free else None))[1]


def _to_csv(parsed: bulk_service.ParseResult) -> str:
    """The reviewed prompts (with any per-row columns) as CSV, re-parsed and re-checked on start."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["prompt", "type", "style", "variations"])
    for p in parsed.prompts:
        writer.writerow([p.prompt, p.image_type or "", p.style or "", p.variations or ""])
    return out.getvalue()


# -- start ----------------------------------------------------------------------------------------


@bp.get("")
@media_assistant_required
def index() -> ResponseReturnValue:
    """The start form and this producer's batches (with a notice for the ones that finished)."""
    return _render_index(_prepare(StartForm(formdata=None)))


def _render_index(form: StartForm, parsed: bulk_service.ParseResult | None = None, status: int = 200):
    batches = db.session.scalars(
        select(BulkBatch).where(BulkBatch.owner_id == current_user.id).order_by(BulkBatch.id.desc()).limit(50)
    ).all()
    counts: dict[int, dict[str, int]] = {}
    if batches:
        rows = db.session.execute(
            select(BulkItem.batch_id, BulkItem.status, func.count())
            .where(BulkItem.batch_id.in_([b.id for b in batches]))
            .group_by(BulkItem.batch_id, BulkItem.status)
        ).all()
        for batch_id, item_status, n in rows:
            counts.setdefault(batch_id, {})[item_status] = n
    return (
        render_template(
            "bulk/index.html",
            form=form,
            parsed=parsed,
            batches=batches,
            counts=counts,
            refusal=_refusal(current_user),
            limits={"prompts": bulk_service.MAX_PROMPTS, "chars": bulk_service.MAX_PROMPT_CHARS},
        ),
        status,
    )


@bp.post("/review")
@media_assistant_required
def review() -> ResponseReturnValue:
    """Step 2: parse, flag problems next to the textarea, else show what the batch will cost and
    take before anything is spent."""
    form = _prepare(StartForm())
    if not form.validate_on_submit():
        return _render_index(form, status=422)
    upload = form.upload.data
    drop = "dedupe" in request.form  # "Remove duplicates and review": repeats are left out
    if upload and getattr(upload, "filename", ""):
        parsed = bulk_service.parse_prompts(
            upload=upload.read(), filename=upload.filename, drop_duplicates=drop
        )
    else:
        parsed = bulk_service.parse_prompts(form.prompts.data or "", drop_duplicates=drop)
    if parsed.problems:
        return _render_index(form, parsed, status=422)
    settings = form.settings()
    try:
        summary = bulk_service.summarize(current_user, parsed, settings)
    except bulk_service.BulkError as exc:
        form.engine.errors = [str(exc)]
        return _render_index(form, parsed, status=422)
    confirm = _prepare(ConfirmForm(formdata=None, data=form.data))
    confirm.prompts_csv.data = _to_csv(parsed)
    return render_template(
        "bulk/review.html",
        summary=summary,
        parsed=parsed,
        settings=settings,
        form=confirm,
        show=db.session.get(Show, settings.show_id) if settings.show_id else None,
        provider_label=bulk_service.provider_label(summary.provider),
    )


@bp.post("/start")
@media_assistant_required
def start() -> ResponseReturnValue:
    """Step 3: create the batch and its items, start the pumps, go and watch it."""
    form = _prepare(ConfirmForm())
    if not form.validate_on_submit():
        flash("The batch could not start: the form was incomplete. Review it again.", "error")
        return redirect(url_for("bulk.index"))
    parsed = bulk_service.parse_prompts(upload=form.prompts_csv.data.encode(), filename="reviewed.csv")
    try:
        batch = bulk_service.create_and_start(current_user, parsed, form.settings())
    except bulk_service.BulkError as exc:
        flash(str(exc), "error")
        return redirect(url_for("bulk.index"))
    return redirect(url_for("bulk.batch", batch_id=batch.id))


# -- watch ----------------------------------------------------------------------------------------


@dataclass
class Panel:
    """Everything the status panel shows, and a version that changes when any of it does."""

    batch: BulkBatch
    progress: bulk_service.Progress
    expected_images: int
    selected: int
    published: int  # images published from this batch (status published)
    held: int  # images sent to publish that moderation held for a staff decision
    failed: list[BulkItem]
    queue: list[BulkItem]
    running: list[BulkItem]
    show: Show | None

    @property
    def live(self) -> bool:
        """Polling continues while anything can still change by itself."""
        return self.batch.status == "running" or self.progress.running > 0

    @property
    def version(self) -> str:
        p = self.progress
        parts: list[Any] = [self.batch.status, p.done, p.failed, p.running, p.pending, p.cancelled, p.images]
        parts += [self.selected, self.published, self.held, [(i.id, i.error, i.prompt) for i in self.failed]]
        parts += [[i.id for i in self.queue], [i.id for i in self.running]]
        return hashlib.blake2s(repr(parts).encode(), digest_size=6).hexdigest()


def _panel(batch: BulkBatch) -> Panel:
    progress = bulk_service.progress(batch)
    items = db.session.scalars(
        select(BulkItem)
        .where(BulkItem.batch_id == batch.id, BulkItem.status.in_(("failed", "pending", "running")))
        .order_by(BulkItem.position, BulkItem.id)
    ).all()
    expected = db.session.scalar(
        select(func.coalesce(func.sum(func.coalesce(BulkItem.variations, batch.variations)), 0)).where(
            BulkItem.batch_id == batch.id, BulkItem.status != "cancelled"
        )
    )
    sent = BulkImage.published.is_(True)  # left the review: published, or held by moderation
    selected, published, held = db.session.execute(
        select(
            func.count().filter(BulkImage.selected.is_(True), BulkImage.published.is_(False)),
            func.count().filter(sent, Asset.status == "published"),
            func.count().filter(sent, Asset.status == "held"),
        )
        .select_from(BulkImage)
        .join(Asset, Asset.id == BulkImage.asset_id)
        .where(BulkImage.batch_id == batch.id)
    ).one()
    return Panel(
        batch=batch,
        progress=progress,
        expected_images=int(expected or 0),
        selected=int(selected),
        published=int(published),
        held=int(held),
        failed=[i for i in items if i.status == "failed"],
        queue=[i for i in items if i.status == "pending"][:QUEUE_SHOWN],
        running=[i for i in items if i.status == "running"],
        show=db.session.get(Show, batch.show_id) if batch.show_id else None,
    )


def _images(batch: BulkBatch, after: int = 0) -> list[tuple[BulkImage, BulkItem, str, dict | None]]:
    """(image, item, asset status, moderation verdict), oldest first."""
    return list(
        db.session.execute(
            select(BulkImage, BulkItem, Asset.status, Asset.moderation)
            .join(BulkItem, BulkItem.id == BulkImage.item_id)
            .join(Asset, Asset.id == BulkImage.asset_id)
            .where(BulkImage.batch_id == batch.id, BulkImage.asset_id.is_not(None), BulkImage.id > after)
            .order_by(BulkImage.id)
        ).all()
    )


def _owns(batch: BulkBatch) -> bool:
    return batch.owner_id == current_user.id


@bp.get("/<int:batch_id>")
@media_assistant_required
def batch(batch_id: int) -> ResponseReturnValue:
    """The live page: status panel, controls, and the gallery, which fills as images arrive."""
    batch = get_viewable_or_404(BulkBatch, batch_id)
    images = _images(batch)
    return render_template(
        "bulk/batch.html",
        panel=_panel(batch),
        images=images,
        after=images[-1][0].id if images else 0,
        form=ActionForm(),
        prompt_form=PromptForm(formdata=None),
        owner=_owns(batch),
        provider_label=bulk_service.provider_label(batch.provider),
    )


@bp.get("/<int:batch_id>/updates")
@media_assistant_required
def updates(batch_id: int) -> ResponseReturnValue:
    """What changed since the page last looked: new tiles (appended), the panel (only when its
    version moved), and the poller itself (without a trigger once the batch is final)."""
    batch = get_viewable_or_404(BulkBatch, batch_id)
    after = int_arg("after", 0, lo=0, hi=MAX_ID)
    shown = int_arg("shown", 0, lo=0, hi=MAX_ID)
    panel = _panel(batch)
    older = db.session.scalar(
        select(func.count())
        .select_from(BulkImage)
        .where(BulkImage.batch_id == batch.id, BulkImage.asset_id.is_not(None), BulkImage.id <= after)
    )
    # Ids are taken before commit, so a slower worker can commit a lower id after the page moved
    # past it; a count that does not add up means "send the whole grid again".
    resync = older != shown
    images = _images(batch, 0 if resync else after)
    last = images[-1][0].id if images else after
    return render_template(
        "bulk/_updates.html",
        panel=panel,
        images=images,
        resync=resync,
        after=last,
        shown=(0 if resync else shown) + len(images),
        send_panel=request.args.get("v") != panel.version,
        form=ActionForm(),
        prompt_form=PromptForm(formdata=None),
        owner=_owns(batch),
    )


@bp.get("/<int:batch_id>/images/<int:image_id>")
@media_assistant_required
def image(batch_id: int, image_id: int) -> ResponseReturnValue:
    """The large preview with the prompt and the provider's revised prompt (the <dialog> shows
    the same with JavaScript)."""
    batch = get_viewable_or_404(BulkBatch, batch_id)
    img = db.session.get(BulkImage, image_id)
    if img is None or img.batch_id != batch.id or img.asset_id is None:
        abort(404)
    return render_template(
        "bulk/image.html",
        batch=batch,
        image=img,
        item=db.session.get(BulkItem, img.item_id),
        asset=db.session.get(Asset, img.asset_id),
        form=ActionForm(),
        owner=_owns(batch),
    )


# -- controls -------------------------------------------------------------------------------------


def _owned_batch(batch_id: int) -> BulkBatch:
    batch = get_owned_or_404(BulkBatch, batch_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return batch


def _owned_item(batch: BulkBatch, item_id: int) -> BulkItem:
    item = db.session.get(BulkItem, item_id)
    if item is None or item.batch_id != batch.id:
        abort(404)
    return item


def _after_action(
    batch: BulkBatch, message: str | None = None, error: str | None = None, warning: str | None = None
):
    """HTMX gets the fresh panel (with the message in it); a plain form post is redirected."""
    if is_htmx():
        # The panel, plus the whole gallery and a fresh poller out of band: after pause/resume/
        # cancel the page shows exactly the server's images (a tile that arrived between the last
        # poll and the click is not lost), and a paused batch's stopped poller starts again.
        panel = _panel(batch)
        images = _images(batch)
        return render_template(
            "bulk/_after_action.html",
            panel=panel,
            form=ActionForm(),
            prompt_form=PromptForm(formdata=None),
            owner=True,
            message=message,
            error=error,
            warning=warning,
            images=images,
            resync=True,
            send_panel=False,
            after=images[-1][0].id if images else 0,
            shown=len(images),
        ), (422 if error else 200)
    if error or warning or message:
        flash(error or warning or message, "error" if error else "warning" if warning else "success")
    return redirect(url_for("bulk.batch", batch_id=batch.id))


_STATUS_ACTIONS = {
    "pause": ("paused", "Paused."),
    "resume": ("running", "Resumed."),
    "cancel": ("cancelled", ""),
}


@bp.post("/<int:batch_id>/<any(pause, resume, cancel):action>")
@media_assistant_required
def control(batch_id: int, action: str) -> ResponseReturnValue:
    """Pause (prompts being drawn finish), resume, cancel (waiting prompts are dropped)."""
    batch = _owned_batch(batch_id)
    status, message = _STATUS_ACTIONS[action]
    try:
        bulk_service.set_status(batch, status)
    except bulk_service.BulkError as exc:
        return _after_action(batch, error=str(exc))
    if action == "cancel":
        message = "Cancelled: waiting prompts were dropped; prompts being drawn will finish."
    return _after_action(batch, message)


@bp.post("/<int:batch_id>/retry")
@media_assistant_required
def retry(batch_id: int) -> ResponseReturnValue:
    """Retry only the failed prompts."""
    batch = _owned_batch(batch_id)
    try:
        n = bulk_service.retry_failed(batch)
    except bulk_service.BulkError as exc:
        return _after_action(batch, error=str(exc))
    return _after_action(batch, f"{n} failed prompt{'s' if n != 1 else ''} queued again." if n else None)


@bp.post("/<int:batch_id>/items/<int:item_id>/top")
@media_assistant_required
def move_to_top(batch_id: int, item_id: int) -> ResponseReturnValue:
    """The chosen waiting prompt is drawn next."""
    batch = _owned_batch(batch_id)
    try:
        bulk_service.move_to_top(_owned_item(batch, item_id))
    except bulk_service.BulkError as exc:
        return _after_action(batch, error=str(exc))
    return _after_action(batch, "Moved to the top: it is drawn next.")


@bp.post("/<int:batch_id>/items/<int:item_id>/retry")
@media_assistant_required
def retry_item(batch_id: int, item_id: int) -> ResponseReturnValue:
    """Edit a failed prompt (optional) and retry just that one."""
    batch = get_owned_or_404(BulkBatch, batch_id)
    item = _owned_item(batch, item_id)
    form = PromptForm()
    if not form.validate_on_submit():
        return _after_action(batch, error=" ".join(e for errs in form.errors.values() for e in errs))
    try:
        if form.prompt.data.strip() != item.prompt:
            bulk_service.edit_prompt(item, form.prompt.data)
        n = bulk_service.retry_failed(batch, [item.id])
    except bulk_service.BulkError as exc:
        return _after_action(batch, error=str(exc))
    return _after_action(batch, "Queued again." if n else "That prompt is not failed any more.")


@bp.post("/<int:batch_id>/selection")
@media_assistant_required
def selection(batch_id: int) -> ResponseReturnValue:
    """The tiles on the page (`shown`) are kept when ticked (`ids`), left out when not. HTMX posts
    this on every tick; without JS the "Save selection" button does."""
    batch = _owned_batch(batch_id)
    shown = _ints(request.form.getlist("shown"))
    keep = set(_ints(request.form.getlist("ids")))
    bulk_service.select_images(batch, [i for i in shown if i in keep], True)
    bulk_service.select_images(batch, [i for i in shown if i not in keep], False)
    if is_htmx():  # the panel's "Publish N selected" follows, even after polling has stopped
        return render_template(
            "bulk/_panel.html",
            panel=_panel(batch),
            form=ActionForm(),
            prompt_form=PromptForm(formdata=None),
            owner=True,
            oob=True,
        )
    flash("Selection saved.", "success")
    return redirect(url_for("bulk.batch", batch_id=batch.id))


@bp.post("/<int:batch_id>/select-<any(all, none):which>")
@media_assistant_required
def select_all(batch_id: int, which: str) -> ResponseReturnValue:
    """Select or deselect every image the batch has drawn so far."""
    batch = _owned_batch(batch_id)
    bulk_service.select_all(batch, which == "all")
    if is_htmx():
        resp = Response(status=204)
        resp.headers["HX-Refresh"] = "true"
        return resp
    return redirect(url_for("bulk.batch", batch_id=batch.id))


@bp.post("/<int:batch_id>/publish")
@media_assistant_required
def publish(batch_id: int) -> ResponseReturnValue:
    """Selected images become library assets (and are auto-formatted / attached when asked)."""
    batch = _owned_batch(batch_id)
    report = moderation.Outcome()
    try:
        n = bulk_service.publish(batch, current_user, report)
    except bulk_service.PublishedWithRefusals as exc:
        if exc.refused or not report.held:  # auto-formats refused, or nothing could be published
            return _after_action(batch, error=" ".join(x for x in (str(exc), report.describe_note) if x))
        return _after_action(batch, warning=_held_summary(exc.published, report, batch.autoformat_on_publish))
    if not n:
        return _after_action(batch, error="Nothing new to publish: tick the images you want first.")
    extra = " Auto-format jobs are running for them." if batch.autoformat_on_publish else ""
    done = f"Published {n} image{'s' if n != 1 else ''} to your library.{extra}"
    return _after_action(batch, " ".join(x for x in (done, report.describe_note) if x))


def _held_summary(published: int, report: moderation.Outcome, autoformat: bool) -> str:
    """'3 published, 1 held for review (violence): …' — held is a warning, not an error."""
    why = "; ".join(report.held_notes)
    summary = publishing.bulk_summary(published, len(report.held))
    extra = " Auto-format jobs are running for the published ones." if autoformat and published else ""
    text = f"{summary} ({why}). Held images wait for a staff decision; you are e-mailed when it is made."
    return " ".join(x for x in (text + extra, report.describe_note) if x)


@bp.route("/<int:batch_id>/close", methods=["GET", "POST"])
@media_assistant_required
def close(batch_id: int) -> ResponseReturnValue:
    """GET: what closing keeps and deletes. POST: publish the selected images not yet published,
    then discard the rest (bytes removed)."""
    batch = get_owned_or_404(BulkBatch, batch_id)
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        if batch.status in ("running", "paused"):
            flash("Pause or cancel the batch before closing it.", "error")
            return redirect(url_for("bulk.batch", batch_id=batch.id))
        report = moderation.Outcome()
        try:
            kept = bulk_service.publish(batch, current_user, report)
        except bulk_service.PublishedWithRefusals as exc:
            if exc.refused or not report.held:
                flash(str(exc), "error")
            else:
                flash(_held_summary(exc.published, report, batch.autoformat_on_publish), "warning")
            kept = exc.published
        dropped = bulk_service.close(batch)
        plural = "s" if kept != 1 else ""
        flash(f"Batch closed: {kept} more image{plural} published, {dropped} discarded.", "success")
        return redirect(url_for("bulk.batch", batch_id=batch.id))
    return render_template("bulk/close.html", panel=_panel(batch), form=form)


@bp.get("/<int:batch_id>/download.zip")
@media_assistant_required
def download(batch_id: int) -> ResponseReturnValue:
    """`?which=selected` (default) or `all`: the images drawn so far, in one streamed ZIP."""
    batch = get_viewable_or_404(BulkBatch, batch_id)
    which = "all" if request.args.get("which") == "all" else "selected"
    q = (
        select(Asset)
        .join(BulkImage, BulkImage.asset_id == Asset.id)
        .where(BulkImage.batch_id == batch.id)
        .order_by(BulkImage.id)
    )
    if which == "selected":
        q = q.where(BulkImage.selected.is_(True))
    assets = list(dict.fromkeys(db.session.scalars(q)))
    if not assets:
        empty = "There are no images to download yet." if which == "all" else "No images are selected."
        flash(empty, "error")
        return redirect(url_for("bulk.batch", batch_id=batch.id))
    return zip_response(assets, f"marquee-batch-{batch.id}-{which}.zip")


def _ints(values: list[str]) -> list[int]:
    return parse_ids(values, bulk_service.MAX_PROMPTS * 4)
