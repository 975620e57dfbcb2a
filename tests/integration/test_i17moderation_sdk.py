"""The official openai SDK's moderations.create against the fake OpenAI server (issue 17)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.fakes.openai_server import FakeOpenAI


def _png(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (900, 600), color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def fake():
    with FakeOpenAI(valid_key="sk-mod-test-1234") as server:
        yield server


def test_a_clean_text_and_image_pass_and_the_wire_format_is_what_the_sdk_reads(fake):
    from webapp.providers.moderation_openai import MODEL, moderate

    result = moderate(
        "sk-mod-test-1234", "a jazz trio on a blue stage", _png((20, 40, 200)), base_url=fake.url
    )
    assert result.flagged is False and result.categories == []
    assert set(result.scores) >= {"violence", "self-harm/intent", "sexual/minors"}
    assert result.applied["violence"] == ["text", "image"] and result.applied["hate"] == ["text"]
    [req] = fake.requests_to("/moderations")
    assert req.json["model"] == MODEL == "omni-moderation-latest"
    kinds = [p["type"] for p in req.json["input"]]
    assert kinds == ["text", "image_url"]
    url = req.json["input"][1]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    # The image is sent small (≤ 512 px), whatever its stored size.
    import base64

    im = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert max(im.size) == 512


def test_a_flagged_image_names_its_categories_with_wire_names(fake):
    from webapp.providers.moderation_openai import moderate

    fake.flag_image(lambda im: im.getpixel((10, 10))[0] > 200, "self-harm/intent")
    result = moderate("sk-mod-test-1234", "poster", _png((250, 0, 0)), base_url=fake.url)
    assert result.flagged is True and result.categories == ["self-harm/intent"]
    assert result.scores["self-harm/intent"] > 0.9
    assert moderate("sk-mod-test-1234", "poster", _png((0, 0, 250)), base_url=fake.url).flagged is False


def test_flagged_text(fake):
    from webapp.providers.moderation_openai import moderate

    fake.flag_text("gore", "violence/graphic")
    result = moderate("sk-mod-test-1234", "Lots of GORE here", None, base_url=fake.url)
    assert result.flagged and result.categories == ["violence/graphic"]
    [req] = fake.requests_to("/moderations")
    assert [p["type"] for p in req.json["input"]] == ["text"]


@pytest.mark.parametrize(
    "body",
    [
        {"id": "modr-x", "model": "omni-moderation-latest"},  # no results
        {"id": "modr-x", "results": []},
        {"id": "modr-x", "results": [{"flagged": "yes", "categories": {"violence": True}}]},
        {"id": "modr-x", "results": [{"flagged": False, "categories": {"violence": "maybe"}}]},
    ],
)
def test_a_malformed_answer_is_an_error_never_a_pass(fake, body):
    from webapp.providers.moderation_openai import MalformedAnswer, moderate

    fake.enqueue("success", body=body)
    with pytest.raises(MalformedAnswer) as err:
        moderate("sk-mod-test-1234", "x", _png((1, 2, 3)), base_url=fake.url)
    assert (
        "could not be read" in err.value.message
        or "no results" in (err.value.detail or "")
        or err.value.message
    )


def test_a_timeout_and_a_429_are_provider_errors_with_the_key_scrubbed(fake):
    from webapp.providers.base import ProviderUnavailable, RateLimited
    from webapp.providers.moderation_openai import moderate

    fake.enqueue("slow", delay=3)
    with pytest.raises(ProviderUnavailable) as err:
        moderate("sk-mod-test-1234", "x", None, base_url=fake.url, timeout=0.5)
    assert "did not answer within 0.5 seconds" in err.value.message
    fake.enqueue("rate_limited", retry_after=9)
    with pytest.raises(RateLimited) as limited:
        moderate("sk-mod-test-1234", "x", None, base_url=fake.url)
    assert "sk-mod-test-1234" not in str(limited.value) and "sk-mod-test-1234" not in (
        limited.value.detail or ""
    )


def test_the_fake_refuses_an_unknown_model_like_the_service(fake):
    import openai

    client = openai.OpenAI(api_key="sk-mod-test-1234", base_url=fake.url, max_retries=0)
    with pytest.raises(openai.BadRequestError):
        client.moderations.create(model="gpt-image-1.5", input="x")
    resp = client.moderations.create(model="omni-moderation-latest", input="hello")
    assert resp.results[0].category_applied_input_types.self_harm_intent == ["text"]
    assert resp.results[0].categories.self_harm_intent is False
