"""The API reference is grouped by area in a producer's reading order (admin last), and every endpoint
has a copyable curl call and an example response; the OpenAPI document stays valid."""

from __future__ import annotations

import re
from html import unescape

import pytest

pytestmark = pytest.mark.usefixtures("app")

ORDER = [
    "Images & formats",
    "Generation",
    "Bulk",
    "Shows",
    "Palettes",
    "Video & voice",
    "Jobs",
    "Account & keys",
    "Admin",
]


def test_the_document_is_valid_openapi_with_areas_curl_samples_and_examples(client):
    from openapi_spec_validator import validate

    doc = client.get("/api/v1/openapi.json").json
    validate(doc)  # raises on an invalid document
    assert [t["name"] for t in doc["tags"]] == [a["key"] for a in doc["x-areas"]]
    assert [a["title"] for a in doc["x-areas"]] == ORDER
    keys = {a["key"] for a in doc["x-areas"]}
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            assert op["x-area"] in keys and op["tags"] == [op["x-area"]]
            assert (op["x-area"] == "admin") == (op["x-scope"] == "admin" or path.startswith("/admin")), path
            sample = op["x-codeSamples"][0]
            assert sample["label"] == "curl"
            assert sample["source"].startswith(
                f"curl -X {method.upper()} 'https://marquee.example.com/api/v1"
            )
            assert "Authorization: Bearer $MARQUEE_TOKEN" in sample["source"]
            assert "{" not in sample["source"].split("'")[1], f"unfilled path parameter in {path}"
            if "requestBody" in op:
                assert " -d '" in sample["source"] or " -F '" in sample["source"], path
            ok = [r for s, r in op["responses"].items() if s.startswith("2")]
            assert ok, path
            for media, body in ok[0].get("content", {}).items():
                if media == "application/json":
                    assert "example" in body, f"{method} {path} has no example response"


def test_the_example_responses_match_their_own_schemas(client):
    """Built from the schema, so each example validates against it (refs resolved in the document)."""
    import jsonschema

    doc = client.get("/api/v1/openapi.json").json
    registry_doc = {"components": doc["components"]}
    checked = 0
    for methods in doc["paths"].values():
        for op in methods.values():
            for status, response in op["responses"].items():
                body = response.get("content", {}).get("application/json")
                if status.startswith("2") and body and "example" in body:
                    schema = {**body["schema"], **registry_doc}
                    jsonschema.Draft202012Validator(schema).validate(body["example"])
                    checked += 1
    assert checked >= 20


def test_the_reference_page_groups_endpoints_by_area_with_admin_last(client, login):
    login()
    page = client.get("/api").get_data(as_text=True)
    headings = [unescape(h) for h in re.findall(r'<section class="api-area"[^>]*>\s*<h2>([^<]+)</h2>', page)]
    assert headings == ORDER
    # Admin endpoints only in the last section, and no longer first on the page.
    first_admin = page.index("/api/v1/admin/")
    assert first_admin > page.index('id="area-admin"')
    sections = re.split(r'<section class="api-area"', page)[1:]
    for section in sections:
        ops = section.count('class="card api-op"')
        assert ops and section.count("curl -X ") == ops and section.count("data-copy=") == ops
        assert section.count("Example response") == ops
    assert "<code>curl -X POST &#39;https://marquee.example.com/api/v1/auto-format&#39;" in page
    assert 'href="#area-images"' in page and 'href="#area-admin"' in page
