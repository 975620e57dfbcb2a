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
