"""How stored assets leave the app: one file (pages and API alike) or a streamed ZIP (jobs, batches,
library selection). Callers check who may see the asset first; these functions only send it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import quote

from flask import Response, abort, redirect, send_file, stream_with_context

from webapp.models import Asset
from webapp.services.describe import download_filename
from webapp.services.zipstream import stream_zip
from webapp.storage import LocalStorage, get_storage


class _LazyStream:
    """Opens the stored object only when the ZIP writer reaches it, so one slow or large file
    does not hold the others in memory."""

    def __init__(self, store, key: str) -> None:
        self.store, self.key = store, key

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.store.open_stream(self.key))


def ascii_filename(name: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in name) or "marquee"


def zip_response(assets: Iterable[Asset], download_name: str) -> Response:
    store = get_storage()
    # Search-friendly names from each title (issue 17); stream_zip appends -2, -3… to repeats.
    members = [(download_filename(a), a.created_at, _LazyStream(store, a.storage_key)) for a in assets]
    resp = Response(stream_with_context(stream_zip(members)), mimetype="application/zip")
    resp.headers["Content-Disposition"] = f'attachment; filename="{ascii_filename(download_name)}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def serve_asset_file(asset: Asset, key: str, content_type: str, filename: str, download: bool) -> Response:
    """One stored file of `asset` (its image or its thumbnail), after the caller's access check.

    S3 answers a redirect to a short-lived presigned URL; the local backend streams the file
    itself. Shared by the library pages (session) and the API (bearer token), so both send the same
    bytes with the same headers.
    """
    store = get_storage()
    if download and key == asset.storage_key:
        filename = download_filename(asset)  # 'midnight-jazz-blue-room-poster.jpg' (issue 17)
    url = store.presigned_url(key, filename, content_type, download=download)
    if url:
        return redirect(url, code=302)
    if not isinstance(store, LocalStorage):
        abort(404)
    path = store.local_path(key)
    if not path.is_file():
        abort(404)
    resp = send_file(
        path,
        mimetype=content_type,
        as_attachment=download,
        download_name=filename,
        conditional=True,
        etag=f"{asset.sha256}-{'t' if key == asset.thumb_key else 'f'}",
        max_age=3600,
    )
    resp.headers["Cache-Control"] = "private, max-age=3600"
    if not download:
        resp.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(filename)}"
    return resp
