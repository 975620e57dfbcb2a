"""Runway (premium tier): still images, video from a still, and voice, through the official ``runwayml``.

Every call is a paid *task*; ``runway_tasks`` creates it once (``max_retries=0``), hands its id to the
job before waiting, polls with backoff and downloads the outputs at once. Stills use the ordinary
``ImageProvider`` interface; a job that wants a still to survive a worker crash sets ``task_hooks``
before calling ``generate`` (one image per call then, which is how the generate job calls).

Prices are in Runway credits; the price table keeps the credit→USD rate (see ``services.pricing``).
"""

from __future__ import annotations

import base64
from typing import Any, ClassVar

from .base import (
    BadRequest,
    GeneratedImage,
    ImageProvider,
    ImageRequest,
    ProviderSpec,
    ProviderUnavailable,
    build_prompt,
    image_size,
    register,
    sniff_mime,
)
from .media import VIDEO_FORMATS, GeneratedMedia, SpeechRequest, TaskHooks, VideoRequest
from .runway_tasks import ErrorTranslator, TaskRunner

# gen4_image ratios closest to our formats: poster 2:3 -> 3:4 (Runway has no 2:3; 9:16 is further),
# square 1:1, banner ~2:1 -> 16:9 (1808:768 is 2.35:1, further from 2160:1089 than 16:9).
IMAGE_RATIOS = {"poster": "1080:1440", "square": "1080:1080", "banner": "1920:1080"}
VIDEO_RATIOS = {"story": "720:1280", "square": "960:960", "landscape": "1280:720"}
VIDEO_MODELS = ("gen4_turbo", "gen4.5")
SPEECH_MODELS = ("eleven_multilingual_v2",)
# Runway's preset voices for eleven_multilingual_v2 (from the SDK's type hints).
VOICES = (
    "Maya", "Arjun", "Serene", "Bernard", "Billy", "Mark", "Clint", "Mabel", "Chad", "Leslie",
    "Eleanor", "Elias", "Elliot", "Brodie", "Sandra", "Kirk", "Kylie", "Lara", "Lisa", "Malachi",
    "Marlene", "Martin", "Miriam", "Paula", "Pip", "Rusty", "Maggie", "Jack", "Katie", "Noah",
    "James", "Rina", "Ella", "Mariah", "Frank", "Claudia", "Niki", "Vincent", "Kendrick", "Myrna",
    "Tom", "Wanda", "Benjamin", "Kiana", "Rachel",
)  # fmt: skip
DEFAULT_VOICE = "Maya"
DATA_URI_LIMIT = 5 * 1024 * 1024  # bigger images go through uploads.create_ephemeral
PROMPT_LIMIT = 1000  # Runway counts UTF-16 code units


@register
class RunwayProvider(ImageProvider):
    """Runway's ``text_to_image`` / ``image_to_video`` / ``text_to_speech`` tasks."""

    spec: ClassVar[ProviderSpec] = ProviderSpec(
        name="runway",
        display_name="Runway",
        models=("gen4_image",),
        default_model="gen4_image",
        needs_key=True,
        can_edit=False,
        max_images_per_call=1,
        prompt_limit=PROMPT_LIMIT,
    )
    sdk_module: ClassVar[str | None] = "runwayml"

    def __init__(
        self, api_key: str | None = None, *, base_url: str | None = None, timeout: float = 60.0
    ) -> None:
        super().__init__(api_key, base_url=base_url, timeout=timeout)
        import runwayml

        # max_retries=0: a retried create can start a second paid task (PROVIDERS.md, Runway traps).
        self._client = runwayml.RunwayML(
            api_key=self._api_key, base_url=base_url, timeout=self.timeout, max_retries=0
        )
        self.tasks = TaskRunner(self._client, self._api_key, self.timeout)
        # Set by a job that stores the task id (survives a worker crash); None: a throw-away hook.
        self.task_hooks: TaskHooks | None = None

    def size_for(self, image_type: str) -> str:
        self.check_image_type(image_type)
        return IMAGE_RATIOS[image_type]

    def validate_key(self) -> None:
        """``GET /v1/organization``: free, authenticated, 401 for a bad key."""
        with ErrorTranslator(self._api_key, self.timeout):
            self._client.organization.retrieve()

    def generate(self, request: ImageRequest) -> list[GeneratedImage]:
        """One ``text_to_image`` task per image (``gen4_image`` answers one image per task)."""
        model = self.model_for(request)
        prompt = build_prompt(request)
        self.check_prompt(prompt)
        ratio = self.size_for(request.image_type)
        images = []
        for i in range(request.n):
            hooks = self.task_hooks if (self.task_hooks is not None and i == 0) else TaskHooks()
            kwargs: dict[str, Any] = {"model": model, "prompt_text": prompt, "ratio": ratio}
            if request.seed is not None:
                kwargs["seed"] = (request.seed + i) % 4294967295
            result = self.tasks.run(
                lambda kwargs=kwargs: self._client.text_to_image.create(**kwargs), hooks, "drawing"
            )
            data, _ctype = result.outputs[0]
            width, height = image_size(data, "Runway")
            images.append(
                GeneratedImage(
                    data=data,
                    mime_type=sniff_mime(data),
                    width=width,
                    height=height,
                    usage={"credits": result.credits, "task_id": result.task_id},
                )
            )
        return images

    def edit(self, request: ImageRequest, source_images: list[bytes]) -> list[GeneratedImage]:
        raise BadRequest("Runway cannot edit images here; choose OpenAI or Gemini to edit.")

    # -- video and voice -------------------------------------------------------------------------------

    def animate(self, request: VideoRequest, hooks: TaskHooks) -> GeneratedMedia:
        """``image_to_video`` from one still: gen4_turbo (5 or 10 s) or gen4.5 (2-10 s)."""
        model = request.model or "gen4_turbo"
        if model not in VIDEO_MODELS:
            raise BadRequest(f"Runway has no video model {model!r}; choose one of {', '.join(VIDEO_MODELS)}.")
        if request.format not in VIDEO_FORMATS:
            raise BadRequest(f"Choose a clip format: {', '.join(VIDEO_FORMATS)}.")
        seconds = int(request.seconds)
        if model == "gen4_turbo":
            seconds = 5 if seconds <= 7 else 10  # the only lengths gen4_turbo makes
        elif not 2 <= seconds <= 10:
            raise BadRequest("gen4.5 makes clips of 2 to 10 seconds.")
        prompt = (request.prompt or "").strip()
        if model == "gen4.5" and not prompt:
            raise BadRequest("gen4.5 needs a prompt saying what should move.")
        self.check_prompt(prompt)
        kwargs: dict[str, Any] = {
            "model": model,
            "ratio": VIDEO_RATIOS[request.format],
            "duration": seconds,
        }
        if prompt:
            kwargs["prompt_text"] = prompt

        def create() -> Any:
            kwargs["prompt_image"] = self._image_input(request.image, request.image_mime)
            return self._client.image_to_video.create(**kwargs)

        result = self.tasks.run(create, hooks, "animating the clip")
        data, ctype = result.outputs[0]
        width, height = (int(x) for x in VIDEO_RATIOS[request.format].split(":"))
        return GeneratedMedia(
            data=data,
            mime=ctype if ctype.startswith("video/") else "video/mp4",
            kind="video",
            duration_s=float(seconds),
            width=width,
            height=height,
            usage={"credits": result.credits, "model": model, "seconds": seconds},
            task_id=result.task_id,
        )

    def speak(self, request: SpeechRequest, hooks: TaskHooks) -> GeneratedMedia:
        """``text_to_speech`` with a Runway preset voice."""
        model = request.model or SPEECH_MODELS[0]
        if model not in SPEECH_MODELS:
            raise BadRequest(f"Runway has no voice model {model!r}; use {SPEECH_MODELS[0]}.")
        voice = request.voice or DEFAULT_VOICE
        if voice not in VOICES:
            raise BadRequest(f"Runway has no voice {voice!r}; choose one of {', '.join(VOICES[:8])}, ….")
        text = (request.text or "").strip()
        if not text:
            raise BadRequest("Write the script to read: it is empty.")
        self.check_prompt(text)
        result = self.tasks.run(
            lambda: self._client.text_to_speech.create(
                model=model, prompt_text=text, voice={"type": "runway-preset", "preset_id": voice}
            ),
            hooks,
            "recording the voice",
        )
        data, ctype = result.outputs[0]
        mime = ctype if ctype.startswith("audio/") else _audio_mime(data)
        return GeneratedMedia(
            data=data,
            mime=mime,
            kind="audio",
            duration_s=_audio_seconds(data, mime, text),
            usage={"credits": result.credits, "model": model, "voice": voice},
            task_id=result.task_id,
        )

    def _image_input(self, data: bytes, mime: str) -> str:
        """A data URI up to 5 MB, else an ephemeral upload (a ``runway://`` URI)."""
        if mime not in ("image/png", "image/jpeg", "image/webp"):
            mime = sniff_mime(data)
        if len(data) * 4 / 3 + 40 <= DATA_URI_LIMIT:
            return f"data:{mime};base64,{base64.b64encode(data).decode()}"
        ext = mime.split("/")[1]
        with ErrorTranslator(self._api_key, self.timeout):
            upload = self._client.uploads.create_ephemeral(file=(f"still.{ext}", data, mime))
        uri = getattr(upload, "uri", None) or getattr(upload, "runway_uri", None)
        if not uri:
            raise ProviderUnavailable("Runway did not accept the image upload. Try again.")
        return str(uri)


def _audio_mime(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    return "audio/mpeg"


def _audio_seconds(data: bytes, mime: str, text: str) -> float:
    """Duration of a WAV from its header; for MP3 an estimate from the script (150 words a minute)
    until the media layer probes the file."""
    if mime == "audio/wav":
        import contextlib
        import io
        import wave

        with contextlib.suppress(wave.Error, EOFError), wave.open(io.BytesIO(data)) as w:
            return round(w.getnframes() / float(w.getframerate() or 1), 2)
    return round(max(1.0, len(text.split()) / 2.5), 1)
