"""Pure image processing for Marquee: upload validation/decoding and the poster/square/banner autoformat.

Bytes, PIL images and numbers in and out; no Flask, database or network. The app imports only from here.
"""

from .compose import BACKDROP_SIGMA, AutoformatOptions, FillMode, Renderer, render, resolve_fill
from .decoding import MIME_TYPES, ImageInfo, UploadLimits, decode, inspect_upload, sniff_format
from .encoding import ENCODINGS, encode
from .errors import ImageRejected
from .geometry import (
    CROP_MAX_LOSS,
    FORMATS,
    SHADOW_MARGIN,
    SHADOW_OFFSET,
    SHADOW_OPACITY,
    SHADOW_SIGMA,
    OutputFormat,
    crop_loss,
    placement,
)
from .pipeline import RenderResult, autoformat_bytes

__all__ = [
    "BACKDROP_SIGMA",
    "CROP_MAX_LOSS",
    "ENCODINGS",
    "FORMATS",
    "MIME_TYPES",
    "SHADOW_MARGIN",
    "SHADOW_OFFSET",
    "SHADOW_OPACITY",
    "SHADOW_SIGMA",
    "AutoformatOptions",
    "FillMode",
    "ImageInfo",
    "ImageRejected",
    "OutputFormat",
    "RenderResult",
    "Renderer",
    "UploadLimits",
    "autoformat_bytes",
    "crop_loss",
    "decode",
    "encode",
    "inspect_upload",
    "placement",
    "render",
    "resolve_fill",
    "sniff_format",
]

# Ingest-time analysis (hash, palette, thumbnail) and colour science, loaded on first use (PEP 562):
# they need numpy (and scikit-learn for clustering), which the auto-format pipeline and CLI do not.
_LAZY = {
    "NEAR_DUPLICATE_MAX_DISTANCE": "analysis",
    "Analysis": "analysis",
    "DominantColor": "analysis",
    "analyze": "analysis",
    "dhash": "analysis",
    "dominant_colors": "analysis",
    "hamming": "analysis",
    "thumbnail": "analysis",
    "contrast_ratio": "color",
    "delta_e_ciede2000": "color",
    "hex_to_rgb": "color",
    "lab_to_srgb": "color",
    "relative_luminance": "color",
    "rgb_to_hex": "color",
    "rgb_to_hsl": "color",
    "srgb_to_lab": "color",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ += [
    "NEAR_DUPLICATE_MAX_DISTANCE",
    "Analysis",
    "DominantColor",
    "analyze",
    "contrast_ratio",
    "delta_e_ciede2000",
    "dhash",
    "dominant_colors",
    "hamming",
    "hex_to_rgb",
    "lab_to_srgb",
    "relative_luminance",
    "rgb_to_hex",
    "rgb_to_hsl",
    "srgb_to_lab",
    "thumbnail",
]
