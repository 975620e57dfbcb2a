"""AI provider commands: `flask --app webapp provider|keys|generate|usage ...`.

They call the same services as the admin pages and the studio, so a CLI generation is routed,
rate-limited, budgeted, audited and written to the ledger exactly like one from the web. Keys are
read from stdin only (never an argument: arguments land in shell history and `ps`), tested before
they are saved, and never echoed: output shows the suffix ("…9f3a") at most.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

QUALITIES = ("low", "medium", "high")  # as services.pricing; kept literal so `flask --help` stays light


def _provider_or_fail(name: str) -> Any:
    from webapp.providers import REGISTRY
    from webapp.services import providers as provider_service

    if name not in REGISTRY:
        raise click.ClickException(f"Unknown provider {name!r}; choose one of {', '.join(sorted(REGISTRY))}.")
    provider_service.ensure_providers()
    return provider_service.get_provider(name)


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"${value:,.2f}"


@click.group("provider")
def provider_group() -> None:
    """Configure, test and list the platform's AI providers."""


@provider_group.command("set")
@click.argument("name")
@click.option("--model", help="One of the adapter's models.")
@click.option("--key-stdin", is_flag=True, help="Read the API key from stdin; tested before saving.")
@click.option("--default", "make_default", is_flag=True, help="Make this the (one) default provider.")
@click.option("--enable/--disable", default=None, help="Enable or disable the provider.")
@click.option("--base-url", help="Proxy or gateway address (http/https); an empty string clears it.")
@click.option("--monthly-budget", help="Hard stop in USD for each month; 'none' removes the budget.")
@click.option("--images-per-minute", type=click.IntRange(1, 10000), help="Platform-wide images per minute.")
@click.option("--tier", type=click.Choice(["free", "budget", "premium"]), help="The provider's tier.")
@click.option("--routing", help="Hugging Face only: hf-inference, auto, fal-ai, together, ...")
@with_appcontext
def provider_set(
    name: str,
    model: str | None,
    key_stdin: bool,
    make_default: bool,
    enable: bool | None,
    base_url: str | None,
    monthly_budget: str | None,
    images_per_minute: int | None,
    tier: str | None = None,
    routing: str | None = None,
) -> None:
    """Change a provider's settings and/or its key.

    Settings are validated before anything is saved. A key given with --key-stdin is tested with the
    provider first; a refused key exits non-zero with the provider's reason and is not saved.
    """
    from webapp.admin.forms import validate_base_url
    from webapp.providers import REGISTRY
    from webapp.services import keys as key_service
    from webapp.services import providers as provider_service

    provider = _provider_or_fail(name)
    spec = REGISTRY[name].spec
    changes: dict[str, Any] = {}
    if model is not None:
        if not REGISTRY[name].accepts_model(model):
            choices = ", ".join(spec.models)
            raise click.ClickException(f"{spec.display_name} has no model {model!r}; choose {choices}.")
        changes["model"] = model
    if enable is not None:
        changes["enabled"] = enable
    if base_url is not None:
        try:
            changes["base_url"] = validate_base_url(base_url, name)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    if monthly_budget is not None:
        changes["monthly_budget"] = _parse_budget(monthly_budget)
    if images_per_minute is not None:
        changes["images_per_minute"] = images_per_minute
    if tier is not None:
        changes["tier"] = tier
    if routing is not None:
        from webapp.providers.huggingface_provider import ROUTINGS

        if name != "huggingface" or routing not in ROUTINGS:
            raise click.ClickException(
                f"--routing applies to huggingface only, one of {', '.join(ROUTINGS)}."
            )
        changes["options"] = {**(provider.options or {}), "routing": routing}
    key = None
    if key_stdin:
        if not spec.needs_key:
            raise click.ClickException(f"{spec.display_name} needs no key.")
        key = sys.stdin.readline().strip()
        if not key:
            raise click.ClickException("No key on standard input.")
    if changes:
        provider_service.update_settings(provider, changes)
        click.echo(f"{name}: updated {', '.join(sorted(changes))}.")
    if key is not None:
        try:
            key_service.set_platform_key(provider, key)
        except key_service.KeyRefused as exc:
            raise click.ClickException(f"{exc} The key was not saved.") from None
        click.echo(f"{name}: key {provider.key_suffix} accepted and saved.")
    if make_default:
        try:
            provider_service.set_default(provider)
        except provider_service.RoutingError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{name} is now the default provider.")
    if not (changes or key_stdin or make_default):
        click.echo("Nothing to change; see --help.")


def _parse_budget(text: str) -> Decimal | None:
    if text.strip().lower() in ("", "none", "off"):
        return None
    try:
        value = Decimal(text.strip().lstrip("$"))
    except InvalidOperation:
        raise click.ClickException("--monthly-budget must be dollars, e.g. 250 or 99.50.") from None
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise click.ClickException("--monthly-budget must be zero or more, with at most 2 decimals.")
    return value


@provider_group.command("test")
@click.argument("name")
@with_appcontext
def provider_test(name: str) -> None:
    """Test the stored key with the provider's cheapest call; exits 1 if it fails."""
    from webapp.services import keys as key_service

    provider = _provider_or_fail(name)
    ok, message = key_service.test_platform_key(provider)
    click.echo(f"{name}: {'OK' if ok else 'FAILED'} - {message}")
    if not ok:
        raise click.exceptions.Exit(1)


@provider_group.command("list")
@with_appcontext
def provider_list() -> None:
    """Name, enabled, default, model, key suffix, budget and this month's spend."""
    from webapp.providers import REGISTRY
    from webapp.services import budget
    from webapp.services import providers as provider_service

    header = ("NAME", "ENABLED", "DEFAULT", "MODEL", "KEY", "BUDGET", "MONTH SPEND")
    rows = [header]
    for p in provider_service.ensure_providers():
        spent, reserved = budget.month_spend(p.id)
        key = p.key_suffix or ("(none needed)" if not REGISTRY[p.name].spec.needs_key else "(not set)")
        spend = _money(spent) + (f" (+{_money(reserved)} reserved)" if reserved else "")
        rows.append(
            (
                p.name,
                "yes" if p.enabled else "no",
                "yes" if p.is_default else "",
                p.model,
                key,
                _money(p.monthly_budget),
                spend,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())


@click.group("keys")
def keys_group() -> None:
    """Key vault housekeeping."""


@keys_group.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Re-encrypt every stored key under the newest Fernet key of its vault.

    Put the new key first in PLATFORM_KEYS_FERNET / USER_KEYS_FERNET (keep the old one after it), run
    this, then remove the old key.
    """
    from webapp.crypto import VaultError
    from webapp.services import keys as key_service

    try:
        counts = key_service.rotate_all()
    except VaultError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Re-encrypted {counts['platform']} platform key(s) and {counts['user']} user key(s).")


@click.command("generate")
@click.argument("prompt")
@click.option("--type", "image_type", type=click.Choice(["poster", "square", "banner"]), required=True)
@click.option("--provider", "provider_name", help="Provider to use (default: the platform default).")
@click.option(
    "--tier",
    type=click.Choice(["free", "budget", "premium", "auto"]),
    help="Pick the cheapest usable provider of this tier (auto: the highest tier you can use).",
)
@click.option("--variations", type=click.IntRange(1, 4), default=1, show_default=True)
@click.option("--quality", type=click.Choice(QUALITIES), default=None, help="Default: provider setting.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--show", "show_id", type=int, help="Set this show's details on the images (title, dates, ...)."
)
@click.option("--title", help="Overlay text (overrides the show's).")
@click.option("--venue", help="Overlay text (overrides the show's).")
@click.option("--date", help="Overlay text (overrides the show's).")
@click.option("--price", help="Overlay text (overrides the show's).")
@click.option("--performers", help="Overlay text (overrides the show's).")
@click.option("--cta", help="Overlay button text (overrides the show's).")
@click.option("--overlay", help="Items to show, e.g. title,venue,date,price,cta (default: all with text).")
@click.option("--font", type=click.Choice(["bebas", "spartan", "lato", "opensans", "garamond"]))
@click.option("--position", type=click.Choice(["bottom", "top", "center", "split"]), help="Layout.")
@click.option("--offset", type=click.IntRange(-2, 2), default=0, help="Move the text: -2 (up) .. 2 (down).")
@click.option("--size-step", type=click.IntRange(-2, 2), default=0, help="Text size: -2 .. 2 steps of 10%.")
@click.option("--edit", "edit_path", type=click.Path(exists=True, dir_okay=False), help="Edit this image.")
@with_appcontext
def generate_command(
    prompt: str,
    image_type: str,
    provider_name: str | None,
    variations: int,
    quality: str | None,
    out_dir: Path,
    show_id: int | None = None,
    title: str | None = None,
    venue: str | None = None,
    date: str | None = None,
    price: str | None = None,
    performers: str | None = None,
    cta: str | None = None,
    overlay: str | None = None,
    font: str | None = None,
    position: str | None = None,
    edit_path: str | None = None,
    offset: int = 0,
    size_step: int = 0,
    tier: str | None = None,
) -> None:
    """Generate images as the first admin account and write DIR/<type>-<job>-<n>.jpg.

    Same routing, limits, budget and ledger as the web; the job runs in this process. Exits 1 if
    every variation failed. With --show or overlay texts, each image is also written with the
    show's details set on it (<type>-<job>-<n>-details.jpg); --edit IMAGE edits that image.
    """
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Asset, Job, Role, User
    from webapp.services import actions, generation, studio
    from webapp.services import providers as provider_service
    from webapp.storage import get_storage

    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN.value).order_by(User.id))
    if admin is None:
        raise click.ClickException(
            "No admin account exists. Create one first: flask --app webapp create-admin EMAIL"
        )
    provider_service.ensure_providers()
    if quality is None and tier and not provider_name:
        quality = "medium"
    if quality is None:
        row = (
            provider_service.get_provider(provider_name)
            if provider_name
            else next((p for p in provider_service.enabled_providers() if p.is_default), None)
        )
        quality = row.default_quality if row is not None and row.default_quality in QUALITIES else "medium"
    texts = {
        "title": title,
        "venue": venue,
        "date": date,
        "price": price,
        "performers": performers,
        "cta": cta,
    }
    try:
        show, spec, source_id = studio.cli_prepare(
            admin, show_id, texts, overlay, font, position, edit_path, nudge=(offset, size_step)
        )
    except (studio.StudioError, ValueError) as exc:
        raise click.ClickException(getattr(exc, "message", None) or str(exc)) from None
    req = generation.GenerationRequest(
        prompt=prompt,
        image_type=image_type,
        provider=provider_name,
        tier=tier,
        quality=quality,
        variations=variations,
        # The show's text is set by the CLI itself; linking the image to a show is for its owner.
        show_id=show.id if show is not None and show.owner_id == admin.id else None,
        operation="edit" if source_id else "generate",
        source_asset_id=source_id,
    )
    try:
        quote = generation.quote(admin, req)
        click.echo(
            f"Estimate: ${quote.total:.4f} with {quote.route.provider_name} {quote.route.model} "
            f"({quote.size}, {quality}, {variations} image(s))."
        )
        click.echo(f"Provider: {quote.route.provider_name} (tier {quote.tier}). {quote.reason}")
        job = actions.generate(admin, req, inline=True)
    except actions.ActionError as exc:
        raise click.ClickException(exc.message) from None
    except (generation.GenerationError, provider_service.RoutingError) as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # LimitReached, PriceMissing: their message is for a person
        message = getattr(exc, "message", None) or str(exc)
        raise click.ClickException(message) from None
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    result = job.result or {}
    out_dir.mkdir(parents=True, exist_ok=True)
    store = get_storage()
    total = Decimal(0)
    written = 0
    for v in sorted(result.get("variations") or [], key=lambda v: v.get("index", 0)):
        n = v.get("index", 0) + 1
        if v.get("status") != "succeeded":
            click.echo(f"variation {n}: failed - {v.get('error') or 'no image'}", err=True)
            continue
        asset = db.session.get(Asset, v["asset_id"])
        target = out_dir / f"{image_type}-{job.id}-{n}.jpg"
        target.write_bytes(store.get(asset.storage_key))
        total += Decimal(v.get("cost") or 0)
        written += 1
        via = f" (fell back to {v['provider']})" if v.get("fell_back") else ""
        click.echo(
            f"{target}  {asset.width}x{asset.height}  {v.get('provider')} {v.get('model')}  "
            f"${Decimal(v.get('cost') or 0):.4f}{via}"
        )
        if spec is not None:
            click.echo(
                studio.cli_overlay(admin, asset, spec, show, target.with_name(f"{target.stem}-details.jpg"))
            )
    if not written:
        click.echo(f"Job {job.id} failed: {job.error or 'no image came back.'}", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"Job {job.id}: {written} of {variations} image(s), cost ${total:.4f}.")


@click.command("usage")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_appcontext
def usage_command(as_json: bool) -> None:
    """Spend per provider this month: images, requests, cost, platform vs own keys."""
    from webapp.services import ledger

    start, end = ledger.month_range()
    totals = ledger.totals(start, end)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "month": start.strftime("%Y-%m"),
                    "providers": {
                        name: {
                            "images": t["images"],
                            "requests": t["requests"],
                            "cost": str(t["cost"]),
                            "platform": str(t["platform"]),
                            "own_key": str(t["own_key"]),
                        }
                        for name, t in sorted(totals["by_provider"].items())
                    },
                    "total": {
                        "images": totals["images"],
                        "requests": totals["requests"],
                        "platform": str(totals["platform"]),
                        "own_key": str(totals["own_key"]),
                    },
                },
                indent=2,
            )
        )
        return
    header = ("PROVIDER", "IMAGES", "REQUESTS", "COST", "PLATFORM", "OWN KEY")
    rows = [header]
    for name, t in sorted(totals["by_provider"].items()):
        rows.append(
            (
                name,
                str(t["images"]),
                str(t["requests"]),
                _money(t["cost"]),
                _money(t["platform"]),
                _money(t["own_key"]),
            )
        )
    rows.append(
        (
            "total",
            str(totals["images"]),
            str(totals["requests"]),
            _money(totals["platform"] + totals["own_key"]),
            _money(totals["platform"]),
            _money(totals["own_key"]),
        )
    )
    click.echo(f"Usage for {start:%B %Y} (UTC)")
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())


def register_ai(app: Flask) -> None:
    """Called from webapp.cli.register so every command lives under `flask --app webapp`."""
    app.cli.add_command(provider_group)
    app.cli.add_command(keys_group)
    app.cli.add_command(generate_command)
    app.cli.add_command(usage_command)
