"""Where the pixels live: a local folder or any S3-compatible bucket, behind one interface.

Keys are opaque, slash-separated strings chosen by the app (never by a user), and every key is
checked against traversal before it touches a path. Files are only ever served to their owner:
the local backend is read back through an authorization-checked route; S3 hands out a
short-lived presigned URL from that same route.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


class StorageError(RuntimeError):
    """A storage backend failed (disk, network, permissions). Transient more often than not."""


def check_key(key: str) -> str:
    """Refuse anything that is not a plain relative key (no '..', no absolute paths)."""
    if not key or len(key) > 512 or not _KEY_RE.match(key) or ".." in key.split("/"):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def open_stream(self, key: str, chunk_size: int = 256 * 1024) -> Iterator[bytes]: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def presigned_url(self, key: str, filename: str, content_type: str, *, download: bool) -> str | None: ...
    def list_keys(self, prefix: str = "") -> Iterator[str]: ...
    def check(self) -> None: ...


@dataclass
class LocalStorage:
    """Files under one folder. Writes go to a temp file and are renamed, so a crash mid-write
    never leaves a half-written image behind a valid key."""

    root: Path

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"invalid storage key: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StorageError(f"could not write {key}: {exc.strerror or exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise StorageError(f"could not read {key}: {exc.strerror or exc}") from exc

    def open_stream(self, key: str, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        with self._path(key).open("rb") as fh:
            while chunk := fh.read(chunk_size):
                yield chunk

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def local_path(self, key: str) -> Path:
        return self._path(key)

    def presigned_url(self, key: str, filename: str, content_type: str, *, download: bool) -> str | None:
        return None  # served by the app itself, after the owner check

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        base = self.root.resolve()
        if not base.exists():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith(".tmp-"):
                key = path.relative_to(base).as_posix()
                if key.startswith(prefix):
                    yield key

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise StorageError(f"{self.root} is not writable")


class S3Storage:
    """Amazon S3 or anything that speaks its API (MinIO, DigitalOcean Spaces, R2) via boto3."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        url_seconds: int = 300,
    ) -> None:
        import boto3  # imported here so the local backend never pays for it
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url_seconds = url_seconds
        self._client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
                signature_version="s3v4",
                s3={"addressing_style": "path"},
            ),
        )

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _wrap(self, exc: Exception, what: str) -> StorageError:
        return StorageError(f"S3 {what} failed: {exc}")

    def put(self, key: str, data: bytes, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type
            )
        except (BotoCoreError, ClientError) as exc:
            raise self._wrap(exc, f"upload of {key}") from exc

    def get(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self._client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise FileNotFoundError(key) from exc
            raise self._wrap(exc, f"download of {key}") from exc
        except BotoCoreError as exc:
            raise self._wrap(exc, f"download of {key}") from exc

    def open_stream(self, key: str, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        body = self._client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        yield from body.iter_chunks(chunk_size)

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as exc:
            raise self._wrap(exc, f"delete of {key}") from exc

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise self._wrap(exc, f"lookup of {key}") from exc

    def presigned_url(self, key: str, filename: str, content_type: str, *, download: bool) -> str | None:
        disposition = "attachment" if download else "inline"
        safe = filename.replace('"', "")
        return self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self._key(key),
                "ResponseContentType": content_type,
                "ResponseContentDisposition": f'{disposition}; filename="{safe}"',
            },
            ExpiresIn=self.url_seconds,
        )

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        full = f"{self.prefix}/{prefix}" if self.prefix else prefix
        strip = len(self.prefix) + 1 if self.prefix else 0
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            for obj in page.get("Contents", []):
                yield obj["Key"][strip:]

    def check(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise self._wrap(exc, f"access to bucket {self.bucket}") from exc


def storage_from_url(
    url: str, endpoint_url: str | None = None, region: str = "us-east-1", url_seconds: int = 300
):
    """`file:///abs/path`, `file://relative/path` or `s3://bucket/prefix`."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        raw = url[len("file://") :]
        return LocalStorage(Path(raw).expanduser())
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ValueError("STORAGE_URL s3:// needs a bucket name, e.g. s3://my-bucket/marquee")
        return S3Storage(
            parsed.netloc, parsed.path, endpoint_url=endpoint_url, region=region, url_seconds=url_seconds
        )
    raise ValueError(f"STORAGE_URL must start with file:// or s3://, got {url!r}")


def get_storage():
    """The app's storage backend (built once per app and kept in `app.extensions`)."""
    from flask import current_app

    store = current_app.extensions.get("marquee_storage")
    if store is None:
        cfg = current_app.config
        store = storage_from_url(
            cfg["STORAGE_URL"],
            cfg.get("S3_ENDPOINT_URL"),
            cfg.get("S3_REGION", "us-east-1"),
            cfg.get("PRESIGNED_URL_SECONDS", 300),
        )
        current_app.extensions["marquee_storage"] = store
    return store
