"""One place that reads the environment, once, into typed settings.

Everything configurable lives here so that a reader can see every knob in one file, and so that
tests can hand `create_app()` a mapping instead of patching `os.environ`. Production refuses to
start without a secret; development generates one and says so, because a newcomer's first
command must just work.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"


class ConfigError(RuntimeError):
    """Raised when the environment cannot produce a safe configuration."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from exc


def _scale(value: str | None) -> float:
    """LOCAL_VIDEO_SCALE: offline clips are rendered at this fraction of the format's size (0.1-1)."""
    if value is None or value == "":
        return 1.0
    try:
        scale = float(value)
    except ValueError as exc:
        raise ConfigError(f"LOCAL_VIDEO_SCALE must be a number from 0.1 to 1, got {value!r}") from exc
    if not 0.1 <= scale <= 1:
        raise ConfigError(f"LOCAL_VIDEO_SCALE must be a number from 0.1 to 1, got {value!r}")
    return scale


def _normalise_database_url(url: str) -> str:
    """Heroku hands out `postgres://`; SQLAlchemy wants an explicit driver (psycopg 3)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@dataclass(frozen=True)
class Settings:
    """Typed settings. Field names double as Flask config keys (upper-cased)."""

    env: str = "development"
    secret_key: str = ""
    database_url: str = ""
    redis_url: str | None = None
    storage_url: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    presigned_url_seconds: int = 300
    upload_max_bytes: int = 10 * 1024 * 1024
    upload_max_width: int = 4000
    upload_max_height: int = 4000
    job_timeout_seconds: int = 300
    job_heartbeat_seconds: int = 10
    job_stale_seconds: int = 90
    # Without a job queue, jobs run on this many background threads of each web process.
    in_process_job_threads: int = 2
    # ... and such a job waits at most this long on a provider's task (Runway) before giving the
    # thread back (failed with Retry; Retry resumes the same task).
    in_process_task_wait_seconds: int = 300
    job_retry_intervals: tuple[int, ...] = (5, 30, 120)
    redis_connect_timeout: float = 0.5
    session_idle_minutes: int = 120
    session_max_hours: int = 24 * 14
    remember_cookie_days: int = 14
    password_reset_minutes: int = 30
    throttle_login_per_ip: int = 30
    throttle_login_per_account: int = 5
    throttle_login_window_seconds: int = 900
    throttle_register_per_hour: int = 10
    throttle_reset_per_hour: int = 5
    queue_prefix: str = ""
    session_cookie_secure: bool = False
    platform_keys_fernet: str = ""
    user_keys_fernet: str = ""
    smtp_url: str | None = None
    mail_from: str = "Marquee <marquee@localhost>"
    limit_autoformat_per_hour: int = 10
    limit_ai_per_hour: int = 5
    limit_palette_per_hour: int = 20
    limit_media_per_hour: int = 10
    limit_describe_per_hour: int = 30
    local_video_scale: float = 1.0
    provider_timeout_seconds: float = 90.0
    provider_rate_limit_wait_seconds: float = 5.0  # a 429 without Retry-After backs off this long
    openai_base_url: str | None = None
    gemini_base_url: str | None = None
    runway_base_url: str | None = None
    huggingface_base_url: str | None = None
    # Admins and staff must turn on two-factor before any admin page or admin-scope token works.
    marquee_require_admin_mfa: bool = False
    provider_base_url_allowlist: str = ""
    trusted_hosts: tuple[str, ...] | None = None
    # Operations: /metrics (off unless a token is set) and housekeeping ages.
    metrics_token: str | None = None
    metrics_dir: str | None = None
    job_purge_hours: int = 24
    orphan_min_age_hours: int = 24
    bulk_expiry_days: int = 14
    # Admin-scope API tokens always expire: by default after this many days, never later than the cap.
    token_admin_days: int = 30
    token_admin_max_days: int = 90
    # Uploaded originals are stored without GPS, serial numbers, owner names, XMP/IPTC, text chunks.
    strip_private_metadata: bool = True
    # Issue 17: publishing needs a moderation check (an admin can change it in Admin → Moderation).
    moderation_required: bool = False
    limit_moderation_per_hour: int = 200
    # Moderation calls in flight at once while one publish checks many images (services.moderation).
    moderation_concurrency: int = 4
    generated_secret: bool = field(default=False, compare=False)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def as_flask_config(self) -> dict[str, Any]:
        """Flask config keys, upper-cased, plus the ones extensions look for."""
        cfg = {f.name.upper(): getattr(self, f.name) for f in fields(self)}
        cfg.update(
            SECRET_KEY=self.secret_key,
            SQLALCHEMY_DATABASE_URI=self.database_url,
            SQLALCHEMY_ENGINE_OPTIONS=_engine_options(self.database_url),
            # A batch upload carries up to 20 files; each one is still held to UPLOAD_MAX_BYTES.
            MAX_CONTENT_LENGTH=self.upload_max_bytes * 20 + 1024 * 1024,
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax",
            SESSION_COOKIE_SECURE=self.session_cookie_secure,
            REMEMBER_COOKIE_DURATION=timedelta(days=self.remember_cookie_days),
            REMEMBER_COOKIE_HTTPONLY=True,
            REMEMBER_COOKIE_SAMESITE="Lax",
            REMEMBER_COOKIE_SECURE=self.session_cookie_secure,
            WTF_CSRF_TIME_LIMIT=None,
            ENV_NAME=self.env,
        )
        return cfg


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # The in-process job runner and the request share the file; wait rather than fail.
        return {"connect_args": {"timeout": 15}}
    return {"pool_pre_ping": True, "pool_recycle": 1800}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the environment once. `environ` defaults to `os.environ`."""
    env = os.environ if environ is None else environ
    app_env = env.get("MARQUEE_ENV", env.get("FLASK_ENV", "development")).strip().lower() or "development"
    secret = env.get("SECRET_KEY", "")
    generated = False
    if app_env == "production":
        missing = [k for k in ("SECRET_KEY", "PLATFORM_KEYS_FERNET", "USER_KEYS_FERNET") if not env.get(k)]
        if missing:
            raise ConfigError(f"{', '.join(missing)} not set. Production refuses to start without them.")
    if not secret:
        secret = _development_secret()
        generated = True
    database_url = env.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'marquee.sqlite3'}"
    storage_url = env.get("STORAGE_URL") or f"file://{INSTANCE_DIR / 'media'}"
    retry = env.get("JOB_RETRY_INTERVALS")
    allowlist = _check_provider_urls(env)
    admin_max_days = _int(env.get("TOKEN_ADMIN_MAX_DAYS"), 90, "TOKEN_ADMIN_MAX_DAYS")
    admin_days = _int(env.get("TOKEN_ADMIN_DAYS"), 30, "TOKEN_ADMIN_DAYS")
    if not 1 <= admin_days <= admin_max_days:
        raise ConfigError(
            f"TOKEN_ADMIN_DAYS must be between 1 and TOKEN_ADMIN_MAX_DAYS ({admin_max_days}), "
            f"got {admin_days}: admin tokens always expire."
        )
    try:
        retry_intervals = tuple(int(x) for x in retry.split(",")) if retry else (5, 30, 120)
    except ValueError as exc:
        raise ConfigError("JOB_RETRY_INTERVALS must be comma-separated seconds, e.g. 5,30,120") from exc
    return Settings(
        env=app_env,
        secret_key=secret,
        generated_secret=generated,
        database_url=_normalise_database_url(database_url),
        redis_url=env.get("REDIS_URL") or None,
        storage_url=storage_url,
        s3_endpoint_url=env.get("S3_ENDPOINT_URL") or None,
        s3_region=env.get("S3_REGION", env.get("AWS_DEFAULT_REGION", "us-east-1")),
        presigned_url_seconds=_int(env.get("PRESIGNED_URL_SECONDS"), 300, "PRESIGNED_URL_SECONDS"),
        upload_max_bytes=_int(env.get("UPLOAD_MAX_BYTES"), 10 * 1024 * 1024, "UPLOAD_MAX_BYTES"),
        upload_max_width=_int(env.get("UPLOAD_MAX_WIDTH"), 4000, "UPLOAD_MAX_WIDTH"),
        upload_max_height=_int(env.get("UPLOAD_MAX_HEIGHT"), 4000, "UPLOAD_MAX_HEIGHT"),
        job_timeout_seconds=_int(env.get("JOB_TIMEOUT_SECONDS"), 300, "JOB_TIMEOUT_SECONDS"),
        job_heartbeat_seconds=_int(env.get("JOB_HEARTBEAT_SECONDS"), 10, "JOB_HEARTBEAT_SECONDS"),
        job_stale_seconds=_int(env.get("JOB_STALE_SECONDS"), 90, "JOB_STALE_SECONDS"),
        in_process_job_threads=_int(env.get("IN_PROCESS_JOB_THREADS"), 2, "IN_PROCESS_JOB_THREADS"),
        in_process_task_wait_seconds=_int(
            env.get("IN_PROCESS_TASK_WAIT_SECONDS"), 300, "IN_PROCESS_TASK_WAIT_SECONDS"
        ),
        job_retry_intervals=retry_intervals,
        redis_connect_timeout=float(env.get("REDIS_CONNECT_TIMEOUT", "0.5")),
        session_idle_minutes=_int(env.get("SESSION_IDLE_MINUTES"), 120, "SESSION_IDLE_MINUTES"),
        session_max_hours=_int(env.get("SESSION_MAX_HOURS"), 24 * 14, "SESSION_MAX_HOURS"),
        remember_cookie_days=_int(env.get("REMEMBER_COOKIE_DAYS"), 14, "REMEMBER_COOKIE_DAYS"),
        password_reset_minutes=_int(env.get("PASSWORD_RESET_MINUTES"), 30, "PASSWORD_RESET_MINUTES"),
        marquee_require_admin_mfa=_bool(env.get("MARQUEE_REQUIRE_ADMIN_MFA"), False),
        throttle_login_per_ip=_int(env.get("THROTTLE_LOGIN_PER_IP"), 30, "THROTTLE_LOGIN_PER_IP"),
        throttle_login_per_account=_int(
            env.get("THROTTLE_LOGIN_PER_ACCOUNT"), 5, "THROTTLE_LOGIN_PER_ACCOUNT"
        ),
        throttle_login_window_seconds=_int(
            env.get("THROTTLE_LOGIN_WINDOW_SECONDS"), 900, "THROTTLE_LOGIN_WINDOW_SECONDS"
        ),
        throttle_register_per_hour=_int(
            env.get("THROTTLE_REGISTER_PER_HOUR"), 10, "THROTTLE_REGISTER_PER_HOUR"
        ),
        throttle_reset_per_hour=_int(env.get("THROTTLE_RESET_PER_HOUR"), 5, "THROTTLE_RESET_PER_HOUR"),
        queue_prefix=env.get("QUEUE_PREFIX", ""),
        session_cookie_secure=_bool(env.get("SESSION_COOKIE_SECURE"), app_env == "production"),
        platform_keys_fernet=env.get("PLATFORM_KEYS_FERNET", ""),
        user_keys_fernet=env.get("USER_KEYS_FERNET", ""),
        smtp_url=env.get("SMTP_URL") or None,
        mail_from=env.get("MAIL_FROM", "Marquee <marquee@localhost>"),
        limit_autoformat_per_hour=_int(env.get("LIMIT_AUTOFORMAT_PER_HOUR"), 10, "LIMIT_AUTOFORMAT_PER_HOUR"),
        limit_ai_per_hour=_int(env.get("LIMIT_AI_PER_HOUR"), 5, "LIMIT_AI_PER_HOUR"),
        limit_palette_per_hour=_int(env.get("LIMIT_PALETTE_PER_HOUR"), 20, "LIMIT_PALETTE_PER_HOUR"),
        limit_media_per_hour=_int(env.get("LIMIT_MEDIA_PER_HOUR"), 10, "LIMIT_MEDIA_PER_HOUR"),
        limit_describe_per_hour=_int(env.get("LIMIT_DESCRIBE_PER_HOUR"), 30, "LIMIT_DESCRIBE_PER_HOUR"),
        local_video_scale=_scale(env.get("LOCAL_VIDEO_SCALE")),
        provider_timeout_seconds=float(env.get("PROVIDER_TIMEOUT_SECONDS", "90")),
        provider_rate_limit_wait_seconds=float(env.get("PROVIDER_RATE_LIMIT_WAIT_SECONDS", "5")),
        openai_base_url=_provider_url(env, "openai"),
        gemini_base_url=_provider_url(env, "gemini"),
        runway_base_url=_provider_url(env, "runway"),
        huggingface_base_url=_provider_url(env, "huggingface"),
        provider_base_url_allowlist=allowlist,
        trusted_hosts=tuple(h.strip() for h in env["TRUSTED_HOSTS"].split(",") if h.strip())
        if env.get("TRUSTED_HOSTS", "").strip()
        else None,
        metrics_token=env.get("METRICS_TOKEN") or None,
        metrics_dir=env.get("METRICS_DIR") or env.get("PROMETHEUS_MULTIPROC_DIR") or None,
        job_purge_hours=_int(env.get("JOB_PURGE_HOURS"), 24, "JOB_PURGE_HOURS"),
        orphan_min_age_hours=_int(env.get("ORPHAN_MIN_AGE_HOURS"), 24, "ORPHAN_MIN_AGE_HOURS"),
        bulk_expiry_days=_int(env.get("BULK_EXPIRY_DAYS"), 14, "BULK_EXPIRY_DAYS"),
        token_admin_days=admin_days,
        token_admin_max_days=admin_max_days,
        strip_private_metadata=_bool(env.get("STRIP_PRIVATE_METADATA"), True),
        moderation_required=_bool(env.get("MODERATION_REQUIRED"), False),
        limit_moderation_per_hour=_int(
            env.get("LIMIT_MODERATION_PER_HOUR"), 200, "LIMIT_MODERATION_PER_HOUR"
        ),
        moderation_concurrency=max(1, _int(env.get("MODERATION_CONCURRENCY"), 4, "MODERATION_CONCURRENCY")),
    )


def _check_provider_urls(env: Mapping[str, str]) -> str:
    """The allow-list, after checking it parses and that the environment's base URLs are on it:
    a key must never go to a host nobody allowed, so a bad setting stops start-up with a clear
    message rather than failing at the first key test."""
    from webapp.base_urls import BaseUrlRefused, check, parse_allowlist

    allowlist = env.get("PROVIDER_BASE_URL_ALLOWLIST", "")
    try:
        parse_allowlist(allowlist)
        for name in ("openai", "gemini", "runway", "huggingface"):
            check(env.get(f"{name.upper()}_BASE_URL") or None, name, allowlist)
    except BaseUrlRefused as exc:
        raise ConfigError(f"{name.upper()}_BASE_URL: {exc}") from None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return allowlist


def _provider_url(env: Mapping[str, str], name: str) -> str | None:
    return env.get(f"{name.upper()}_BASE_URL") or None


def _development_secret() -> str:
    """A per-checkout secret kept in instance/, so sessions survive restarts in development."""
    path = INSTANCE_DIR / "dev-secret-key"
    try:
        if path.exists():
            return path.read_text().strip()
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        path.write_text(value)
        path.chmod(0o600)
        log.warning("SECRET_KEY not set: generated a development secret in %s", path)
        return value
    except OSError:
        return secrets.token_urlsafe(48)
