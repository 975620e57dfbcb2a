"""A clip made on S3 storage (moto's server): attempt-scoped keys for the MP4 and its thumbnail, and the
player's URL is a presigned redirect that answers Range requests (browsers seek with them)."""

from __future__ import annotations

import urllib.request

import boto3

from tests.conftest import PASSWORD, make_config
from tests.integration.test_storage_s3 import bucket  # noqa: F401  (the fixture)


def test_clip_on_s3(pg_url, media_root, queue_prefix, app, moto_s3, bucket, make_user, photo_jpeg):  # noqa: F811
    import redis
    from rq import Queue, SimpleWorker
    from sqlalchemy import select

    from webapp import create_app
    from webapp.extensions import db
    from webapp.media.probe import probe
    from webapp.models import Asset, Job, User
    from webapp.services.assets import ingest_upload

    s3app = create_app(
        make_config(
            pg_url,
            media_root,
            queue_prefix,
            STORAGE_URL=f"s3://{bucket}/marquee",
            S3_ENDPOINT_URL=moto_s3,
            LOCAL_VIDEO_SCALE=1 / 3,
        )
    )
    uid, email = make_user()
    with s3app.app_context():
        source_id = ingest_upload(db.session.get(User, uid), photo_jpeg, "s3.jpg").asset.id
    c = s3app.test_client()
    c.post("/login", data={"email": email, "password": PASSWORD})
    resp = c.post("/studio/video", data={"asset_id": str(source_id), "format": "square", "seconds": "2"})
    assert resp.status_code == 200
    conn = redis.Redis.from_url(s3app.config["REDIS_URL"])
    with s3app.app_context():
        SimpleWorker([Queue(f"{queue_prefix}images", connection=conn)], connection=conn).work(burst=True)
        job = db.session.scalar(select(Job).where(Job.owner_id == uid, Job.kind == "video"))
        assert job.status == "succeeded", job.error
        clip = db.session.scalar(select(Asset).where(Asset.job_id == job.id))
        clip_id, key, thumb_key = clip.id, clip.storage_key, clip.thumb_key
    assert key.endswith(f"-j{job.id}a1.mp4") and thumb_key.startswith("thumbs/")
    listed = boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1").list_objects_v2(Bucket=bucket)
    stored = {o["Key"] for o in listed["Contents"]}
    assert {f"marquee/{key}", f"marquee/{thumb_key}"} <= stored

    redirect = c.get(f"/assets/{clip_id}/file")
    assert redirect.status_code == 302 and "X-Amz-Signature" in redirect.headers["Location"]
    request = urllib.request.Request(redirect.headers["Location"], headers={"Range": "bytes=0-99"})
    with urllib.request.urlopen(request) as r:
        assert r.status == 206 and len(r.read()) == 100
    with urllib.request.urlopen(redirect.headers["Location"]) as r:
        info = probe(r.read(), "video/mp4")
    assert (info.width, info.height, info.codec) == (360, 360, "h264")
    assert not any(p.is_file() for p in media_root.rglob(f"*-j{job.id}a1*"))
