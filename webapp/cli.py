"""Command-line tools: `flask --app webapp <command>`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from webapp.cli_ai import register_ai
from webapp.cli_bulk import register_bulk
from webapp.cli_media import register_media
from webapp.imaging import AutoformatOptions, ImageRejected, autoformat_bytes
from webapp.imaging.presets import BUILTIN_PRESETS, DEFAULT_FORMATS
from webapp.palettes.cli import palette_command

EXT = {"jpeg": "jpg", "png": "png", "webp": "webp"}


@click.command("create-admin")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@click.option("--name", default="", help="Display name.")
@with_appcontext
def create_admin(email: str, password_stdin: bool, name: str) -> None:
    """Create an admin account, or promote an existing account to admin.

    The password is prompted for without echo, or read from stdin when piped / --password-stdin.
    """
    from webapp.extensions import db
    from webapp.models import Role
    from webapp.services.accounts import AccountError, check_password_policy, create_user, find_user

    existing = find_user(email)
    if existing is not None:
        existing.role = Role.ADMIN.value
        db.session.commit()
        click.echo(f"{existing.email} is now an admin.")
        return
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        check_password_policy(password, email)
        user = create_user(email, password, name, role=Role.ADMIN)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created admin {user.email}.")


@click.command("autoformat")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format", "out_format", type=click.Choice(["jpeg", "png", "webp"]), default="jpeg", show_default=True
)
@click.option("--fill", type=click.Choice(["blur", "solid", "crop"]), default="blur", show_default=True)
@click.option(
    "--darken", type=click.IntRange(0, 60), default=15, show_default=True, help="Backdrop darkening, %."
)
@click.option("--no-shadow", is_flag=True, help="Leave out the drop shadow.")
@click.option(
    "--formats",
    "format_specs",
    default=",".join(DEFAULT_FORMATS),
    show_default=True,
    metavar="LIST",
    help="Comma-separated preset names (" + ", ".join(BUILTIN_PRESETS) + ", or one an admin added), "
    "custom sizes WIDTHxHEIGHT (1600x900) or ratio@long-side (4:5@1350).",
)
def autoformat_command(
    inputs: tuple[Path, ...],
    out_dir: Path,
    out_format: str,
    fill: str,
    darken: int,
    no_shadow: bool,
    format_specs: str,
) -> None:
    """Write DIR/<stem>-<format>.<ext> for every INPUT and every format (default: poster, square, banner).

    Uses the same pipeline and validation as the web jobs. A bad input is reported and skipped;
    the exit status is non-zero if any input failed. Inputs are processed on one thread per core
    (Pillow releases the GIL while it decodes, resizes and encodes) and reported in input order.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    from webapp.config import load_settings
    from webapp.imaging import UploadLimits
    from webapp.imaging.upscale import upscale_warnings

    settings = load_settings()
    limits = UploadLimits(settings.upload_max_bytes, settings.upload_max_width, settings.upload_max_height)
    targets = _cli_formats(format_specs, settings.upload_max_width, settings.upload_max_height)
    out_dir.mkdir(parents=True, exist_ok=True)
    options = AutoformatOptions(fill=fill, darken=darken / 100, shadow=not no_shadow)  # type: ignore[arg-type]

    def one(path: Path) -> tuple[list[str], str | None, list[str]]:
        try:
            data = path.read_bytes()
            # Validated by the same decode that renders (limits, structure, corruption): one decode, not two.
            results = autoformat_bytes(data, targets, options=options, out_format=out_format, limits=limits)
        except ImageRejected as exc:
            return [], f"error: {path}: {exc.message}", []
        except OSError as exc:
            return [], f"error: {path}: cannot read the file ({exc.strerror or exc})", []
        lines = []
        for res in results:
            target = out_dir / f"{path.stem}-{res.name}.{EXT[out_format]}"
            target.write_bytes(res.data)
            note = f"  ({res.note})" if res.note else ""
            lines.append(f"{target}  {res.width}x{res.height}  {len(res.data) / 1024:.0f} KB{note}")
        warnings = [
            f"warning: {path}: {w.message}"
            for w in upscale_warnings(results[0].source_size or (0, 0), targets, options)
        ]
        return lines, None, warnings

    failures = 0
    threads = max(
        1, min(len(inputs), len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
    )
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for lines, error, warnings in pool.map(one, inputs):
            if error:
                failures += 1
                click.echo(error, err=True)
            for line in lines:
                click.echo(line)
            for warning in warnings:
                click.echo(warning, err=True)
    if failures:
        raise click.exceptions.Exit(1)


def _cli_formats(specs: str, max_width: int, max_height: int) -> list:
    """--formats -> formats. Built-in presets and custom sizes need no database; a name that is
    neither is looked up among the presets admins added (this needs the app and its database)."""
    from webapp.imaging.presets import FormatSpecError, parse_format_list

    try:
        return parse_format_list(specs, max_width=max_width, max_height=max_height)
    except FormatSpecError as exc:
        first_error = exc.message
    try:
        from flask.cli import ScriptInfo

        app = click.get_current_context().ensure_object(ScriptInfo).load_app()
        with app.app_context():
            from webapp.services.formats import admin_presets

            extra = admin_presets()
    except Exception:
        raise click.UsageError(f"--formats: {first_error}") from None
    try:
        return parse_format_list(specs, extra=extra, max_width=max_width, max_height=max_height)
    except FormatSpecError as exc:
        raise click.UsageError(f"--formats: {exc.message}") from None


@click.group("jobs")
def jobs_group() -> None:
    """Job housekeeping."""


@jobs_group.command("sweep")
@with_appcontext
def jobs_sweep() -> None:
    """Mark jobs of dead workers failed and re-enqueue jobs lost from Redis."""
    from webapp.services.jobs import sweep

    click.echo(json.dumps(sweep()))


@click.group("maintenance")
def maintenance_group() -> None:
    """Housekeeping tasks the clock process runs on a timer."""


MAINTENANCE_TASKS = (
    "sweep-jobs",
    "purge-tombstones",
    "orphaned-objects",
    "purge-failed-jobs",
    "expire-bulk",
    "reconcile-reservations",
)


@maintenance_group.command("run")
@click.argument("task", type=click.Choice(["all", *MAINTENANCE_TASKS]))
@click.option("--dry-run", is_flag=True, help="Report what the task would do; change nothing.")
@with_appcontext
def maintenance_run(task: str, dry_run: bool) -> None:
    """Run one housekeeping task (or all of them) now and print what it did (or would do)."""
    from webapp.services.maintenance import TASKS, run

    for name in TASKS if task == "all" else [task]:
        label = f"{name} (dry run)" if dry_run else name
        click.echo(f"{label}: {json.dumps(run(name, dry_run=dry_run), default=str)}")


@maintenance_group.command("strip-metadata")
@click.option("--dry-run", is_flag=True, help="Only report which originals would be rewritten.")
@with_appcontext
def maintenance_strip_metadata(dry_run: bool) -> None:
    """Remove private metadata (GPS, serials, owner names, XMP/IPTC, PNG text) from originals
    stored before uploads were filtered. Pixels are not re-encoded; safe to run again."""
    from webapp.services.metadata_backfill import strip_stored_originals

    report = strip_stored_originals(dry_run=dry_run)
    verb = "would clean" if dry_run else "cleaned"
    click.echo(
        f"checked {report.checked} originals; {verb} {len(report.cleaned)} "
        f"({report.saved_bytes} bytes of metadata); {len(report.duplicates)} left alone "
        f"(same image as another asset once cleaned); {len(report.failed)} unreadable"
    )
    click.echo(json.dumps(report.as_dict()))
    if report.failed:
        raise click.exceptions.Exit(1)


@click.group("token")
def token_group() -> None:
    """Personal access tokens for the JSON API."""


@token_group.command("create")
@click.argument("email")
@click.option("--scope", type=click.Choice(["read", "write", "admin"]), default="read", show_default=True)
@click.option("--name", default="CLI token", show_default=True)
@click.option(
    "--expires",
    default=None,
    metavar="never|DAYS|YYYY-MM-DD",
    help="When it stops working. Default: never for read/write, TOKEN_ADMIN_DAYS for admin "
    "(admin tokens always expire, at most TOKEN_ADMIN_MAX_DAYS).",
)
@with_appcontext
def token_create(email: str, scope: str, name: str, expires: str | None) -> None:
    """Print a new token for EMAIL (the account must exist). It is shown once."""
    from webapp.services.accounts import find_user
    from webapp.services.tokens import TokenError, create

    user = find_user(email)
    if user is None:
        raise click.ClickException(f"No account for {email}: create it first (register, or create-admin).")
    try:
        row, plaintext = create(user, name, scope, expires)
    except TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    until = f"expires {row.expires_at:%Y-%m-%d %H:%M} UTC" if row.expires_at else "never expires"
    click.echo(
        f"# token {row.id} ({row.scope}, {until}) for {user.email}; store it now, it is not shown again",
        err=True,
    )
    click.echo(plaintext)


@token_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def token_revoke(token_id: int) -> None:
    """Revoke token ID: it stops working at once."""
    from webapp.extensions import db
    from webapp.models import ApiToken
    from webapp.services.tokens import revoke

    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise click.ClickException(f"No token {token_id}.")
    revoke(row)
    click.echo(f"Revoked token {token_id} ({row.name}).")


def register(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(autoformat_command)
    app.cli.add_command(jobs_group)
    app.cli.add_command(maintenance_group)
    app.cli.add_command(token_group)
    register_ai(app)
    register_bulk(app)
    register_media(app)
    app.cli.add_command(palette_command)
