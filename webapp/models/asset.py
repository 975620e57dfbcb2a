"""Stored images: uploads, auto-format outputs and (later) AI artwork."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.sql.expression import false as sa_false

from webapp.extensions import db
from webapp.models.base import UTCDateTime, utcnow


class AssetKind(enum.StrEnum):
    ORIGINAL = "original"
    POSTER = "poster"
    SQUARE = "square"
    BANNER = "banner"
    GENERATED = "generated"
    EDITED = "edited"
    VIDEO = "video"  # a clip (media_kind video)
    AUDIO = "audio"  # a voice promo or sound (media_kind audio)


class MediaKind(enum.StrEnum):
    """What the bytes are: a still (everything before issue 16), a video clip or an audio file."""

    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


class AssetStatus(enum.StrEnum):
    """Issue 17: where an image stands on its way out. ``hidden`` stays "not in the library yet"
    (a bulk result under review, a rejected image); ``status`` says whether it may be used."""

    DRAFT = "draft"  # an AI result not yet published (bulk review, studio result)
    HELD = "held"  # moderation flagged it, or the check failed: a staff decision is needed
    PUBLISHED = "published"
    REJECTED = "rejected"  # staff refused it: kept out of the library and the shows


def _default_status(context) -> str:
    """A row inserted hidden (a bulk result awaiting review) is a draft; anything else is published
    unless the writer says otherwise (AI results in the studio are drafts: jobs.generate)."""
    hidden = context.get_current_parameters().get("hidden")
    return AssetStatus.DRAFT.value if hidden else AssetStatus.PUBLISHED.value


class AssetSource(enum.StrEnum):
    UPLOAD = "upload"
    AUTOFORMAT = "autoformat"
    AI = "ai"
    ANIMATE = "animate"


class Asset(db.Model):
    """One stored image, video or audio file (``media_kind``). The same bytes are stored once per owner
    (unique owner + sha256)."""

    __tablename__ = "asset"
    __table_args__ = (
        UniqueConstraint("owner_id", "sha256", name="uq_asset_owner_sha256"),
        Index("ix_asset_owner_id_id", "owner_id", "id"),
        Index("ix_asset_owner_bytes_id", "owner_id", "bytes", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    storage_key: Mapped[str] = mapped_column(String(512))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)  # audio: 0
    height: Mapped[int] = mapped_column(Integer)
    media_kind: Mapped[str] = mapped_column(
        String(8), default=MediaKind.IMAGE.value, server_default=MediaKind.IMAGE.value, index=True
    )
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)  # video and audio
    codec: Mapped[str | None] = mapped_column(String(32), nullable=True)  # video and audio: h264, mp3…
    sha256: Mapped[str] = mapped_column(String(64))
    phash: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # imaging.likeness signature (1.2 KB): confirms a phash match by colour and structure. Assets stored
    # before it existed get theirs from their thumbnail the first time a hash match needs it.
    likeness: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("asset.id", ondelete="SET NULL"), nullable=True, index=True
    )
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("job.id", ondelete="SET NULL"), nullable=True, index=True
    )
    show_id: Mapped[int | None] = mapped_column(
        ForeignKey("show.id", ondelete="SET NULL", use_alter=True), nullable=True, index=True
    )
    source: Mapped[str] = mapped_column(String(16), default=AssetSource.UPLOAD.value, index=True)
    prompt: Mapped[str | None] = mapped_column(Text, nullable=True)
    thumb_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    # Bulk results stay out of the library until the producer publishes them.
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false(), index=True)
    status: Mapped[str] = mapped_column(
        String(16), default=_default_status, server_default=AssetStatus.PUBLISHED.value, index=True
    )
    # The last moderation verdict (services.moderation): state clean|flagged|error|not_checked,
    # categories, scores, provider, model, checked_at, message; decision and reviewer once decided.
    moderation: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    dominant_colors: Mapped[list] = mapped_column(JSON, default=list)
    provenance: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Issue 17: words for screen readers, search and file names (services.describe writes them).
    alt_text: Mapped[str | None] = mapped_column(String(250), nullable=True)
    title: Mapped[str | None] = mapped_column(String(120), nullable=True)
    description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    tags: Mapped[list | None] = mapped_column(JSON, nullable=True)
    described_by: Mapped[str | None] = mapped_column(String(32), nullable=True)  # offline|producer|provider
    # Issue 19: the library's stacks. ``group_id`` is the topmost ancestor along ``parent_id`` (the
    # original a format, render or edit was made from), kept by a flush hook below so the gallery can
    # group in one indexed query; None on an original itself.
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("asset.id", ondelete="SET NULL"), nullable=True, index=True
    )
    favorite: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false(), index=True)
    # An overlay render that a newer render of the same source replaced: kept (a show may use it) but
    # listed only inside its stack as an older version, never as a tile of its own.
    superseded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    owner = relationship("User", lazy="raise_on_sql")
    parent = relationship("Asset", remote_side=[id], lazy="raise_on_sql", foreign_keys=[parent_id])
    colors = relationship("AssetColor", cascade="all, delete-orphan", lazy="select", passive_deletes=True)

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1_000_000

    @property
    def extension(self) -> str:
        return {
            "image/jpeg": "jpg",
            "image/png": "png",
            "image/webp": "webp",
            "video/mp4": "mp4",
            "audio/mpeg": "mp3",
            "audio/wav": "wav",
            "audio/mp4": "m4a",
        }.get(self.content_type, "bin")

    @property
    def alt(self) -> str:
        """What an <img> of this asset says to a screen reader: its alt text, else its file name."""
        return self.alt_text or self.filename

    @property
    def group_root_id(self) -> int:
        """The id of the stack this asset is in: its original's, or its own when it is one."""
        return self.group_id or self.id

    @property
    def is_overlay_render(self) -> bool:
        return (self.provenance or {}).get("source") == "overlay"

    @property
    def is_image(self) -> bool:
        # Unset before the INSERT applies the column default (image): a new still is an image too.
        return (self.media_kind or MediaKind.IMAGE.value) == MediaKind.IMAGE.value

    def __repr__(self) -> str:
        return f"<Asset {self.id} {self.kind} {self.width}x{self.height}>"


@event.listens_for(Session, "before_flush")
def _join_parents_stack(session: Session, _context, _instances) -> None:
    """A new asset made from another (a format, a render, an edit, a clip) joins its parent's stack:
    its ``group_id`` is the parent's stack, so every door that stores a derived asset groups it."""
    for obj in list(session.new):
        if isinstance(obj, Asset) and obj.parent_id and obj.group_id is None:
            with session.no_autoflush:
                row = session.execute(
                    select(Asset.id, Asset.group_id).where(Asset.id == obj.parent_id)
                ).first()
            if row is not None:
                obj.group_id = row.group_id or row.id


class AssetColor(db.Model):
    """One dominant colour of an asset, in CIELAB, for "find images by colour" with an index."""

    __tablename__ = "asset_color"
    __table_args__ = (Index("ix_asset_color_lab", "l", "a", "b"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), index=True)
    hex: Mapped[str] = mapped_column(String(7))
    l: Mapped[float] = mapped_column(Float)  # noqa: E741 - CIELAB's own name
    a: Mapped[float] = mapped_column(Float)
    b: Mapped[float] = mapped_column(Float)
    share: Mapped[float] = mapped_column(Float)
