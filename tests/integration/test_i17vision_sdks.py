"""Describing images with the official SDKs against the fakes (issue 17): OpenAI's Responses API with a
strict json_schema and Gemini's JSON-mode generateContent — a good answer, malformed JSON, missing and
over-long fields, unsafe characters, a timeout and a 429, through the providers' own error mapping."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from tests.fakes import FakeGemini, FakeOpenAI
from tests.fakes.openai_server import VISION_WORDS

KEY = "sk-vision-test-0000"


def _jpeg(size=(900, 600)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (20, 40, 200)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


@pytest.fixture
def openai_fake():
    with FakeOpenAI(valid_key=KEY) as fake:
        yield fake


@pytest.fixture
def gemini_fake():
    with FakeGemini(valid_key=KEY) as fake:
        yield fake


def _provider(name, fake, timeout=10.0):
    from webapp.providers import create_provider

    return create_provider(name, KEY, base_url=fake.url, timeout=timeout)


def _ask(name, fake, model, timeout=10.0):
    from webapp.providers.vision import describe
    from webapp.services.describe_ai import clean_answer, prepare_image

    image, mime = prepare_image(_jpeg())
    raw = describe(_provider(name, fake, timeout), model, image, mime, "Prompt: a moon over the sea")
    return clean_answer(raw)


def test_openai_good_answer_sends_a_small_low_detail_image_and_a_strict_schema(openai_fake):
    words, problem = _ask("openai", openai_fake, "gpt-5.4-nano")
    assert problem is None
    assert words == {**VISION_WORDS, "tags": ["moon", "blue", "yellow", "night"]}
    (req,) = openai_fake.requests_to("/v1/responses")
    body = req.json
    assert body["model"] == "gpt-5.4-nano"
    fmt = body["text"]["format"]
    assert fmt["type"] == "json_schema" and fmt["strict"] is True
    assert fmt["schema"]["required"] == ["alt_text", "title", "description", "tags"]
    text, image = body["input"][0]["content"]
    assert text["type"] == "input_text" and "a moon over the sea" in text["text"]
    assert image["type"] == "input_image" and image["detail"] == "low"
    assert image["image_url"].startswith("data:image/jpeg;base64,")
    sent = Image.open(io.BytesIO(base64.b64decode(image["image_url"].split(",", 1)[1])))
    assert max(sent.size) == 768 and sent.format == "JPEG"  # downscaled from 900x600


def test_openai_malformed_missing_long_and_unsafe_answers(openai_fake):
    openai_fake.vision_answer = "malformed"
    words, problem = _ask("openai", openai_fake, "gpt-5.4-nano")
    assert words is None and "not valid JSON" in problem
    openai_fake.vision_answer = "missing"
    words, problem = _ask("openai", openai_fake, "gpt-5.4-nano")
    assert words is None and "alt_text" in problem and "tags" in problem
    openai_fake.vision_answer = "long"
    words, problem = _ask("openai", openai_fake, "gpt-5.4-nano")
    assert problem is None
    assert len(words["alt_text"]) <= 250 and words["alt_text"].endswith("…")
    assert len(words["title"]) <= 120 and len(words["description"]) <= 500
    assert len(words["tags"]) == 12 and all(len(t) <= 30 for t in words["tags"])
    openai_fake.vision_answer = "unsafe"
    words, problem = _ask("openai", openai_fake, "gpt-5.4-nano")
    assert problem is None
    for ch in "\u202e\u200b\x00<>":
        assert ch not in words["alt_text"] + words["title"]
    assert words["title"] == "Moon"


def test_openai_timeout_and_429_use_the_provider_error_mapping(openai_fake):
    from webapp.providers import ProviderUnavailable, RateLimited

    openai_fake.enqueue("rate_limited", retry_after=11)
    with pytest.raises(RateLimited) as rate:
        _ask("openai", openai_fake, "gpt-5.4-nano")
    assert rate.value.retry_after == 11
    assert KEY not in str(rate.value)
    openai_fake.enqueue("slow", delay=5)
    with pytest.raises(ProviderUnavailable) as slow:
        _ask("openai", openai_fake, "gpt-5.4-nano", timeout=0.5)
    assert slow.value.may_have_billed is True and "did not answer" in slow.value.message
    assert len(openai_fake.requests_to("/v1/responses")) == 2


def test_gemini_good_answer_in_json_mode(gemini_fake):
    words, problem = _ask("gemini", gemini_fake, "gemini-2.5-flash")
    assert problem is None and words["alt_text"] == VISION_WORDS["alt_text"]
    (req,) = gemini_fake.requests_to(":generateContent")
    assert "gemini-2.5-flash:generateContent" in req.path
    config = req.json["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    schema = config.get("responseSchema") or config.get("responseJsonSchema")
    assert set(schema["properties"]) == {"alt_text", "title", "description", "tags"}
    parts = req.json["contents"][0]["parts"]
    assert "a moon over the sea" in parts[0]["text"]
    inline = parts[1].get("inlineData") or parts[1].get("inline_data")
    assert (inline.get("mimeType") or inline.get("mime_type")) == "image/jpeg"


def test_gemini_malformed_timeout_and_429(gemini_fake):
    from webapp.providers import ProviderUnavailable, RateLimited

    gemini_fake.vision_answer = "malformed"
    words, problem = _ask("gemini", gemini_fake, "gemini-2.5-flash")
    assert words is None and "not valid JSON" in problem
    gemini_fake.vision_answer = {"alt_text": "", "title": "t", "description": "d", "tags": []}
    words, problem = _ask("gemini", gemini_fake, "gemini-2.5-flash")
    assert words is None and "alt text" in problem.lower()
    gemini_fake.enqueue("rate_limited", retry_after=9)
    with pytest.raises(RateLimited) as rate:
        _ask("gemini", gemini_fake, "gemini-2.5-flash")
    assert rate.value.retry_after == 9
    gemini_fake.enqueue("slow", delay=5)
    with pytest.raises(ProviderUnavailable):
        _ask("gemini", gemini_fake, "gemini-2.5-flash", timeout=0.5)
    assert len(gemini_fake.requests_to(":generateContent")) == 4


def test_clean_answer_rejects_non_objects_and_wrong_types():
    from webapp.services.describe_ai import clean_answer

    assert clean_answer("[1, 2]")[0] is None
    assert clean_answer(json.dumps({**VISION_WORDS, "title": 5}))[1] == "The model's title was not text."
    words, _ = clean_answer(json.dumps({**VISION_WORDS, "tags": "Moon, Night, moon"}))
    assert words["tags"] == ["moon", "night"]
