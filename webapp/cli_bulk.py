"""`flask --app webapp bulk-generate PROMPTS_FILE`: a batch for admins and scripts, run through
the same queue and workers as the web page, with a progress bar that polls the batch's rows."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

POLL_SECONDS = 0.5
CLAIM_GRACE = 10.0


def _first_admin():
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import User

    return db.session.scalar(select(User).where(User.role == "admin").order_by(User.id).limit(1))


def _workers_listening() -> bool:
    """True when at least one RQ worker serves the queue the pumps go to. Without one the pumps
    would wait in Redis for ever, so the CLI drains the batch itself."""
    from rq import Worker

    from webapp.services.queue import get_queue, redis_down

    queue = get_queue("ai")
    if queue is None:
        return False
    try:
        return Worker.count(queue=queue) > 0
    except redis_down():
        return False


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "image"


@click.command("bulk-generate")
@click.argument("prompts_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--provider",
    default=None,
    help="openai, gemini, runway, huggingface or local; default: the platform default.",
)
@click.option("--model", default=None, help="Model; default: the provider's configured model.")
@click.option(
    "--type",
    "image_type",
    type=click.Choice(["poster", "square", "banner"]),
    default="poster",
    show_default=True,
)
@click.option("--quality", type=click.Choice(["low", "medium", "high"]), default="medium", show_default=True)
@click.option("--variations", type=click.IntRange(1, 4), default=1, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Write images here.")
@with_appcontext
def bulk_generate(
    prompts_file: Path,
    provider: str | None,
    model: str | None,
    image_type: str,
    quality: str,
    variations: int,
    out_dir: Path | None,
) -> None:
    """Run PROMPTS_FILE (.txt, one prompt per line, or .csv with a `prompt` column) as a batch
    owned by the first admin account, wait for it, and optionally write the images to --out.

    Exits 1 when the file has problems, there is no admin, or any prompt failed."""
    from webapp.jobs.bulk import pump
    from webapp.services import bulk as bulk_service

    admin = _first_admin()
    if admin is None:
        raise click.ClickException("No admin account exists: create one with `flask create-admin EMAIL`.")
    parsed = bulk_service.parse_prompts(upload=prompts_file.read_bytes(), filename=prompts_file.name)
    if parsed.problems:
        for problem in parsed.problems:
            click.echo(f"error: {prompts_file}: {problem}", err=True)
        raise click.exceptions.Exit(1)
    settings = bulk_service.BatchSettings(
        provider=provider,
        model=model,
        image_type=image_type,
        quality=quality,
        variations=variations,
        name=f"CLI: {prompts_file.name}",
    )
    try:
        summary = bulk_service.summarize(admin, parsed, settings)
        click.echo(
            f"{summary.prompts} prompts, {summary.images} images on {summary.provider}/{summary.model} "
            f"({summary.key_owner} key): about ${summary.cost:.2f}, "
            f"at least {summary.minutes:g} min at {summary.per_minute} images/min."
        )
        batch = bulk_service.create_and_start(admin, parsed, settings)
    except bulk_service.BulkError as exc:
        raise click.ClickException(str(exc)) from None
    batch_id = batch.id
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def drain_here() -> None:
        """Redis is up but no worker takes the pumps: draw the batch in this process instead
        (start_pumps already does so when Redis itself is down). Claims are atomic, so a worker
        that turns up later simply shares the work."""
        click.echo("No worker picked the batch up: drawing it in this process.")

        def _drain() -> None:
            with app.app_context():
                pump(batch_id, chain=False, drain=True)

        threading.Thread(target=_drain, name=f"bulk-cli-{batch_id}", daemon=True).start()

    uses_queue = bool(current_app.config.get("REDIS_URL"))
    if uses_queue and not _workers_listening():
        drain_here()
        uses_queue = False
    progress = _wait(batch_id, summary.prompts, drain_here if uses_queue else None)
    click.echo(
        f"Batch {batch_id} {progress['status']}: {progress['done']} of {progress['total']} prompts, "
        f"{progress['images']} images, ${progress['cost']:.2f}; {progress['failed']} failed."
    )
    if out_dir is not None:
        written = _write_images(batch_id, out_dir)
        click.echo(f"Wrote {written} images to {out_dir}.")
    if progress["failed"]:
        raise click.exceptions.Exit(1)


def _wait(batch_id: int, total: int, fallback=None) -> dict:
    """Poll the batch until nothing runs any more (the daemon drain thread, if any, must finish
    before this process exits); Ctrl-C pauses the batch instead of leaving it half-owned.
    `fallback` runs once if no item was claimed within CLAIM_GRACE seconds: a registered worker
    may be dead (SIGKILL leaves its registration in Redis for minutes) or busy for a long time."""
    from webapp.extensions import db
    from webapp.models import BulkBatch
    from webapp.services import bulk as bulk_service

    shown = 0
    grace_ends = time.monotonic() + CLAIM_GRACE
    with click.progressbar(length=total, label="Drawing", show_pos=True, show_eta=True) as bar:
        try:
            while True:
                db.session.expire_all()
                batch = db.session.get(BulkBatch, batch_id)
                p = bulk_service.progress(batch)
                finished = p.done + p.failed + p.cancelled
                bar.update(finished - shown)
                shown = finished
                if batch.status not in ("running",) and p.running == 0:
                    break
                if fallback is not None and time.monotonic() > grace_ends:
                    if p.pending == p.total:
                        fallback()
                    fallback = None
                db.session.commit()
                time.sleep(POLL_SECONDS)
        except KeyboardInterrupt:
            batch = db.session.get(BulkBatch, batch_id)
            if batch.status == "running":
                bulk_service.set_status(batch, "paused")
            message = f"Interrupted: batch {batch_id} is paused; resume it on /bulk/{batch_id}."
            raise click.ClickException(message) from None
    return {
        "status": batch.status,
        "done": p.done,
        "total": p.total,
        "images": p.images,
        "failed": p.failed,
        "cost": p.cost,
    }


def _write_images(batch_id: int, out_dir: Path) -> int:
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Asset, BulkImage, BulkItem
    from webapp.storage import get_storage

    out_dir.mkdir(parents=True, exist_ok=True)
    store = get_storage()
    rows = db.session.execute(
        select(BulkImage, BulkItem, Asset)
        .join(BulkItem, BulkItem.id == BulkImage.item_id)
        .join(Asset, Asset.id == BulkImage.asset_id)
        .where(BulkImage.batch_id == batch_id)
        .order_by(BulkItem.position, BulkItem.id, BulkImage.id)
    ).all()
    counters: dict[int, int] = {}
    for n, (_, item, asset) in enumerate(rows, start=1):
        counters[item.id] = counters.get(item.id, 0) + 1
        ext = asset.filename.rsplit(".", 1)[-1] if "." in asset.filename else "jpg"
        name = f"{n:03d}-{_slug(item.prompt)}-{counters[item.id]}.{ext}"
        (out_dir / name).write_bytes(store.get(asset.storage_key))
    return len(rows)


def register_bulk(app: Flask) -> None:
    app.cli.add_command(bulk_generate)
