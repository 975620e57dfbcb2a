"""Stream a ZIP of stored files without building it in memory or on disk.

`zipfile` writes data descriptors when its output cannot seek, so each member can be yielded as
soon as it is written. Images are already compressed, so members are STORED.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime


class _Sink:
    """A write-only, non-seekable file object that hands its bytes to a generator."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._pos = 0

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


def stream_zip(members: Iterable[tuple[str, datetime, Iterable[bytes]]]) -> Iterator[bytes]:
    """Yield a ZIP of (name, modified time, chunks) members; names made unique."""
    sink = _Sink()
    seen: set[str] = set()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED) as zf:  # type: ignore[arg-type]
        for name, modified, chunks in members:
            unique = name
            n = 2
            while unique in seen:
                stem, dot, ext = name.rpartition(".")
                unique = f"{stem}-{n}.{ext}" if dot else f"{name}-{n}"
                n += 1
            seen.add(unique)
            info = zipfile.ZipInfo(unique, date_time=modified.timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            with zf.open(info, mode="w", force_zip64=False) as dest:
                for chunk in chunks:
                    dest.write(chunk)
                    if data := sink.drain():
                        yield data
            if data := sink.drain():
                yield data
    if data := sink.drain():
        yield data
