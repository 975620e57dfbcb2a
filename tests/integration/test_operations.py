"""Operations: health checks, request ids, secret redaction in logs, housekeeping tasks."""

from __future__ import annotations

import logging
import time

import pytest

from tests.conftest import make_config

pytestmark = pytest.mark.usefixtures("app")


def test_readyz_reports_each_dependency(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.json["checks"] == {"database": "ok", "redis": "ok", "storage": "ok"}


def test_readyz_is_503_when_redis_is_down(pg_url, media_root, queue_prefix):
    from webapp import create_app

    down = create_app(make_config(pg_url, media_root, queue_prefix, REDIS_URL="redis://127.0.0.1:1/0"))
    resp = down.test_client().get("/readyz")
    assert resp.status_code == 503 and resp.json["checks"]["redis"].startswith("error")


def test_request_id_is_echoed_and_generated(client):
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc12345-req"}).headers["X-Request-ID"]
        == "abc12345-req"
    )
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "<script>"}).headers["X-Request-ID"] != "<script>"


@pytest.mark.parametrize(
    "secret",
    [
        "sk-test-SECRETSECRET-1234",
        "sk-proj-AbCdEf0123456789xyz",
        "AIzaSyA1234567890abcdefghijklmnop",
        "Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
        "mq_abcdefghijklmnopqrstuv",
    ],
)
def test_log_records_are_redacted_for_every_handler(caplog, secret):
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("marquee.test")
    log.info("calling provider with %s", secret)
    try:
        raise RuntimeError(f"upstream said: bad key {secret}")
    except RuntimeError:
        log.exception("provider failed")
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    bare = secret.split()[-1]
    assert bare not in text
    assert "[REDACTED]" in text


def test_maintenance_removes_orphans_but_keeps_referenced_and_young_objects(
    app, client, login, photo_jpeg, media_root
):
    import io
    import os

    from webapp.services.maintenance import orphaned_objects

    login()
    client.post(
        "/autoformat",
        data={
            "image": (io.BytesIO(photo_jpeg), "a.jpg"),
            "output": "jpeg",
            "darken": "15",
            "fill_poster": "blur",
            "fill_square": "blur",
            "fill_banner": "blur",
        },
        content_type="multipart/form-data",
    )
    old = media_root / "users" / "1" / "zz" / "orphan.jpg"
    old.parent.mkdir(parents=True, exist_ok=True)
    old.write_bytes(b"left behind")
    two_days = time.time() - 2 * 86400
    os.utime(old, (two_days, two_days))
    young = media_root / "users" / "1" / "zz" / "young.jpg"
    young.write_bytes(b"job in flight")
    with app.app_context():
        removed = orphaned_objects()
    assert removed == ["users/1/zz/orphan.jpg"]
    assert young.exists() and not old.exists()
    # The original and the young file; the upload's thumbnail is its job's to make (issue 18: no image
    # work in the request), and no job ran here.
    assert len([p for p in media_root.rglob("*") if p.is_file()]) == 2


def test_maintenance_cli_runs_every_task(app):
    result = app.test_cli_runner().invoke(args=["maintenance", "run", "all"])
    assert result.exit_code == 0, result.output
    for name in (
        "sweep-jobs",
        "purge-tombstones",
        "orphaned-objects",
        "expire-bulk",
        "reconcile-reservations",
    ):
        assert f"{name}:" in result.output
