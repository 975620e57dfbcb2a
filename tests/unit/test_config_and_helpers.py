"""Config parsing, filenames, and the streamed ZIP writer: no services needed."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import pytest

from webapp.config import ConfigError, load_settings
from webapp.services.zipstream import stream_zip
from webapp.storage import LocalStorage


def test_production_refuses_to_start_without_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({"MARQUEE_ENV": "production"})


def test_heroku_postgres_url_gets_the_psycopg3_driver():
    s = load_settings({"SECRET_KEY": "x", "DATABASE_URL": "postgres://u:p@h:5432/d"})
    assert s.database_url == "postgresql+psycopg://u:p@h:5432/d"


def test_defaults_are_embedded_sqlite_local_storage_and_no_redis():
    s = load_settings({"SECRET_KEY": "x"})
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("instance/marquee.sqlite3")
    assert s.storage_url.startswith("file://") and s.redis_url is None
    assert (s.upload_max_bytes, s.upload_max_width, s.upload_max_height) == (10 * 1024 * 1024, 4000, 4000)


def test_bad_numbers_in_the_environment_are_named():
    with pytest.raises(ConfigError, match="UPLOAD_MAX_BYTES"):
        load_settings({"SECRET_KEY": "x", "UPLOAD_MAX_BYTES": "ten megabytes"})
    with pytest.raises(ConfigError, match="JOB_RETRY_INTERVALS"):
        load_settings({"SECRET_KEY": "x", "JOB_RETRY_INTERVALS": "5,soon"})


def test_production_cookies_are_secure():
    env = {"SECRET_KEY": "x", "MARQUEE_ENV": "production"}
    env.update(PLATFORM_KEYS_FERNET="k", USER_KEYS_FERNET="k")
    cfg = load_settings(env).as_flask_config()
    assert (
        cfg["SESSION_COOKIE_SECURE"]
        and cfg["SESSION_COOKIE_HTTPONLY"]
        and cfg["SESSION_COOKIE_SAMESITE"] == "Lax"
    )


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\Poster Final.JPG", "Poster Final.JPG"),
        ("Noël à Paris.jpg", "Noël à Paris.jpg"),
        ('a<script>"b.png', "a_script__b.png"),
        ("\x00\x07evil\n.png", "evil.png"),
        ("", "artwork"),
        ("...", "artwork"),
        ("x" * 300 + ".jpeg", "x" * 120 + ".jpeg"),
    ],
)
def test_filenames_are_cleaned_for_display_and_download(raw, clean):
    from webapp.services.assets import clean_filename

    assert clean_filename(raw) == clean


def test_stream_zip_yields_a_valid_archive_in_pieces_with_unique_names():
    when = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    members = [
        ("a.jpg", when, [b"first", b"-chunk"]),
        ("a.jpg", when, [b"second"]),
        ("b.png", when, iter([b"x" * 100_000])),
    ]
    pieces = list(stream_zip(members))
    assert len(pieces) > 3  # streamed, not built in one go
    with zipfile.ZipFile(io.BytesIO(b"".join(pieces))) as zf:
        assert zf.namelist() == ["a.jpg", "a-2.jpg", "b.png"]
        assert zf.read("a.jpg") == b"first-chunk" and zf.read("a-2.jpg") == b"second"
        assert zf.read("b.png") == b"x" * 100_000
        assert zf.testzip() is None


def test_local_storage_writes_atomically_and_refuses_traversal(tmp_path):
    store = LocalStorage(tmp_path)
    store.put("users/1/ab/k.jpg", b"data", "image/jpeg")
    assert store.get("users/1/ab/k.jpg") == b"data"
    assert list(store.list_keys()) == ["users/1/ab/k.jpg"]
    assert not list(tmp_path.rglob(".tmp-*"))
    with pytest.raises(ValueError):
        store.put("../outside.jpg", b"x", "image/jpeg")
    store.delete("users/1/ab/k.jpg")
    store.delete("users/1/ab/k.jpg")  # idempotent
    assert not store.exists("users/1/ab/k.jpg")
