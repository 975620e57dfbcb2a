"""The real ``runwayml`` and ``huggingface_hub`` SDKs, through our adapters, against the fake servers.

Pins the task discipline PROVIDERS.md asks for (create once, save the id before polling, resume without
creating, cancel with DELETE, FAILED/CANCELLED as typed errors, outputs downloaded at once) and the
translation of every failure. No database, no network beyond 127.0.0.1; polls every few milliseconds.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.fakes import FakeHF, FakeRunway
from webapp.providers import (
    BadRequest,
    ImageRequest,
    InvalidKey,
    ProviderUnavailable,
    RateLimited,
    create_provider,
)
from webapp.providers.media import SpeechRequest, TaskCancelled, TaskHooks, VideoRequest

RUNWAY_KEY = "key_runwayTESTabcdefghijklmnop5d2e"
HF_KEY = "hf_TESTtokenabcdefghijklmnop1a2b"
SDXL = "stabilityai/stable-diffusion-xl-base-1.0"


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch):
    monkeypatch.setenv("RUNWAY_POLL_SECONDS", "0.005")
    monkeypatch.setenv("RUNWAY_TASK_TIMEOUT_SECONDS", "10")


@pytest.fixture(scope="module")
def runway_fake():
    with FakeRunway(valid_key=RUNWAY_KEY) as fake:
        yield fake


@pytest.fixture(scope="module")
def hf_fake():
    with FakeHF(valid_key=HF_KEY) as fake:
        yield fake


@pytest.fixture
def rw(runway_fake):
    runway_fake.reset()
    return create_provider("runway", RUNWAY_KEY, base_url=runway_fake.url, timeout=5)


@pytest.fixture
def hf(hf_fake):
    hf_fake.reset()
    return create_provider("huggingface", HF_KEY, base_url=hf_fake.url, timeout=5)


class Recorder:
    """TaskHooks whose calls are recorded; ``cancel_after`` polls it starts answering cancelled."""

    def __init__(self, resume: str | None = None, cancel_after: int | None = None) -> None:
        self.saved: list[str] = []
        self.progress: list[float] = []
        self.checks = 0
        self.cancel_after = cancel_after
        self.hooks = TaskHooks(
            resume_task_id=resume,
            save_task_id=self.saved.append,
            progress=lambda f, _s: self.progress.append(f),
            cancelled=self._cancelled,
        )

    def _cancelled(self) -> bool:
        self.checks += 1
        return self.cancel_after is not None and self.checks > self.cancel_after


def still(size=(64, 96)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buf, "PNG")
    return buf.getvalue()


# -- Runway --------------------------------------------------------------------------------------------


def test_runway_image_is_one_task_polled_to_success_and_downloaded(rw, runway_fake):
    rec = Recorder()
    rw.task_hooks = rec.hooks
    images = rw.generate(ImageRequest(prompt="jazz night", image_type="poster"))
    assert len(images) == 1 and images[0].mime_type == "image/png"
    assert (images[0].width, images[0].height) == runway_fake.image_size
    create = runway_fake.requests_to("/v1/text_to_image")
    assert len(create) == 1
    assert create[0].json["model"] == "gen4_image" and create[0].json["ratio"] == "1080:1440"
    assert create[0].json["promptText"].startswith("jazz night")
    assert create[0].headers["x-runway-version"]
    assert rec.saved == [images[0].usage["task_id"]]
    assert images[0].usage["credits"] == 8
    polls = [r for r in runway_fake.requests_to("/v1/tasks/") if r.method == "GET"]
    assert len(polls) == runway_fake.running_polls + 1
    assert any(0 < f < 1 for f in rec.progress)
    assert runway_fake.created_per_key[RUNWAY_KEY] == 1


def test_runway_ratios_follow_our_formats(rw):
    assert [rw.size_for(t) for t in ("poster", "square", "banner")] == ["1080:1440", "1080:1080", "1920:1080"]


def test_runway_video_sends_a_data_uri_and_returns_the_clip(rw, runway_fake):
    rec = Recorder()
    clip = rw.animate(
        VideoRequest(image=still(), image_mime="image/png", format="story", seconds=6), rec.hooks
    )
    body = runway_fake.requests_to("/v1/image_to_video")[0].json
    assert body["model"] == "gen4_turbo" and body["ratio"] == "720:1280" and body["duration"] == 5
    assert body["promptImage"].startswith("data:image/png;base64,")
    assert clip.kind == "video" and clip.mime == "video/mp4" and clip.data[4:8] == b"ftyp"
    assert clip.task_id == rec.saved[0] and clip.usage["credits"] == 25


def test_runway_gen45_validates_duration_and_prompt_before_any_call(rw, runway_fake):
    with pytest.raises(BadRequest):
        rw.animate(
            VideoRequest(image=still(), image_mime="image/png", seconds=6, model="gen4.5"), TaskHooks()
        )
    with pytest.raises(BadRequest):
        rw.animate(
            VideoRequest(image=still(), image_mime="image/png", seconds=11, prompt="x", model="gen4.5"),
            TaskHooks(),
        )
    assert runway_fake.creates == 0


def test_runway_voice_uses_a_preset_and_measures_the_wav(rw, runway_fake):
    audio = rw.speak(SpeechRequest(text="Tonight only: the Marquee jazz trio.", voice="Leslie"), TaskHooks())
    body = runway_fake.requests_to("/v1/text_to_speech")[0].json
    assert body["model"] == "eleven_multilingual_v2"
    assert body["voice"] == {"type": "runway-preset", "presetId": "Leslie"}
    assert audio.kind == "audio" and audio.mime == "audio/wav" and audio.duration_s == pytest.approx(1.0)
    with pytest.raises(BadRequest):
        rw.speak(SpeechRequest(text="hi", voice="Nobody"), TaskHooks())


class WorkerDied(BaseException):
    """Stands in for SIGKILL: nothing after it runs in the first attempt."""


def test_runway_resume_polls_the_saved_task_and_never_creates(rw, runway_fake):
    runway_fake.hold = True
    first = Recorder()

    def die(fraction, _stage):
        if fraction > 0:
            raise WorkerDied

    first.hooks.progress = die
    with pytest.raises(WorkerDied):
        rw.speak(SpeechRequest(text="Doors at eight."), first.hooks)
    assert len(first.saved) == 1 and runway_fake.creates == 1
    runway_fake.hold = False
    again = create_provider("runway", RUNWAY_KEY, base_url=runway_fake.url, timeout=5)
    rec = Recorder(resume=first.saved[0])
    audio = again.speak(SpeechRequest(text="Doors at eight."), rec.hooks)
    assert audio.task_id == first.saved[0]
    assert runway_fake.creates == 1 and runway_fake.deleted == []
    assert rec.saved == []  # nothing new to save: the same task


def test_runway_cancel_during_a_task_deletes_it(rw, runway_fake):
    runway_fake.hold = True
    rec = Recorder(cancel_after=3)
    with pytest.raises(TaskCancelled):
        rw.animate(VideoRequest(image=still(), image_mime="image/png", format="square", seconds=5), rec.hooks)
    assert runway_fake.deleted == rec.saved and len(rec.saved) == 1
    assert runway_fake.creates == 1


def test_runway_failed_task_is_a_typed_error_with_the_failure_text(rw, runway_fake):
    runway_fake.enqueue("task_failed")
    with pytest.raises(ProviderUnavailable) as info:
        rw.generate(ImageRequest(prompt="jazz", image_type="square"))
    assert "internal reason" in info.value.message and not info.value.retryable
    assert runway_fake.creates == 1


def test_runway_task_cancelled_elsewhere_is_an_error(rw, runway_fake):
    runway_fake.enqueue("task_cancelled")
    with pytest.raises(ProviderUnavailable) as info:
        rw.generate(ImageRequest(prompt="jazz", image_type="square"))
    assert "cancelled outside Marquee" in info.value.message


@pytest.mark.parametrize(
    ("kind", "options", "error", "retry_after"),
    [
        ("rate_limited", {"retry_after": 3}, RateLimited, 3.0),
        ("rate_limited_bare", {}, RateLimited, None),
        ("server_error", {}, ProviderUnavailable, None),
        ("bad_request", {}, BadRequest, None),
    ],
)
def test_runway_create_errors_are_translated_and_never_retried(
    rw, runway_fake, kind, options, error, retry_after
):
    runway_fake.enqueue(kind, **options)
    with pytest.raises(error) as info:
        rw.generate(ImageRequest(prompt="jazz", image_type="banner"))
    assert len(runway_fake.requests_to("/v1/text_to_image")) == 1  # max_retries=0: one create
    if error is RateLimited:
        assert info.value.retry_after == retry_after
    if error is BadRequest:
        assert "bad value" in info.value.message
    assert RUNWAY_KEY not in repr(info.value) + info.value.message


def test_runway_bad_key_and_key_check(runway_fake):
    runway_fake.reset()
    good = create_provider("runway", RUNWAY_KEY, base_url=runway_fake.url, timeout=5)
    good.validate_key()
    assert runway_fake.requests_to("/v1/organization")
    bad = create_provider("runway", "key_wrongwrongwrong0000", base_url=runway_fake.url, timeout=5)
    with pytest.raises(InvalidKey) as info:
        bad.validate_key()
    assert "…0000" in info.value.message and "key_wrongwrong" not in info.value.message
    with pytest.raises(InvalidKey):
        bad.generate(ImageRequest(prompt="jazz", image_type="poster"))
    assert runway_fake.creates == 0


# -- Hugging Face --------------------------------------------------------------------------------------


def test_hf_text_to_image_returns_png_bytes(hf, hf_fake):
    images = hf.generate(ImageRequest(prompt="jazz night", image_type="poster", seed=7))
    req = hf_fake.requests_to(f"/models/{SDXL}")[0]
    assert req.json["inputs"].startswith("jazz night")
    assert req.json["parameters"]["width"] == 832 and req.json["parameters"]["height"] == 1216
    assert req.json["parameters"]["seed"] == 7
    assert req.headers["authorization"] == f"Bearer {HF_KEY}"
    assert images[0].mime_type == "image/png" and images[0].height > images[0].width


def test_hf_admin_chosen_model_and_routing(hf, hf_fake):
    hf.configure({"routing": "fal-ai"})
    assert hf.routing == "fal-ai"
    hf.generate(ImageRequest(prompt="jazz", image_type="square", model="black-forest-labs/FLUX.1-schnell"))
    assert hf_fake.requests_to("/models/black-forest-labs/FLUX.1-schnell")
    with pytest.raises(BadRequest):
        hf.generate(ImageRequest(prompt="jazz", image_type="square", model="not a model"))


def test_hf_model_loading_is_retryable_with_its_estimated_time(hf, hf_fake):
    hf_fake.enqueue("loading", retry_after=42.5)
    with pytest.raises(RateLimited) as info:
        hf.generate(ImageRequest(prompt="jazz", image_type="square"))
    assert info.value.retry_after == 42.5 and info.value.retryable
    assert "loading" in info.value.message


def test_hf_json_instead_of_an_image_is_a_clear_error(hf, hf_fake):
    hf_fake.enqueue("json_200")
    with pytest.raises(ProviderUnavailable) as info:
        hf.generate(ImageRequest(prompt="jazz", image_type="square"))
    assert "without an image" in info.value.message and not info.value.retryable


def test_hf_bad_token_and_key_check(hf_fake):
    hf_fake.reset()
    create_provider("huggingface", HF_KEY, base_url=hf_fake.url, timeout=5).validate_key()
    bad = create_provider("huggingface", "hf_wrongwrongwrong9999", base_url=hf_fake.url, timeout=5)
    with pytest.raises(InvalidKey) as info:
        bad.validate_key()
    assert "…9999" in info.value.message
    with pytest.raises(InvalidKey):
        bad.generate(ImageRequest(prompt="jazz", image_type="square"))


def test_hf_server_error_and_rate_limit(hf, hf_fake):
    hf_fake.enqueue("server_error")
    with pytest.raises(ProviderUnavailable):
        hf.generate(ImageRequest(prompt="jazz", image_type="banner"))
    hf_fake.enqueue("rate_limited", retry_after=9)
    with pytest.raises(RateLimited) as info:
        hf.generate(ImageRequest(prompt="jazz", image_type="banner"))
    assert info.value.retry_after == 9


def test_runway_big_image_goes_through_an_ephemeral_upload(rw, runway_fake, monkeypatch):
    import webapp.providers.runway_provider as runway_provider

    monkeypatch.setattr(runway_provider, "DATA_URI_LIMIT", 1000)  # our still is bigger than this
    image = still((200, 300))
    rw.animate(VideoRequest(image=image, image_mime="image/png", format="landscape", seconds=10), TaskHooks())
    body = runway_fake.requests_to("/v1/image_to_video")[0].json
    assert body["promptImage"].startswith("runway://uploads/") and body["duration"] == 10
    assert body["ratio"] == "1280:720"
    assert runway_fake.uploads[body["promptImage"]] == image
