"""The free offline video provider: `webapp.media.animate` behind the `VideoProvider` contract.

It is not in the image REGISTRY (the offline *image* generator already answers to ``local``); the video
job picks it by name (``services.media.video_provider``). Same hooks as a remote task: progress per frame
batch, and a cancel checked between batches, which raises ``TaskCancelled``.
"""

from __future__ import annotations

from webapp.providers.media import GeneratedMedia, TaskCancelled, TaskHooks, VideoRequest


class LocalVideoProvider:
    """Ken Burns motion over a still, rendered and encoded here (PyAV/libx264), free, no key."""

    name = "local"

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale  # LOCAL_VIDEO_SCALE: quick previews and tests render smaller clips

    def animate(self, request: VideoRequest, hooks: TaskHooks) -> GeneratedMedia:
        from webapp.media.animate import ClipCancelled, ClipSpec, render_clip
        from webapp.providers.media import VIDEO_FORMATS

        size = None
        if self.scale != 1.0:
            w, h = VIDEO_FORMATS[request.format]
            size = (max(64, round(w * self.scale)), max(64, round(h * self.scale)))
        spec = ClipSpec(
            format=request.format,
            seconds=request.seconds,
            motion=request.motion,
            title=request.title,
            subtitle=request.subtitle,
            size=size,
        )
        try:
            data = render_clip(request.image, spec, progress=hooks.progress, cancelled=hooks.cancelled)
        except ClipCancelled:
            raise TaskCancelled from None
        width, height = spec.dimensions()
        return GeneratedMedia(
            data=data,
            mime="video/mp4",
            kind="video",
            duration_s=float(request.seconds),
            width=width,
            height=height,
            codec="h264",
            usage={"frames": round(request.seconds * spec.fps)},
        )
