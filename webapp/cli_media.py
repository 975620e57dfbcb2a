"""CLI doors for media: `flask --app webapp animate IMAGE …` and `flask --app webapp voiceover TEXT …`.

The offline path of `animate` (``--provider local``, the default) runs in this process with no database
job, like `autoformat`: the same validation and renderer as the web jobs, a file out. A remote provider
(Runway) goes through the action as the first admin account and waits for the job (`inline`), like
`generate`; so does `voiceover`, which has no offline voice.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from webapp.providers.media import MAX_SECONDS, MIN_SECONDS, MOTIONS, VIDEO_FORMATS


def _admin():
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Role, User

    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN.value).order_by(User.id))
    if admin is None:
        raise click.ClickException(
            "No admin account exists. Create one first: flask --app webapp create-admin EMAIL"
        )
    return admin


def _wait_for_output(job_id: int, out_dir: Path, name: str | None) -> Path:
    """Write the finished job's file to out_dir (or explain its failure) and return the path."""
    from webapp.extensions import db
    from webapp.models import Asset, Job
    from webapp.storage import get_storage

    db.session.expire_all()
    job = db.session.get(Job, job_id)
    ids = (job.result or {}).get("asset_ids") or []
    if job.status != "succeeded" or not ids:
        raise click.ClickException(f"Job {job.id} {job.status}: {job.error or 'no file came back.'}")
    asset = db.session.get(Asset, ids[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / (name or asset.filename)
    target.write_bytes(get_storage().get(asset.storage_key))
    return target


def _animate_offline(image: Path, fmt: str, seconds: int, motion: str, title: str, out_dir: Path) -> Path:
    from webapp.config import load_settings
    from webapp.imaging import ImageRejected, UploadLimits, inspect_upload
    from webapp.media.animate import ClipSpec, render_clip

    settings = load_settings()
    limits = UploadLimits(settings.upload_max_bytes, settings.upload_max_width, settings.upload_max_height)
    try:
        data = image.read_bytes()
        inspect_upload(data, limits)
    except ImageRejected as exc:
        raise click.ClickException(f"{image}: {exc.message}") from None
    except OSError as exc:
        raise click.ClickException(f"{image}: cannot read the file ({exc.strerror or exc})") from None
    from flask import current_app

    from webapp.providers.media import VIDEO_FORMATS

    scale = float(current_app.config.get("LOCAL_VIDEO_SCALE", 1.0))
    w, h = VIDEO_FORMATS[fmt]
    size = (round(w * scale), round(h * scale)) if scale != 1.0 else None
    clip = render_clip(data, ClipSpec(format=fmt, seconds=seconds, motion=motion, title=title, size=size))
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{image.stem}-{fmt}.mp4"
    target.write_bytes(clip)
    return target


@click.command("animate")
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(list(VIDEO_FORMATS)), default="story", show_default=True)
@click.option("--seconds", type=click.IntRange(MIN_SECONDS, MAX_SECONDS), default=6, show_default=True)
@click.option("--motion", type=click.Choice(MOTIONS), default="push-in", show_default=True)
@click.option(
    "--provider", "provider_name", default="local", show_default=True, help="local (free) or runway."
)
@click.option("--prompt", default="", help="What should move (premium providers).")
@click.option("--title", default="", help="Title to reveal over the clip (offline renderer).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def animate_command(
    image: Path,
    fmt: str,
    seconds: int,
    motion: str,
    provider_name: str,
    prompt: str,
    title: str,
    out_dir: Path,
) -> None:
    """Animate IMAGE into DIR/<stem>-<format>.mp4 (Ken Burns motion, H.264).

    ``--provider local`` renders here, offline and free, with no database job. Another provider runs as
    the first admin account through the same action and job as the web (the image is added to its library).
    """
    from webapp.media.probe import probe

    if provider_name == "local":
        target = _animate_offline(image, fmt, seconds, motion, title, out_dir)
    else:
        target = _animate_remote(image, fmt, seconds, motion, provider_name, prompt, out_dir)
    info = probe(str(target), "video/mp4")
    click.echo(f"{target}  {info.width}x{info.height}  {info.duration_s:.1f} s  {info.codec}")


def _animate_remote(
    image: Path, fmt: str, seconds: int, motion: str, provider_name: str, prompt: str, out_dir: Path
) -> Path:
    from webapp.imaging import ImageRejected
    from webapp.services import actions, media
    from webapp.services.assets import ingest_upload
    from webapp.services.media import VideoSettings

    admin = _admin()
    # Refuse an unusable provider before the image is added to the admin's library (nothing half-done).
    if not media.provider_can(provider_name, "animate"):
        raise click.ClickException(
            f"{provider_name} cannot make video. Choose local (free, offline) or runway."
        )
    problem = media.route_problem(admin, provider_name)
    if problem:
        raise click.ClickException(problem)
    try:
        asset = ingest_upload(admin, image.read_bytes(), image.name).asset
    except ImageRejected as exc:
        raise click.ClickException(f"{image}: {exc.message}") from None
    except OSError as exc:
        raise click.ClickException(f"{image}: cannot read the file ({exc.strerror or exc})") from None
    settings = VideoSettings(
        asset_id=asset.id, format=fmt, seconds=seconds, motion=motion, provider=provider_name, prompt=prompt
    )
    try:
        job = actions.animate(admin, settings, inline=True)
    except actions.ActionError as exc:
        raise click.ClickException(exc.message) from None
    return _wait_for_output(job.id, out_dir, f"{image.stem}-{fmt}.mp4")


@click.command("voiceover")
@click.argument("text")
@click.option("--voice", default=None, help="A preset voice of the provider.")
@click.option("--provider", "provider_name", default=None, help="A provider that can speak (runway).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def voiceover_command(text: str, voice: str | None, provider_name: str | None, out_dir: Path) -> None:
    """Read TEXT aloud into an audio file in DIR; prints its path and duration (needs e.g. Runway)."""
    from webapp.media.probe import probe
    from webapp.services import actions
    from webapp.services.media import VoiceSettings

    admin = _admin()
    try:
        job = actions.voiceover(
            admin, VoiceSettings(text=text, voice=voice, provider=provider_name), inline=True
        )
    except actions.ActionError as exc:
        raise click.ClickException(exc.message) from None
    target = _wait_for_output(job.id, out_dir, None)
    ctype = {"mp3": "audio/mpeg", "wav": "audio/wav", "m4a": "audio/mp4"}.get(target.suffix.lstrip("."), "")
    info = probe(str(target), ctype)
    click.echo(f"{target}  {info.duration_s:.1f} s  {info.codec}")


def register_media(app: Flask) -> None:
    app.cli.add_command(animate_command)
    app.cli.add_command(voiceover_command)
