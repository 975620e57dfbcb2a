"""The real ``openai`` and ``google-genai`` SDKs, through our adapters, against the fake provider servers.

These pin the wire format we send (model, size, quality, aspect ratio, multipart / inline images) and the
translation of every failure into our typed errors. No database, no network beyond 127.0.0.1.
"""

from __future__ import annotations

import io
import logging

import pytest
from PIL import Image

from tests.fakes import FakeGemini, FakeOpenAI, inline_parts, png
from webapp.providers import (
    BadRequest,
    ContentBlocked,
    GeminiProvider,
    ImageRequest,
    InvalidKey,
    OpenAIProvider,
    ProviderUnavailable,
    RateLimited,
    create_provider,
)

OPENAI_KEY = "sk-proj-Zx81TESTKEYabcdefghijk9f3a"
GEMINI_KEY = "AIzaSyTESTKEY-abcdefghijklmnop7c1e"
WRONG_OPENAI_KEY = "sk-proj-WRONGwrongWRONGwrong0000"
WRONG_GEMINI_KEY = "AIzaSyWRONG-wrongwrongwrongwr0000"


@pytest.fixture(scope="module")
def openai_fake():
    with FakeOpenAI(valid_key=OPENAI_KEY) as fake:
        yield fake


@pytest.fixture(scope="module")
def gemini_fake():
    with FakeGemini(valid_key=GEMINI_KEY) as fake:
        yield fake


@pytest.fixture
def oai(openai_fake):
    openai_fake.reset()
    return create_provider("openai", OPENAI_KEY, base_url=openai_fake.url, timeout=5)


@pytest.fixture
def gem(gemini_fake):
    gemini_fake.reset()
    gemini_fake.bad_key_status = 400
    return create_provider("gemini", GEMINI_KEY, base_url=gemini_fake.url, timeout=5)


def assert_no_key(exc: BaseException, *keys: str) -> None:
    """Neither the whole key nor any 8-character piece of it may appear in what we show or log."""
    texts = [str(exc), repr(exc), getattr(exc, "detail", "") or "", getattr(exc, "message", "")]
    for key in keys:
        pieces = {key[i : i + 8] for i in range(len(key) - 7)}
        for text in texts:
            assert not any(piece in text for piece in pieces), f"key material in {text!r}"
    assert exc.__cause__ is None and exc.__suppress_context__, (
        "SDK exception (holding headers) must not chain"
    )


# ---------------------------------------------------------------------------------------------------------
# Registry and sizes


def test_registry_sizes_and_repr_hide_keys(oai, gem):
    assert OpenAIProvider.enabled() and GeminiProvider.enabled()
    assert [oai.size_for(t) for t in ("poster", "square", "banner")] == [
        "1024x1536",
        "1024x1024",
        "1536x1024",
    ]
    assert [gem.size_for(t) for t in ("poster", "square", "banner")] == ["2:3", "1:1", "16:9"]
    assert OpenAIProvider.spec.models == ("gpt-image-1.5", "gpt-image-1-mini")
    assert OpenAIProvider.spec.default_model == "gpt-image-1.5"
    assert GeminiProvider.spec.default_model == "gemini-2.5-flash-image"
    for provider, key in ((oai, OPENAI_KEY), (gem, GEMINI_KEY)):
        assert key not in repr(provider) and key not in str(provider)
        assert key[-4:] in repr(provider)


def test_missing_key_is_invalid_key_before_any_call(openai_fake):
    with pytest.raises(InvalidKey, match="Settings"):
        create_provider("openai", "  ", base_url=openai_fake.url)
    with pytest.raises(InvalidKey):
        create_provider("gemini", None)


def test_retired_models_are_refused_without_a_call(oai, openai_fake):
    for model in ("gpt-image-1", "dall-e-3"):
        with pytest.raises(BadRequest):
            oai.generate(ImageRequest("x", "square", model=model))
    assert openai_fake.calls == 0


# ---------------------------------------------------------------------------------------------------------
# OpenAI


def test_openai_generate_two_images_in_one_call(oai, openai_fake):
    images = oai.generate(ImageRequest("Jazz night", "poster", quality="high", n=2, style="vintage"))
    assert len(images) == 2
    assert {(i.width, i.height, i.mime_type) for i in images} == {(1024, 1536, "image/png")}
    assert images[0].data != images[1].data
    assert images[0].usage["total_tokens"] > 0 and images[1].usage == {}
    (req,) = openai_fake.requests
    assert req.method == "POST" and req.path == "/v1/images/generations"
    assert req.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    body = req.json
    assert body["model"] == "gpt-image-1.5"
    assert (body["size"], body["quality"], body["n"], body["output_format"]) == (
        "1024x1536",
        "high",
        2,
        "png",
    )
    assert body["prompt"].startswith("Jazz night") and "vintage" in body["prompt"]


def test_openai_banner_with_mini_model(oai, openai_fake):
    (img,) = oai.generate(ImageRequest("Expo", "banner", quality="low", model="gpt-image-1-mini"))
    assert (img.width, img.height) == (1536, 1024)
    body = openai_fake.requests[-1].json
    assert (body["model"], body["size"], body["quality"]) == ("gpt-image-1-mini", "1536x1024", "low")


def test_openai_edit_sends_multipart_images(oai, openai_fake):
    src = png(300, 200)
    (img,) = oai.edit(ImageRequest("make it gold", "square"), [src])
    assert (img.width, img.height) == (1024, 1024)
    req = openai_fake.requests[-1]
    assert req.path == "/v1/images/edits"
    assert req.headers["content-type"].startswith("multipart/form-data")
    assert [f.data for f in req.files["image"]] == [src]
    assert req.files["image"][0].content_type == "image/png"
    assert req.form["model"] == ["gpt-image-1.5"] and req.form["size"] == ["1024x1024"]
    assert req.form["prompt"][0].startswith("make it gold")

    oai.edit(ImageRequest("combine", "poster", n=2), [src, png(100, 100, 3)])
    req = openai_fake.requests[-1]
    assert len(req.files["image[]"]) == 2 and req.form["n"] == ["2"]


def test_openai_wrong_key_is_invalid_key_without_key_text(openai_fake):
    bad = create_provider("openai", WRONG_OPENAI_KEY, base_url=openai_fake.url, timeout=5)
    with pytest.raises(InvalidKey) as info:
        bad.generate(ImageRequest("x", "square"))
    assert not info.value.retryable and not info.value.may_have_billed
    assert "…0000" in str(info.value)
    assert_no_key(info.value, WRONG_OPENAI_KEY)


def test_openai_validate_key_ok_and_refused(oai, openai_fake):
    oai.validate_key()
    assert openai_fake.requests[-1].method == "GET" and openai_fake.requests[-1].path == "/v1/models"
    bad = create_provider("openai", WRONG_OPENAI_KEY, base_url=openai_fake.url, timeout=5)
    with pytest.raises(InvalidKey) as info:
        bad.validate_key()
    assert_no_key(info.value, WRONG_OPENAI_KEY)


def test_openai_rate_limit_carries_retry_after(oai, openai_fake):
    openai_fake.enqueue("rate_limited", retry_after=12)
    with pytest.raises(RateLimited) as info:
        oai.generate(ImageRequest("x", "square"))
    assert info.value.retry_after == 12 and info.value.retryable
    assert openai_fake.calls == 1, "the SDK must not retry by itself"
    assert_no_key(info.value, OPENAI_KEY)


def test_openai_quota_exhausted_is_not_retryable(oai, openai_fake):
    body = {"error": {"message": "You exceeded your current quota.", "type": "insufficient_quota",
                      "param": None, "code": "insufficient_quota"}}  # fmt: skip
    openai_fake.enqueue("rate_limited", body=body)
    with pytest.raises(RateLimited) as info:
        oai.generate(ImageRequest("x", "square"))
    assert not info.value.retryable and "credit" in str(info.value)


def test_openai_server_error_is_unavailable_and_not_billed(oai, openai_fake):
    openai_fake.enqueue("server_error")
    with pytest.raises(ProviderUnavailable) as info:
        oai.generate(ImageRequest("x", "square"))
    assert info.value.retryable and not info.value.may_have_billed
    assert openai_fake.calls == 1


def test_openai_timeout_may_have_billed(openai_fake):
    quick = create_provider("openai", OPENAI_KEY, base_url=openai_fake.url, timeout=0.5)
    openai_fake.reset()
    openai_fake.enqueue("slow", delay=2)
    with pytest.raises(ProviderUnavailable) as info:
        quick.generate(ImageRequest("x", "square"))
    assert info.value.may_have_billed and info.value.retryable
    assert openai_fake.calls == 1
    assert_no_key(info.value, OPENAI_KEY)


def test_openai_refused_connection_is_unavailable_not_billed(openai_fake):
    dead = create_provider("openai", OPENAI_KEY, base_url="http://127.0.0.1:9/v1", timeout=2)
    with pytest.raises(ProviderUnavailable) as info:
        dead.generate(ImageRequest("x", "square"))
    assert not info.value.may_have_billed


def test_openai_safety_block_is_content_blocked(oai, openai_fake):
    openai_fake.enqueue("safety")
    with pytest.raises(ContentBlocked) as info:
        oai.generate(ImageRequest("something unsafe", "square"))
    assert not info.value.retryable and "safety" in str(info.value)


def test_openai_other_400_is_bad_request(oai, openai_fake):
    openai_fake.enqueue("bad_request")
    with pytest.raises(BadRequest, match="Invalid value"):
        oai.generate(ImageRequest("x", "square"))


def test_no_key_in_debug_logs(oai, openai_fake):
    records: list[str] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        openai_fake.enqueue("server_error")
        with pytest.raises(ProviderUnavailable):
            oai.generate(ImageRequest("x", "square"))
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert records, "expected the SDK to log at DEBUG"
    assert not any(OPENAI_KEY in line for line in records)


# ---------------------------------------------------------------------------------------------------------
# Gemini


def test_gemini_two_images_are_two_calls(gem, gemini_fake):
    images = gem.generate(ImageRequest("Jazz night", "poster", n=2, seed=40, palette=["#112233"]))
    assert len(images) == 2 and gemini_fake.calls == 2
    assert {(i.width, i.height, i.mime_type) for i in images} == {(832, 1248, "image/png")}
    assert images[0].data != images[1].data
    assert images[0].usage["total_token_count"] > 0
    seeds = []
    for req in gemini_fake.requests:
        assert req.path == "/v1/models/gemini-2.5-flash-image:generateContent"
        assert req.headers["x-goog-api-key"] == GEMINI_KEY
        config = req.json["generationConfig"]
        assert config["responseModalities"] == ["IMAGE"]
        assert config["imageConfig"] == {"aspectRatio": "2:3"}
        seeds.append(config["seed"])
        text = req.json["contents"][0]["parts"][0]["text"]
        assert text.startswith("Jazz night") and "#112233" in text
    assert seeds == [40, 41]
    assert len(gemini_fake.timestamps) == 2


def test_gemini_banner_aspect_and_other_model(gem, gemini_fake):
    (img,) = gem.generate(ImageRequest("Expo", "banner", model="gemini-3-pro-image"))
    assert (img.width, img.height) == (1344, 768)
    req = gemini_fake.requests[-1]
    assert req.path.endswith("/models/gemini-3-pro-image:generateContent")
    assert req.json["generationConfig"]["imageConfig"]["aspectRatio"] == "16:9"


def test_gemini_edit_sends_inline_image(gem, gemini_fake):
    src = png(320, 240, 2)
    (img,) = gem.edit(ImageRequest("make it neon", "square"), [src])
    assert (img.width, img.height) == (1024, 1024)
    body = gemini_fake.requests[-1].json
    parts = body["contents"][0]["parts"]
    assert parts[0]["text"].startswith("make it neon")
    (inline,) = inline_parts(body)
    assert inline["mimeType"] == "image/png" and inline["bytes"] == src


def test_gemini_wrong_key_is_invalid_key(gemini_fake):
    gemini_fake.reset()
    bad = create_provider("gemini", WRONG_GEMINI_KEY, base_url=gemini_fake.url, timeout=5)
    for status in (400, 401):  # Google sends 400 API_KEY_INVALID; 401 for other credential failures
        gemini_fake.bad_key_status = status
        with pytest.raises(InvalidKey) as info:
            bad.generate(ImageRequest("x", "square"))
        assert "…0000" in str(info.value)
        assert_no_key(info.value, WRONG_GEMINI_KEY)
    gemini_fake.bad_key_status = 400


def test_gemini_validate_key_ok_and_refused(gem, gemini_fake):
    gem.validate_key()
    req = gemini_fake.requests[-1]
    assert (req.method, req.path, req.query.get("pageSize")) == ("GET", "/v1/models", ["5"])
    bad = create_provider("gemini", WRONG_GEMINI_KEY, base_url=gemini_fake.url, timeout=5)
    with pytest.raises(InvalidKey) as info:
        bad.validate_key()
    assert_no_key(info.value, WRONG_GEMINI_KEY)


def test_gemini_rate_limit_reads_retry_info_or_header(gem, gemini_fake):
    gemini_fake.enqueue("rate_limited", retry_after=37)
    with pytest.raises(RateLimited) as info:
        gem.generate(ImageRequest("x", "square"))
    assert info.value.retry_after == 37
    gemini_fake.enqueue("rate_limited", retry_after=37, headers={"Retry-After": "5"})
    with pytest.raises(RateLimited) as info:
        gem.generate(ImageRequest("x", "square"))
    assert info.value.retry_after == 5
    assert gemini_fake.calls == 2, "the SDK must not retry by itself"


def test_gemini_server_error_is_unavailable_not_billed(gem, gemini_fake):
    gemini_fake.enqueue("server_error")
    with pytest.raises(ProviderUnavailable) as info:
        gem.generate(ImageRequest("x", "square"))
    assert info.value.retryable and not info.value.may_have_billed


def test_gemini_timeout_may_have_billed(gemini_fake):
    gemini_fake.reset()
    quick = create_provider("gemini", GEMINI_KEY, base_url=gemini_fake.url, timeout=0.5)
    gemini_fake.enqueue("slow", delay=2)
    with pytest.raises(ProviderUnavailable) as info:
        quick.generate(ImageRequest("x", "square"))
    assert info.value.may_have_billed
    assert_no_key(info.value, GEMINI_KEY)


def test_gemini_refused_connection_is_unavailable_not_billed():
    dead = create_provider("gemini", GEMINI_KEY, base_url="http://127.0.0.1:9", timeout=2)
    with pytest.raises(ProviderUnavailable) as info:
        dead.generate(ImageRequest("x", "square"))
    assert not info.value.may_have_billed


@pytest.mark.parametrize(
    "reason", ["IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "NO_IMAGE", "PROMPT_BLOCKED", "TEXT_ONLY"]
)
def test_gemini_safety_and_imageless_answers_are_content_blocked(gem, gemini_fake, reason):
    gemini_fake.enqueue("safety", reason=reason)
    with pytest.raises(ContentBlocked) as info:
        gem.generate(ImageRequest("something unsafe", "square"))
    assert not info.value.retryable


def test_gemini_failure_after_first_image_keeps_it(gem, gemini_fake):
    gemini_fake.enqueue("success", "server_error")
    with pytest.raises(ProviderUnavailable) as info:
        gem.generate(ImageRequest("x", "square", n=3))
    assert len(info.value.partial_images) == 1 and info.value.may_have_billed
    assert gemini_fake.calls == 2


def test_gemini_unknown_model_404_is_bad_request(gem, gemini_fake):
    gemini_fake.enqueue("not_found")
    with pytest.raises(BadRequest):
        gem.generate(ImageRequest("x", "square"))


def test_images_decode_as_png(oai, gem):
    for provider in (oai, gem):
        (img,) = provider.generate(ImageRequest("x", "square"))
        with Image.open(io.BytesIO(img.data)) as im:
            assert im.format == "PNG" and im.size == (img.width, img.height)


# ---------------------------------------------------------------------------------------------------------
# The fakes refuse what the real services refuse, and our adapters only send what they accept


def test_fake_openai_refuses_unknown_values_with_the_real_error_shape(openai_fake):
    import openai

    openai_fake.reset()
    client = openai.OpenAI(api_key=OPENAI_KEY, base_url=openai_fake.url, max_retries=0)
    refused = [
        ({"model": "gpt-image-1"}, "model", "gpt-image-1"),  # shut down 2026-10-23
        ({"model": "dall-e-3"}, "model", "dall-e-3"),
        ({"quality": "ultra"}, "quality", "ultra"),
        ({"quality": "hd"}, "quality", "hd"),  # a DALL-E value, not a gpt-image one
        ({"size": "2048x2048"}, "size", "2048x2048"),
        ({"size": "1792x1024"}, "size", "1792x1024"),
        ({"output_format": "gif"}, "output_format", "gif"),
    ]
    for override, param, value in refused:
        kwargs = {"model": "gpt-image-1.5", "prompt": "x", "size": "1024x1024", **override}
        with pytest.raises(openai.BadRequestError) as info:
            client.images.generate(**kwargs)
        error = info.value.body
        assert info.value.status_code == 400
        assert error["type"] == "invalid_request_error" and error["code"] == "invalid_value"
        assert error["param"] == param and f"Invalid value: '{value}'" in error["message"]
    with pytest.raises(openai.BadRequestError) as info:
        client.images.generate(model="gpt-image-1.5", prompt="x", n=11)
    assert info.value.body["param"] == "n"
    with pytest.raises(openai.BadRequestError) as info:
        client.images.edit(model="gpt-image-1", image=("a.png", png(64, 64), "image/png"), prompt="x")
    assert info.value.body["param"] == "model"
    assert all(r.reply is None for r in openai_fake.requests), "a refusal consumes no scripted reply"


def test_fake_gemini_refuses_unknown_models_and_aspect_ratios(gemini_fake):
    from google import genai
    from google.genai import errors, types

    gemini_fake.reset()
    client = genai.Client(api_key=GEMINI_KEY, http_options=types.HttpOptions(base_url=gemini_fake.url))

    def call(model: str, aspect: str = "1:1"):
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"], image_config=types.ImageConfig(aspect_ratio=aspect)
        )
        return client.models.generate_content(model=model, contents="x", config=config)

    with pytest.raises(errors.ClientError) as info:
        call("imagen-3.0-generate-002")
    assert (info.value.code, info.value.status) == (404, "NOT_FOUND")
    assert "models/imagen-3.0-generate-002 is not found" in info.value.message
    with pytest.raises(errors.ClientError) as info:
        call("gemini-2.5-flash")  # a text model: no image output
    assert (info.value.code, info.value.status) == (400, "INVALID_ARGUMENT")
    for aspect in ("2:1", "1024x1024"):
        with pytest.raises(errors.ClientError) as info:
            call("gemini-2.5-flash-image", aspect)
        assert (info.value.code, info.value.status) == (400, "INVALID_ARGUMENT")
    assert call("gemini-2.5-flash-image", "21:9").parts[0].inline_data.data


def test_adapters_send_only_values_the_services_accept(oai, gem, openai_fake, gemini_fake):
    # Every model, image type and quality our adapters offer, against fakes that refuse what the real
    # services refuse: any refusal here is a value we would send to the real service and have rejected.
    for model in OpenAIProvider.spec.models:
        for image_type in ("poster", "square", "banner"):
            for quality in ("low", "medium", "high"):
                request = ImageRequest("x", image_type, quality=quality, model=model)
                assert len(oai.generate(request)) == 1
        assert len(oai.edit(ImageRequest("x", "banner", model=model), [png(64, 64)])) == 1
    for model in GeminiProvider.spec.models:
        for image_type in ("poster", "square", "banner"):
            assert len(gem.generate(ImageRequest("x", image_type, model=model))) == 1
        assert len(gem.edit(ImageRequest("x", "poster", model=model), [png(64, 64)])) == 1


def test_a_model_the_service_does_not_offer_is_a_clear_bad_request():
    # Models pass our own list and the service still refuses (retired since, or not offered to this key).
    with FakeOpenAI(valid_key=OPENAI_KEY, models=("gpt-image-1.5",)) as fake:
        oai = create_provider("openai", OPENAI_KEY, base_url=fake.url, timeout=5)
        with pytest.raises(BadRequest) as info:
            oai.generate(ImageRequest("x", "square", model="gpt-image-1-mini"))
        assert fake.calls == 1
    message = str(info.value)
    assert "OpenAI does not offer the model 'gpt-image-1-mini'" in message
    assert "Choose another model" in message and not info.value.retryable
    assert "invalid_value" in info.value.detail
    with FakeGemini(valid_key=GEMINI_KEY, models=("gemini-2.5-flash-image",)) as fake:
        gem = create_provider("gemini", GEMINI_KEY, base_url=fake.url, timeout=5)
        with pytest.raises(BadRequest) as info:
            gem.generate(ImageRequest("x", "square", model="gemini-3-pro-image"))
    message = str(info.value)
    assert "Google Gemini does not offer the model 'gemini-3-pro-image'" in message
    assert "Choose another model" in message and not info.value.retryable


def test_openai_429_without_retry_after(oai, openai_fake):
    import openai

    openai_fake.enqueue("rate_limited_bare")
    raw = openai.OpenAI(api_key=OPENAI_KEY, base_url=openai_fake.url, max_retries=0)
    with pytest.raises(openai.RateLimitError) as sdk:
        raw.images.generate(model="gpt-image-1.5", prompt="x")
    assert "retry-after" not in sdk.value.response.headers
    openai_fake.enqueue("rate_limited_bare")
    with pytest.raises(RateLimited) as info:
        oai.generate(ImageRequest("x", "square"))
    assert info.value.retry_after is None and info.value.retryable and not info.value.may_have_billed
    assert "Try again in a minute" in str(info.value)
    assert openai_fake.calls == 2, "neither the SDK nor the adapter may retry by itself"
    assert_no_key(info.value, OPENAI_KEY)


def test_gemini_429_without_retry_hint(gem, gemini_fake):
    gemini_fake.enqueue("rate_limited_bare")
    with pytest.raises(RateLimited) as info:
        gem.generate(ImageRequest("x", "square"))
    assert info.value.retry_after is None and info.value.retryable and not info.value.may_have_billed
    assert "Try again in a minute" in str(info.value)
    assert gemini_fake.calls == 1
