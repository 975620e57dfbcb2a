"""My images, and serving stored files to their owner only."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, redirect, render_template, request, send_file
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Asset
from webapp.services.assets import get_owned_asset
from webapp.storage import LocalStorage, get_storage

bp = Blueprint("library", __name__)

PAGE_SIZE = 48


@bp.get("/library")
@login_required
def index():
    """The producer's images, newest first (keyset pagination on id)."""
    before = request.args.get("before", type=int)
    query = (
        select(Asset).where(Asset.owner_id == current_user.id).order_by(Asset.id.desc()).limit(PAGE_SIZE + 1)
    )
    if before:
        query = query.where(Asset.id < before)
    assets = list(db.session.scalars(query))
    more = len(assets) > PAGE_SIZE
    assets = assets[:PAGE_SIZE]
    return render_template("library/index.html", assets=assets, next_before=assets[-1].id if more else None)


def _serve(asset_id: int, download: bool) -> Response:
    asset = get_owned_asset(asset_id, current_user)
    if asset is None:
        abort(404)
    store = get_storage()
    url = store.presigned_url(asset.storage_key, asset.filename, asset.content_type, download=download)
    if url:
        return redirect(url, code=302)
    if not isinstance(store, LocalStorage):
        abort(404)
    path = store.local_path(asset.storage_key)
    if not path.is_file():
        abort(404)
    resp = send_file(
        path,
        mimetype=asset.content_type,
        as_attachment=download,
        download_name=asset.filename,
        conditional=True,
        etag=asset.sha256,
        max_age=3600,
    )
    resp.headers["Cache-Control"] = "private, max-age=3600"
    if not download:
        resp.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(asset.filename)}"
    return resp


@bp.get("/assets/<int:asset_id>/file")
@login_required
def file(asset_id: int):
    """The image itself, for <img> tags. Owner (or staff) only; 404 for anyone else."""
    return _serve(asset_id, download=False)


@bp.get("/assets/<int:asset_id>/download")
@login_required
def download(asset_id: int):
    """The image as an attachment with its friendly filename."""
    return _serve(asset_id, download=True)
