"""The offline provider: event-poster backgrounds drawn procedurally with numpy and Pillow.

It exists so the app works out of the box (no key, no network, no cost) and so every test above the adapters
can run without a fake server. The pictures are meant to be usable backdrops, not test patterns:

* the *prompt* is read as a brief (``local_words``): named colours dominate the palette, day or night words
  set the sky, mood words (calm, energetic, dark, romantic, festive) set density, contrast and saturation,
  and its nouns pick a motif family (music -> waveforms/strings/notes, theatre -> curtains and spotlights,
  dance -> ribbons, comedy -> bursts, nature -> leaves, city -> skyline, sea -> waves, space -> planets and
  stars, jazz/club -> bokeh and neon, party -> confetti; otherwise abstract shapes);
* the *style* picks a recipe (background, grain, vignette, saturation, motif flavour) and a guard that
  enforces its measurable look (``local_style``); the title area is kept calm;
* explicit *palette* hex colours replace the derived colours and each one covers a visible area;
* the *seed* varies everything else. Same (prompt, style, seed, palette) -> the same pixels; composition is
  laid out in relative coordinates so a poster, square and banner of one request belong together.

A banner is drawn at the banner format itself (2160x1089), so it is full-bleed without any fitting.
Layout: ``local_words`` (prompt -> brief), ``local_palette`` (styles/briefs -> colours and motifs),
``local_canvas`` (canvas, backgrounds), ``local_motifs``/``local_grounds``/``local_scenes`` (motifs),
``local_style`` (calm space, style guards), ``local_render`` (``render``), ``local_edit`` (``stylise``,
the edit treatments). Speed: a few hundred ms CPU per poster, encoding included.
"""

from __future__ import annotations

import io
from typing import ClassVar

from PIL import Image, ImageOps

from .base import (
    BadRequest,
    GeneratedImage,
    ImageProvider,
    ImageRequest,
    ProviderSpec,
    register,
)

# Poster and square as OpenAI draws them (the job scales them to 1200x1800 / 1200x1200 without loss); the
# banner at the banner format itself, since only a provider limited to stock sizes needs fitting.
SIZES = {"poster": (1024, 1536), "square": (1024, 1024), "banner": (2160, 1089)}


@register
class LocalProvider(ImageProvider):
    """Procedural artwork, drawn at any size: posters and squares at OpenAI's sizes, banners full-format."""

    spec: ClassVar[ProviderSpec] = ProviderSpec(
        name="local",
        display_name="Built-in artwork (offline)",
        models=("procedural-v1",),
        default_model="procedural-v1",
        needs_key=False,
        can_edit=True,
        max_images_per_call=4,
        prompt_limit=4000,
    )

    def size_for(self, image_type: str) -> str:
        self.check_image_type(image_type)
        width, height = SIZES[image_type]
        return f"{width}x{height}"

    def generate(self, request: ImageRequest) -> list[GeneratedImage]:
        """``n`` variations: image ``i`` uses seed ``seed + i`` (``seed`` None counts as 0)."""
        from .local_render import render  # numpy and fonts: imported when used, not at start-up

        self.model_for(request)
        self.check_prompt(request.prompt)
        size = SIZES[request.image_type]
        base = request.seed or 0
        return [
            _png(render(request.prompt, size, style=request.style, seed=base + i, palette=request.palette))
            for i in range(request.n)
        ]

    def edit(self, request: ImageRequest, source_images: list[bytes]) -> list[GeneratedImage]:
        """A stylised treatment of the first source image, cropped to the image type's size."""
        from .local_edit import stylise  # numpy: imported when used, not at start-up

        if not source_images:
            raise BadRequest("Choose at least one source image to edit.")
        self.model_for(request)
        try:
            with Image.open(io.BytesIO(source_images[0])) as im:
                im = ImageOps.exif_transpose(im)
                source = im.convert("RGB")
        except Exception:
            raise BadRequest(
                "The source image could not be read (is it a PNG, JPEG or WebP file?)."
            ) from None
        size = SIZES[request.image_type]
        base = request.seed or 0
        return [
            _png(
                stylise(
                    source,
                    size,
                    prompt=request.prompt,
                    style=request.style,
                    seed=base + i,
                    palette=request.palette,
                )
            )
            for i in range(request.n)
        ]

    def validate_key(self) -> None:
        """Nothing to validate: there is no key."""
        return None


def _png(img: Image.Image) -> GeneratedImage:
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)  # grain makes PNGs expensive to squeeze; speed matters more here
    return GeneratedImage(data=buf.getvalue(), mime_type="image/png", width=img.width, height=img.height)
