"""The one pipeline jobs and the CLI run: bytes in, encoded renditions out.

Decode once, at the smallest JPEG DCT scale that still covers the largest foreground (or crop) any requested
format needs, then render and encode each format, sharing intermediates (thumbnail, foreground resizes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from .compose import AutoformatOptions, Renderer, resolve_fill
from .decoding import UploadLimits, decode_for
from .encoding import ENCODINGS, encode
from .geometry import FORMATS, OutputFormat, cover_scale, placement

ProgressCallback = Callable[[int, str], None]


@dataclass
class RenderResult:
    """One encoded rendition; ``fill_used`` differs from the requested fill if crop was refused (see note)."""

    name: str
    data: bytes
    width: int
    height: int
    fill_used: str
    note: str | None = None
    mime_type: str = "image/jpeg"
    #: The artwork's upright size in pixels (before any reduced-scale decode): what the upload was.
    source_size: tuple[int, int] | None = None


def _options_for(
    targets: list[OutputFormat], options: Mapping[str, AutoformatOptions] | AutoformatOptions | None
) -> dict[str, AutoformatOptions]:
    if options is None:
        return {t.name: AutoformatOptions() for t in targets}
    if isinstance(options, AutoformatOptions):
        return {t.name: options for t in targets}
    return {t.name: options.get(t.name, AutoformatOptions()) for t in targets}


def required_scale(
    src_size: tuple[int, int], targets: list[OutputFormat], options: Mapping[str, AutoformatOptions]
) -> float:
    """Largest scale (source px -> output px) any target samples the artwork at; <= 1 means we may draft."""
    scale = 0.0
    for t in targets:
        opts = options[t.name]
        fill, _ = resolve_fill(src_size, t, opts)
        if fill == "crop":
            scale = max(scale, cover_scale(src_size, t.size))
        else:
            left, top, right, bottom = placement(src_size, t.size, shadow=opts.shadow)
            scale = max(scale, (right - left) / src_size[0], (bottom - top) / src_size[1])
    return scale


def autoformat_bytes(
    data: bytes,
    formats: Iterable[OutputFormat] = FORMATS.values(),
    options: Mapping[str, AutoformatOptions] | AutoformatOptions | None = None,
    out_format: str = "jpeg",
    progress: ProgressCallback | None = None,
    *,
    limits: UploadLimits | None = None,
) -> list[RenderResult]:
    """Decode ``data`` once and return one encoded rendition per format, in the order given.

    ``options`` may be one ``AutoformatOptions`` for all formats or a mapping by format name (missing names
    get the defaults). ``progress(percent, stage)`` is called between stages. Raises ``ImageRejected`` for
    data that is not an acceptable image, ``ValueError`` for an unknown ``out_format``.
    """
    out_format = "jpeg" if out_format.lower() == "jpg" else out_format.lower()
    if out_format not in ENCODINGS:
        raise ValueError(f"Unknown output format {out_format!r}; use one of {', '.join(ENCODINGS)}.")
    targets = list(formats)
    opts = _options_for(targets, options)

    def report(percent: float, stage: str) -> None:
        if progress is not None:
            progress(int(percent), stage)

    source_size: list[tuple[int, int]] = []

    def need(size: tuple[int, int]) -> tuple[int, int]:
        source_size.append(size)
        scale = min(1.0, required_scale(size, targets, opts))
        return max(1, math.ceil(size[0] * scale)), max(1, math.ceil(size[1] * scale))

    report(0, "Decoding")
    img = decode_for(data, need, limits=limits)
    report(20, "Decoded")
    src = source_size[0] if source_size else img.size
    renderer = Renderer(img, source_size=src, targets=targets)
    fg_sizes = []
    for t in targets:
        if resolve_fill(src, t, opts[t.name])[0] != "crop":
            left, top, right, bottom = placement(src, t.size, shadow=opts[t.name].shadow)
            fg_sizes.append((right - left, bottom - top))
    renderer.prepare_foregrounds(fg_sizes)
    results: list[RenderResult] = []
    step = 75 / max(1, len(targets))
    for i, target in enumerate(targets):
        report(20 + step * i, f"Rendering {target.name}")
        canvas, fill_used, note = renderer.render(target, opts[target.name])
        report(20 + step * (i + 0.6), f"Encoding {target.name}")
        results.append(
            RenderResult(
                name=target.name,
                data=encode(canvas, out_format),
                width=canvas.width,
                height=canvas.height,
                fill_used=fill_used,
                note=note,
                mime_type=ENCODINGS[out_format][0],
                source_size=src,
            )
        )
        del canvas
    report(100, "Done")
    return results
