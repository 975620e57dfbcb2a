"""/shows/<id>/preview: the show's public face in its applied palette — poster, dates, venue,
prices, performers and the ticket button — for the producer to check and to share.

The producer opens it logged in; "Copy share link" gives a signed link (30 days) that shows the
same page to anyone without an account: read-only, the poster only (no other file of the
account), nothing else reachable from it. Colours come from the applied palette through a small
stylesheet (`theme.css`) because the CSP forbids inline styles; without a palette the page uses
Marquee's neutral theme and says so.
"""

from __future__ import annotations

from flask import abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from webapp.authz import get_viewable_or_404
from webapp.downloads import serve_asset_file
from webapp.extensions import db
from webapp.models import Asset, Palette, Show
from webapp.services import shows as show_service
from webapp.services.palettes import theme_view
from webapp.shows.routes import bp

SHARE_DAYS = 30
ROLE_VARS = ("background", "surface", "text", "primary", "secondary", "accent")


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="show-preview")


def share_token(show: Show) -> str:
    return _signer().dumps({"show": show.id})


def _shown(show_id: int) -> tuple[Show, str | None]:
    """The show, for its owner (or staff) logged in, or for anyone holding a valid share link."""
    token = request.args.get("share", "")
    if token:
        try:
            data = _signer().loads(token, max_age=SHARE_DAYS * 86400)
        except (SignatureExpired, BadSignature):
            abort(404)
        if not isinstance(data, dict) or data.get("show") != show_id:
            abort(404)
        show = db.session.get(Show, show_id)
        if show is None:
            abort(404)
        return show, token
    if not current_user.is_authenticated:
        abort(current_app.login_manager.unauthorized())
    return get_viewable_or_404(Show, show_id), None


def _roles(show: Show) -> dict[str, str]:
    palette = db.session.get(Palette, show.palette_id) if show.palette_id else None
    return dict(palette.roles or {}) if palette is not None else {}


@bp.get("/<int:show_id>/preview")
def preview(show_id: int) -> ResponseReturnValue:
    show, token = _shown(show_id)
    roles = _roles(show)
    poster_id = show.slot_asset_id("poster")
    share = (
        url_for("shows.preview", show_id=show.id, share=share_token(show), _external=True)
        if token is None
        else None
    )
    return render_template(
        "shows/preview.html",
        show=show,
        themed=bool(roles),
        theme=theme_view(roles) if roles else None,
        dates=show_service.format_performances(show),
        date_summary=show_service.date_summary(show),
        price=show_service.price_text(show),
        poster=db.session.get(Asset, poster_id) if poster_id else None,
        share_url=share,
        token=token,
        share_days=SHARE_DAYS,
    )


@bp.get("/<int:show_id>/preview/theme.css")
def preview_theme(show_id: int) -> ResponseReturnValue:
    show, _token = _shown(show_id)
    roles = _roles(show)
    lines = [f"  --show-{role}: {roles[role]};" for role in ROLE_VARS if role in roles]
    if "accent" in roles:
        from webapp.imaging.palette import on_color

        lines.append(f"  --show-on-accent: {on_color(roles['accent'])};")
    body = ".show-preview {\n" + "\n".join(lines) + "\n}\n"
    resp = current_app.response_class(body, mimetype="text/css")
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.get("/<int:show_id>/preview/poster")
def preview_poster(show_id: int) -> ResponseReturnValue:
    show, _token = _shown(show_id)
    poster_id = show.slot_asset_id("poster")
    asset = db.session.get(Asset, poster_id) if poster_id else None
    if asset is None:
        return _title_card(show)
    return serve_asset_file(asset, asset.storage_key, asset.content_type, asset.filename, download=False)


def _title_card(show: Show) -> ResponseReturnValue:
    """No poster chosen yet: a 2:3 card with the title in the show's colours (what the page shows
    in the poster's place), so a shared link never shows a broken image."""
    from markupsafe import escape

    roles = _roles(show)
    bg, fg = roles.get("secondary", "#ece9f1"), roles.get("text", "#1b1722")
    title = escape(show.title[:80])
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="1800" viewBox="0 0 1200 1800">'
        f'<rect width="1200" height="1800" fill="{bg}"/>'
        f'<text x="600" y="900" fill="{fg}" font-family="sans-serif" font-size="72" font-weight="800" '
        f'text-anchor="middle">{title}</text></svg>'
    )
    resp = current_app.response_class(svg, mimetype="image/svg+xml")
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
