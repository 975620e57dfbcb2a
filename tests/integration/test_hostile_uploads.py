"""Hostile and malformed uploads against the real upload route, plus a property-based fuzz of the
validator: never a 5xx, never a stored file for a refusal, always a clear message."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.hostile_corpus import corpus

pytestmark = pytest.mark.usefixtures("app")

CORPUS = corpus()


def test_the_corpus_is_large_and_varied():
    assert len(CORPUS) >= 200
    assert len({name.rsplit(".", 1)[-1] for name, _, _ in CORPUS}) >= 3


def test_every_hostile_upload_is_refused_cleanly_or_handled(app, client, login, media_root):
    from webapp.extensions import db
    from webapp.models import Asset

    login()
    problems = []
    for name, data, expect in CORPUS:
        with app.app_context():
            before_assets = db.session.scalar(select(func.count()).select_from(Asset))
        before_files = {p for p in media_root.rglob("*") if p.is_file()}
        resp = client.post(
            "/autoformat",
            data={
                "image": (io.BytesIO(data), name),
                "output": "jpeg",
                "darken": "15",
                "fill_poster": "blur",
                "fill_square": "blur",
                "fill_banner": "blur",
            },
            content_type="multipart/form-data",
            headers={"HX-Request": "true"},
        )
        body = resp.get_data(as_text=True)
        if resp.status_code >= 500:
            problems.append(f"{name}: HTTP {resp.status_code}")
            continue
        refused = resp.status_code in (413, 422)
        if expect == "refuse" and not refused:
            problems.append(f"{name}: expected a refusal, got {resp.status_code}")
        if refused:
            with app.app_context():
                after_assets = db.session.scalar(select(func.count()).select_from(Asset))
            after_files = {p for p in media_root.rglob("*") if p.is_file()}
            if after_assets != before_assets or after_files != before_files:
                problems.append(f"{name}: refused but something was stored")
            if "field__error" not in body and "flash--error" not in body:
                problems.append(f"{name}: refused without a message")
            if (
                "Upload a JPEG, PNG or WebP" not in body
                and "allowed" not in body
                and "MB" not in body
                and "damaged" not in body
                and "empty" not in body
            ):
                problems.append(f"{name}: the message does not say what is allowed: {body[:200]!r}")
    assert not problems, "\n".join(problems)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.binary(max_size=4096), seed=st.integers(0, 2**16), cut=st.floats(0, 1))
def test_fuzz_upload_validator_only_accepts_or_refuses(data, seed, cut):
    """Random bytes, and real images mutated at random places: the validator either accepts (and
    the image then decodes) or raises ImageRejected with a message — nothing else escapes."""
    import random

    from tests.hostile_corpus import _photo, _save
    from webapp.imaging import ImageRejected, UploadLimits, decode, inspect_upload

    rnd = random.Random(seed)
    base = [_save(_photo((64, 48), seed % 5), fmt) for fmt in ("JPEG", "PNG", "WEBP")][seed % 3]
    mutated = bytearray(base[: max(1, int(len(base) * (0.5 + cut / 2)))])
    for _ in range(seed % 6):
        if mutated:
            mutated[rnd.randrange(len(mutated))] = rnd.randrange(256)
    for candidate in (data, bytes(mutated), base[:8] + data):
        try:
            info = inspect_upload(candidate, UploadLimits())
        except ImageRejected as exc:
            assert exc.message and len(exc.message) > 10
            continue
        img = decode(candidate)
        assert img.mode == "RGB" and img.size[0] > 0 and (info.width, info.height) == img.size
