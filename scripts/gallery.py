"""Make docs/gallery/: posters, squares and banners of three sample shows, drawn by the free
offline generator and made from a real photograph (scikit-image's bundled photos), with the
show's title, performers, dates, venue, price and ticket button set on top — exactly the code
paths the app uses (local provider → full-bleed fit → overlay; upload → auto-format → overlay).

    .venv/bin/python scripts/gallery.py [--out docs/gallery]

Deterministic: the same code gives the same pictures, so a change in output quality shows up as
a diff a designer can look at. No database, network or keys needed.
"""

from __future__ import annotations

import argparse
import io
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHOWS = [
    {
        "slug": "midnight-jazz",
        "title": "Midnight Jazz at the Blue Room",
        "performers": ["Ada Quartet", "Lena Sol"],
        "venue": "The Blue Room",
        "dates": [datetime(2027, 3, 14, 21, 0), datetime(2027, 3, 15, 21, 0), datetime(2027, 3, 16, 21, 0)],
        "zone": "America/New_York",
        "price": "$25 – $40",
        "prompt": "smoky jazz club at midnight, saxophone, deep blue and gold light",
        "style": "neon",
        "photo": "coffee",
        "layout": "bottom",
    },
    {
        "slug": "hamlet",
        "title": "Hamlet",
        "performers": ["The Riverside Players"],
        "venue": "Riverside Theatre",
        "dates": [datetime(2027, 5, 8, 19, 30)],
        "zone": "Europe/London",
        "price": "£18",
        "prompt": "dramatic theatre stage with red velvet curtains and a single spotlight at night",
        "style": "cinematic",
        "photo": "astronaut",
        "layout": "split",
    },
    {
        "slug": "summer-folk",
        "title": "Summer Folk Festival",
        "performers": ["Willow Lane", "The Hedgerows", "Marta Oak"],
        "venue": "Meadow Park",
        "dates": [datetime(2027, 7, 2, 14, 0), datetime(2027, 7, 3, 14, 0), datetime(2027, 7, 4, 14, 0)],
        "zone": "Europe/Berlin",
        "price": "From €35",
        "prompt": "calm green meadow with leaves and warm golden sunset light, festive",
        "style": "artistic",
        "photo": "chelsea",
        "layout": "center",
    },
]
FORMATS = ("poster", "square", "banner")
SIZES = {"poster": (1200, 1800), "square": (1200, 1200), "banner": (2160, 1089)}


def _texts(show: dict) -> dict[str, str]:
    from webapp.services.show_locale import poster_dates

    zone = ZoneInfo(show["zone"])
    starts = [d.replace(tzinfo=zone) for d in show["dates"]]
    return {
        "title": show["title"],
        "performers": " · ".join(show["performers"]),
        "date": poster_dates(starts, "en_GB", today=starts[0].date().replace(month=1, day=1)),
        "venue": show["venue"],
        "price": show["price"],
        "cta": "Get Tickets",
    }


def _overlay(img, show: dict):
    from webapp.imaging.overlay import render_overlay
    from webapp.imaging.overlay_spec import OverlaySpec

    spec = OverlaySpec.from_dict(
        {
            "texts": _texts(show),
            "enabled": ["title", "performers", "date", "venue", "price", "cta"],
            "position": show["layout"],
        }
    )
    result = render_overlay(img, spec)
    return result.image, result


def _generated(show: dict, fmt: str):
    from PIL import Image

    from webapp.imaging.bleed import full_bleed
    from webapp.providers.base import ImageRequest
    from webapp.providers.local_provider import LocalProvider

    kind = fmt if fmt in ("poster", "square", "banner") else "poster"
    req = ImageRequest(prompt=show["prompt"], image_type=kind, style=show["style"], seed=7)
    out = LocalProvider().generate(req)[0]
    img = Image.open(io.BytesIO(out.data)).convert("RGB")
    return full_bleed(img, SIZES[fmt]) if img.size != SIZES[fmt] else img


def _from_photo(show: dict, fmt: str):
    from PIL import Image
    from skimage import data

    from webapp.imaging import FORMATS as OUT
    from webapp.imaging import AutoformatOptions, render

    photo = Image.fromarray(getattr(data, show["photo"])()).convert("RGB")
    return render(photo, OUT[fmt], AutoformatOptions(fill="blur"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "gallery"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Gallery",
        "",
        "Made by `scripts/gallery.py` (free offline generator, and real photographs",
        "auto-formatted), with the shows' details set by the overlay. Regenerate after changing output code.",
        "",
    ]
    for show in SHOWS:
        lines += [f"## {show['title']}", ""]
        for source, make in (("generated", _generated), ("photo", _from_photo)):
            for fmt in FORMATS:
                img, result = _overlay(make(show, fmt), show)
                name = f"{show['slug']}-{source}-{fmt}.jpg"
                img.save(out / name, "JPEG", quality=80, optimize=True, progressive=True)
                worst = min((ln.contrast for ln in result.lines), default=0.0)
                print(f"{name}  {img.width}x{img.height}  lowest line contrast {worst:.1f}:1")
                lines.append(f"![{show['title']} — {fmt} ({source})]({name})")
            lines.append("")
    (out / "README.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
