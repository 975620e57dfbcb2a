"""A studio banner from a provider that cannot draw the banner's shape is stored full-bleed.

Real Postgres, Redis + RQ worker, the official OpenAI SDK against the fake server (which answers a
banner with a 1536x1024 picture: a flat ground and a centred ellipse).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.fakes import FakeOpenAI
from tests.integration.test_studio import asset, configure, generate, job, job_id_of

pytestmark = pytest.mark.usefixtures("app")

OPENAI_KEY = "sk-i15gen-banner-0001"


@pytest.fixture
def openai_fake():
    with FakeOpenAI(valid_key=OPENAI_KEY) as fake:
        yield fake


def test_openai_banner_is_extended_to_the_banner_format_not_padded(app, client, login, run_jobs, openai_fake):
    configure(app, "openai", OPENAI_KEY, openai_fake.url)
    login()
    resp = generate(client, model="openai:gpt-image-1.5", image_type="banner")
    run_jobs()
    (variation,) = job(app, job_id_of(resp)).result["variations"]
    assert variation["status"] == "succeeded"
    row = asset(app, variation["asset_id"])
    with app.app_context():
        from webapp.storage import get_storage

        stored = Image.open(io.BytesIO(get_storage().get(row.storage_key))).convert("RGB")
    assert stored.size == (2160, 1089)
    arr = np.asarray(stored, dtype=np.float32)
    # The art fills the full height: its ellipse spans the middle half of the banner's height (a padded
    # copy would sit inside a 44 px margin and be shorter).
    yellow = (arr[..., 0] > 180) & (arr[..., 1] > 150) & (arr[..., 2] < 120)
    rows = np.flatnonzero(yellow[:, 1080])
    assert abs(rows.min() - 1089 / 4) < 6 and abs(rows.max() - 3 * 1089 / 4) < 6
    # The margins continue the art's own ground colour (no darkened, blurred pad, no frame).
    ground = arr[20:-20, 600].mean(axis=0)  # inside the art, left of the ellipse
    for x in (5, 2154):
        assert np.abs(arr[20:-20, x].mean(axis=0) - ground).max() < 4
