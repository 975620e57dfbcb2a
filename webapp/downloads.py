"""One way to send a set of stored assets as a streamed ZIP (jobs, batches, library selection)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from flask import Response, stream_with_context

from webapp.models import Asset
from webapp.services.zipstream import stream_zip
from webapp.storage import get_storage


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
    members = [(a.filename, a.created_at, _LazyStream(store, a.storage_key)) for a in assets]
    resp = Response(stream_with_context(stream_zip(members)), mimetype="application/zip")
    resp.headers["Content-Disposition"] = f'attachment; filename="{ascii_filename(download_name)}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
