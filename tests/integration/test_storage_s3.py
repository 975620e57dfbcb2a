"""The S3 backend against moto's S3 server (real HTTP, the S3 wire protocol)."""

from __future__ import annotations

import contextlib
import io
import urllib.request

import boto3
import pytest
from PIL import Image

from tests.conftest import PASSWORD, make_config
from webapp.storage import S3Storage, StorageError, check_key


@pytest.fixture
def bucket(moto_s3):
    name = "marquee-test"
    client = boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1")
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=name)
    yield name
    for obj in client.list_objects_v2(Bucket=name).get("Contents", []):
        client.delete_object(Bucket=name, Key=obj["Key"])


def test_s3_put_get_exists_delete_and_list(moto_s3, bucket):
    store = S3Storage(bucket, "media", endpoint_url=moto_s3)
    store.check()
    store.put("users/1/ab/abc.jpg", b"hello", "image/jpeg")
    assert store.exists("users/1/ab/abc.jpg")
    assert store.get("users/1/ab/abc.jpg") == b"hello"
    assert b"".join(store.open_stream("users/1/ab/abc.jpg")) == b"hello"
    assert list(store.list_keys("users/1")) == ["users/1/ab/abc.jpg"]
    store.delete("users/1/ab/abc.jpg")
    assert not store.exists("users/1/ab/abc.jpg")
    with pytest.raises(FileNotFoundError):
        store.get("users/1/ab/abc.jpg")


def test_presigned_url_is_short_lived_and_serves_the_bytes(moto_s3, bucket):
    store = S3Storage(bucket, "", endpoint_url=moto_s3, url_seconds=120)
    store.put("k/file.png", b"pngbytes", "image/png")
    url = store.presigned_url("k/file.png", "poster.png", "image/png", download=True)
    assert "X-Amz-Expires=120" in url
    with urllib.request.urlopen(url) as resp:
        assert resp.read() == b"pngbytes"
        assert 'attachment; filename="poster.png"' in resp.headers["Content-Disposition"]


def test_missing_bucket_is_a_storage_error(moto_s3):
    with pytest.raises(StorageError):
        S3Storage("no-such-bucket", endpoint_url=moto_s3).put("a/b.jpg", b"x", "image/jpeg")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../../b", "a//b", "", "a/.hidden/../x"])
def test_storage_keys_cannot_escape(key):
    with pytest.raises(ValueError):
        check_key(key)


def test_whole_flow_on_s3_serves_files_by_presigned_redirect(
    pg_url, media_root, queue_prefix, app, moto_s3, bucket, make_user, run_jobs, photo_jpeg
):
    from webapp import create_app

    s3app = create_app(
        make_config(
            pg_url, media_root, queue_prefix, STORAGE_URL=f"s3://{bucket}/marquee", S3_ENDPOINT_URL=moto_s3
        )
    )
    c = s3app.test_client()
    _, email = make_user()
    c.post("/login", data={"email": email, "password": PASSWORD})
    resp = c.post(
        "/autoformat",
        data={
            "image": (io.BytesIO(photo_jpeg), "s3.jpg"),
            "output": "jpeg",
            "darken": "10",
            "fill_poster": "blur",
            "fill_square": "solid",
            "fill_banner": "blur",
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    import redis
    from rq import Queue, SimpleWorker

    conn = redis.Redis.from_url(s3app.config["REDIS_URL"])
    with s3app.app_context():
        SimpleWorker([Queue(f"{queue_prefix}images", connection=conn)], connection=conn).work(burst=True)
    job_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    page = c.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Download all three" in page
    keys = list(
        boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1").list_objects_v2(Bucket=bucket)[
            "Contents"
        ]
    )
    assert len(keys) == 8 and all(
        k["Key"].startswith(("marquee/users/", "marquee/thumbs/users/")) for k in keys
    )
    asset_id = int(page.split("/assets/")[1].split("/")[0])
    redirect = c.get(f"/assets/{asset_id}/download")
    assert redirect.status_code == 302 and "X-Amz-Signature" in redirect.headers["Location"]
    with urllib.request.urlopen(redirect.headers["Location"]) as r:
        Image.open(io.BytesIO(r.read())).verify()
    zipped = c.get(f"/jobs/{job_id}/download.zip")
    assert zipped.status_code == 200 and len(zipped.data) > 30_000
    # nothing of this test lives in the local folder
    assert not any(p.is_file() for p in media_root.rglob("*"))
