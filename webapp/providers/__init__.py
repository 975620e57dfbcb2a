"""AI image providers behind one interface: OpenAI, Google Gemini, Runway, Hugging Face, and an offline
local renderer.

Usage::

    provider = create_provider("openai", api_key, timeout=60)
    images = provider.generate(ImageRequest(prompt="jazz night", image_type="poster", n=2))

Every failure is a ``ProviderError`` subclass; see ``base`` for what each one means. Importing this package
is cheap: the SDKs are imported when an adapter is constructed, and ``enabled()`` only checks that they are
installed. Adding a provider = a module with an ``ImageProvider`` subclass decorated with ``@register``,
imported below.
"""

from . import (  # noqa: F401  (they register themselves)
    gemini_provider,
    huggingface_provider,
    local_provider,
    openai_provider,
    runway_provider,
)
from .base import (
    IMAGE_TYPES,
    MAX_IMAGES,
    QUALITIES,
    REGISTRY,
    STYLE_HINTS,
    BadRequest,
    ContentBlocked,
    GeneratedImage,
    ImageProvider,
    ImageRequest,
    InvalidKey,
    ProviderError,
    ProviderSpec,
    ProviderUnavailable,
    RateLimited,
    create_provider,
    get_provider_class,
    key_suffix,
)
from .gemini_provider import GeminiProvider
from .huggingface_provider import HuggingFaceProvider
from .local_provider import LocalProvider
from .openai_provider import OpenAIProvider
from .runway_provider import RunwayProvider

__all__ = [
    "IMAGE_TYPES",
    "MAX_IMAGES",
    "QUALITIES",
    "REGISTRY",
    "STYLE_HINTS",
    "BadRequest",
    "ContentBlocked",
    "GeminiProvider",
    "GeneratedImage",
    "HuggingFaceProvider",
    "ImageProvider",
    "ImageRequest",
    "InvalidKey",
    "LocalProvider",
    "OpenAIProvider",
    "ProviderError",
    "ProviderSpec",
    "ProviderUnavailable",
    "RateLimited",
    "RunwayProvider",
    "create_provider",
    "get_provider_class",
    "key_suffix",
    "preload_sdks",
]


def preload_sdks() -> None:
    """Import the provider SDKs now (the worker calls this before RQ forks work horses), so each
    generation does not pay their 1-3 s import. Missing SDKs are simply skipped."""
    import contextlib
    import importlib

    for module in ("openai", "google.genai", "google.genai.types", "runwayml", "huggingface_hub"):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
