"""Issue 15: a role moved to reach its contrast says how far on the palette page, in the API and the CLI;
the CLI's JSON keeps its fields and gains the new ones; a known-colour JPEG gives exactly its colours."""

from __future__ import annotations

import json

import numpy as np

from tests.conftest import PASSWORD
from tests.unit.known_colour_images import case

# A beige page, a yellow brand colour and a mid grey: no colour reaches 4.5:1 on the beige as it is.
COLOURS = [("#e8dcc4", 0.5), ("#f1c40f", 0.3), ("#8a7f7f", 0.2)]


def _palette_row(app, owner_id: int) -> int:
    from webapp.extensions import db
    from webapp.imaging.palette import PaletteColor, build_theme
    from webapp.models import Palette

    theme = build_theme([PaletteColor.from_hex(h, s) for h, s in COLOURS])
    with app.app_context():
        row = Palette(owner_id=owner_id, name="Adjusted", **theme)
        db.session.add(row)
        db.session.commit()
        return row.id


def test_the_palette_page_and_the_api_say_how_far_a_role_moved_and_why(app, make_user):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import tokens

    uid, email_addr = make_user(role="producer")
    palette_id = _palette_row(app, uid)
    client = app.test_client()
    assert client.post("/login", data={"email": email_addr, "password": PASSWORD}).status_code == 302

    page = client.get(f"/palettes/{palette_id}").get_data(as_text=True)
    assert 'data-adjustment="text"' in page
    assert "darkened from #8a7f7f by ΔE" in page and "to reach 4.5:1 on #e8dcc4" in page
    assert "Exactly as extracted from the artwork" in page  # primary and background are untouched

    with app.app_context():
        _, plaintext = tokens.create(db.session.get(User, uid), "test", "read")
    items = client.get("/api/v1/palettes", headers={"Authorization": f"Bearer {plaintext}"}).json["items"]
    text = next(p for p in items if p["id"] == palette_id)["adjustments"]["text"]
    assert text["from"] == "#8a7f7f" and text["needed"] == 4.5 and text["against"] == "#e8dcc4"
    assert text["ratio_from"] < 4.5 <= text["ratio_to"] and text["delta_e"] > 0
    assert text["note"].startswith("darkened from #8a7f7f")


def test_cli_json_on_a_known_colour_jpeg_gives_its_colours_and_keeps_every_old_field(app, tmp_path):
    from webapp.imaging.color import delta_e_ciede2000, hex_to_rgb, srgb_to_lab

    image = case(0)  # the five colours, 40/25/15/12/8 %, anti-aliased, JPEG q85
    path = tmp_path / "five.jpg"
    path.write_bytes(image.data)
    result = app.test_cli_runner().invoke(args=["palette", str(path), "--colors", "5", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) >= {"colors", "roles", "adjustments", "contrast"}
    assert all(set(c) == {"hex", "rgb", "hsl", "lab", "share"} for c in out["colors"])

    def lab(h: str):
        return srgb_to_lab(np.array(hex_to_rgb(h), dtype=np.uint8))

    assert len(out["colors"]) == 5
    for hex_value, share in zip(image.hexes, image.shares, strict=True):
        best = min(out["colors"], key=lambda c: delta_e_ciede2000(lab(hex_value), lab(c["hex"])))
        assert delta_e_ciede2000(lab(hex_value), lab(best["hex"])) <= 0.5
        assert abs(best["share"] - share) <= 0.01
    for role, hex_value in out[
        "roles"
    ].items():  # every role is one of the artwork's colours, or moved from one
        source = out["adjustments"].get(role, {}).get("from", hex_value)
        assert min(delta_e_ciede2000(lab(source), lab(h)) for h in image.hexes) <= 1.0, role
    table = app.test_cli_runner().invoke(args=["palette", str(path), "--colors", "5"])
    assert table.exit_code == 0 and "(as extracted)" in table.output
