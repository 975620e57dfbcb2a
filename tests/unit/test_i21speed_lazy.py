"""Issue 18 start-up and auto-format speed-ups that must not change behaviour.

* The show forms list tzdata's zones on first use, not at import (``available_timezones()`` walks the
  zoneinfo tree, ~0.1 s that every CLI call and process paid).
* The drop shadow's 1-D profiles evaluate erf only on the ramps; the plateau is filled directly. The bytes
  must equal the straightforward per-pixel evaluation.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from webapp.imaging import compose
from webapp.imaging.geometry import SHADOW_SIGMA

ROOT = Path(__file__).resolve().parents[2]


def test_creating_the_app_lists_no_time_zones(tmp_path):
    code = (
        "import json\n"
        "import webapp\n"
        "app = webapp.create_app()\n"
        "from webapp.shows import forms\n"
        "print(json.dumps(forms._zone_select_choices.cache_info().currsize))\n"
    )
    env = {
        **os.environ,
        "SECRET_KEY": "startup-test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'startup.sqlite3'}",
        "STORAGE_URL": f"file://{tmp_path / 'media'}",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == 0


def test_zone_choices_still_offer_every_zone_with_utc_first():
    from webapp.services import shows as show_service
    from webapp.shows import forms

    expected = show_service.zone_choices()
    choices = forms._zone_choices()
    assert [(c.optgroup, c.value) for c in choices] == expected
    assert choices[0].value == "UTC"
    with_same = forms._zone_choices_or_same()
    assert with_same[0].value == forms.SAME_AS_SHOW and len(with_same) == len(expected) + 1
    assert "Europe/London" in forms._zone_values()
    choices.append(choices[0])  # callers get a copy; the cached list is unchanged
    assert len(forms._zone_choices()) == len(expected)


def _erf_profile_plain(length: int, start: float, end: float, scale: float) -> bytes:
    k = 1.0 / (SHADOW_SIGMA * math.sqrt(2.0))
    out = bytearray(length)
    for i in range(length):
        c = i + 0.5
        value = 0.5 * (math.erf((c - start) * k) - math.erf((c - end) * k))
        out[i] = min(255, max(0, round(255 * scale * value)))
    return bytes(out)


@pytest.mark.parametrize("length", [1, 50, 300, 1200, 2160])
@pytest.mark.parametrize(("start", "end"), [(-30.3, 200.5), (0, 1000), (44.5, 1900), (120, 2100), (10, 12)])
@pytest.mark.parametrize("scale", [1.0, 0.45])
def test_shadow_profile_matches_per_pixel_erf(length, start, end, scale):
    assert compose._erf_profile(length, start, end, scale) == _erf_profile_plain(length, start, end, scale)
