"""Fake AI provider servers that speak the real wire formats, for tests that run the real SDKs.

``FakeOpenAI`` and ``FakeGemini`` are threaded HTTP servers on 127.0.0.1 (random port). Script them with
``enqueue(kind, ...)`` / ``set_mode(kind, ...)``; read ``requests``, ``calls`` and ``timestamps`` back.
"""

from ._base import KINDS, RecordedRequest, Reply, UploadedFile, png
from .gemini_server import FakeGemini, b64decode_any, inline_parts
from .hf_server import FakeHF
from .openai_server import FakeOpenAI
from .runway_server import FakeRunway

__all__ = [
    "KINDS",
    "FakeGemini",
    "FakeHF",
    "FakeOpenAI",
    "FakeRunway",
    "RecordedRequest",
    "Reply",
    "UploadedFile",
    "b64decode_any",
    "inline_parts",
    "png",
]
