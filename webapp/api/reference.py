"""The API reference's grouping and examples, added to the OpenAPI document (issue 19: it was one
alphabetical list with admin endpoints first and no examples).

* Every operation belongs to one *area* (``x-area``), in the order a producer meets them: images and
  formats first, admin last. The document lists the areas as top-level ``tags`` (with descriptions, in
  that order) and ``x-areas``; the reference page renders one section per area.
* Every operation gets a copyable ``curl`` call (``x-codeSamples``, the Redoc convention) and its success
  response an ``example`` built from the response's own schema, so the two can never disagree.

Both are OpenAPI 3.1 extensions or standard fields (``example`` on a media type); nothing here changes
what a request may contain.
"""

from __future__ import annotations

import json
from typing import Any

#: (key, heading, what it covers) in reading order; admin last.
AREAS: tuple[tuple[str, str, str], ...] = (
    (
        "images",
        "Images & formats",
        "Upload artwork, auto-format it to poster, square and banner, and manage your library.",
    ),
    (
        "generation",
        "Generation",
        "Draw new artwork (or edit an image) with an AI provider, and see which providers you can use.",
    ),
    ("bulk", "Bulk", "Many prompts at once: start a batch and follow it."),
    ("shows", "Shows", "Your shows: titles, dates, venue, prices and the images in their slots."),
    ("palettes", "Palettes", "Extract colour palettes from artwork, customise them and apply them to shows."),
    ("media", "Video & voice", "Animate an image into a clip, or read a script aloud."),
    (
        "jobs",
        "Jobs",
        "Everything that runs in the background: status, progress, retry, cancel and downloads.",
    ),
    ("account", "Account & keys", "Your own provider keys."),
    ("admin", "Admin", "Platform providers and usage. Admin tokens only."),
)
AREA_KEYS = [key for key, _, _ in AREAS]

_TAG_AREA = {
    "autoformat": "images",
    "assets": "images",
    "ai": "generation",
    "bulk": "bulk",
    "shows": "shows",
    "palettes": "palettes",
    "jobs": "jobs",
    "keys": "account",
    "admin": "admin",
}
_MEDIA_PATHS = ("/videos", "/voiceovers")
_METHOD_ORDER = {"get": 0, "post": 1, "put": 2, "patch": 3, "delete": 4}
BASE = "https://marquee.example.com/api/v1"


def area_of(path: str, tag: str, admin: bool = False) -> str:
    if admin or path.startswith("/admin"):
        return "admin"
    if path.startswith(_MEDIA_PATHS):
        return "media"
    return _TAG_AREA.get(tag, "images")


# --------------------------------------------------------------------------- examples from schemas


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        return components.get(ref.rsplit("/", 1)[1], {})
    return schema


_STRING_SAMPLES = {
    "date-time": "2027-03-14T19:30:00Z",
    "date": "2027-03-14",
    "uri": "https://marquee.example.com/files/1",
    "email": "riley@example.com",
}
_NAMED_SAMPLES = {
    "title": "Spring Gala",
    "filename": "spring-gala.jpg",
    "name": "Spring Gala",
    "prompt": "A lantern festival at dusk, warm light",
    "status": "succeeded",
    "kind": "original",
    "provider": "openai",
    "venue": "The Grand Hall",
    "currency": "USD",
    "timezone": "America/New_York",
    "content_type": "image/jpeg",
    "venue_name": "The Grand Hall",
    "venue_address": "1 Main Street, Springfield",
    "price_min": "25.00",
    "price_max": "60.00",
    "price_text": "$25–$60",
    "performers": "The Lanterns",
    "cta_text": "Get tickets",
    "ticket_url": "https://tickets.example.com/spring-gala",
    "alt_text": "A lantern festival at dusk",
    "description": "Poster artwork for the Spring Gala",
    "tags": "poster",
    "detail": "What went wrong and what to do",
    "error": None,
    "image_type": "poster",
    "model": "gpt-image-1",
    "script": "Spring Gala, this Friday at the Grand Hall.",
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
}


def _string_sample(name: str) -> Any:
    if name in _NAMED_SAMPLES:
        return _NAMED_SAMPLES[name]
    if name.endswith("_at") or name.startswith("starts"):
        return _STRING_SAMPLES["date-time"]
    if name.endswith("url") or name.endswith("_href"):
        return "https://marquee.example.com/files/42"
    return "text"


def example(schema: dict[str, Any] | None, components: dict[str, Any], name: str = "", depth: int = 0) -> Any:
    """A plausible value for ``schema`` (JSON Schema, OpenAPI 3.1 dialect)."""
    if not schema:
        return None
    schema = _resolve(schema, components)
    for key in ("example", "const", "default"):
        if key in schema:
            return schema[key]
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v is not None), schema["enum"][0])
    for key in ("oneOf", "anyOf", "allOf"):
        if schema.get(key):
            return example(schema[key][0], components, name, depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        if depth > 8:  # a recursive schema: stop (never reached by ours)
            return {}
        props = schema.get("properties", {})
        return {key: example(sub, components, key, depth + 1) for key, sub in props.items()}
    if kind == "array":
        if depth >= 2:  # a list inside an item: empty keeps the example short (and still valid)
            return []
        return [example(schema.get("items", {}), components, name, depth + 1)]
    if kind == "integer":
        return schema.get("minimum", 42 if name.endswith("id") or name == "id" else 1)
    if kind == "number":
        return schema.get("minimum", 0.5)
    if kind == "boolean":
        return True
    if kind == "string":
        if schema.get("format") in _STRING_SAMPLES:
            return _STRING_SAMPLES[schema["format"]]
        if "pattern" in schema and "#" in str(schema["pattern"]):
            return "#d1495b"
        return _string_sample(name)
    return None


def _json_body_example(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Only the required fields (or all when none are required), so the call stays short."""
    schema = _resolve(schema, components)
    props = schema.get("properties", {})
    keep = schema.get("required") or list(props)
    return {key: example(props[key], components, key) for key in keep if key in props}


def curl(method: str, path: str, item: dict[str, Any], components: dict[str, Any]) -> str:
    url = BASE + path
    for param in item.get("parameters", []):
        if param.get("in") == "path":
            value = example(param.get("schema", {}), components, param["name"])
            url = url.replace("{" + param["name"] + "}", str(value if value is not None else 1))
    query = [p for p in item.get("parameters", []) if p.get("in") == "query" and p.get("required")]
    if query:
        url += "?" + "&".join(
            f"{p['name']}={example(p.get('schema', {}), components, p['name'])}" for p in query
        )
    lines = [f"curl -X {method.upper()} '{url}'", '  -H "Authorization: Bearer $MARQUEE_TOKEN"']
    content = (item.get("requestBody") or {}).get("content", {})
    if "multipart/form-data" in content:
        schema = _resolve(content["multipart/form-data"].get("schema", {}), components)
        for key in schema.get("required") or list(schema.get("properties", {}))[:1]:
            sub = _resolve(schema.get("properties", {}).get(key, {}), components)
            if sub.get("format") == "binary" or (
                sub.get("type") == "array" and key in ("image", "images", "file")
            ):
                lines.append(f"  -F '{key}=@poster.jpg'")
            else:
                lines.append(f"  -F '{key}={example(sub, components, key)}'")
    elif "application/json" in content:
        body = _json_body_example(content["application/json"].get("schema", {}), components)
        lines.append("  -H 'Content-Type: application/json'")
        lines.append("  -d '" + json.dumps(body).replace("'", "'\\''") + "'")
    return " \\\n".join(lines)


def annotate(doc: dict[str, Any]) -> dict[str, Any]:
    """Add areas, curl samples and response examples to ``doc`` (in place); returns it."""
    components = doc.get("components", {}).get("schemas", {})
    for path, methods in doc.get("paths", {}).items():
        for method, item in methods.items():
            tag = (item.get("tags") or ["misc"])[0]
            item["x-area"] = area_of(path, tag, item.get("x-scope") == "admin")
            item["tags"] = [item["x-area"]]  # one tag per area, described (in order) by doc["tags"]
            item["x-codeSamples"] = [
                {"lang": "Shell", "label": "curl", "source": curl(method, path, item, components)}
            ]
            for status, response in item.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                for media, body in response.get("content", {}).items():
                    if media == "application/json" and "schema" in body:
                        body["example"] = example(body["schema"], components)
    doc["tags"] = [{"name": key, "description": f"{title}: {blurb}"} for key, title, blurb in AREAS]
    doc["x-areas"] = [{"key": key, "title": title, "description": blurb} for key, title, blurb in AREAS]
    return doc


def grouped(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The reference page's sections: areas in order, each with its operations (path, then method)."""
    ops: dict[str, list[dict[str, Any]]] = {key: [] for key in AREA_KEYS}
    for path, methods in doc.get("paths", {}).items():
        for method, item in methods.items():
            ops[item.get("x-area", "images")].append({"path": path, "method": method, "op": item})
    sections = []
    for key, title, blurb in AREAS:
        items = sorted(ops[key], key=lambda o: (o["path"], _METHOD_ORDER.get(o["method"], 9)))
        if items:
            sections.append({"key": key, "title": title, "description": blurb, "operations": items})
    return sections


def example_response(item: dict[str, Any]) -> tuple[str, str] | None:
    """(status, pretty JSON) of the first success response with an example, for the page."""
    for status, response in sorted(item.get("responses", {}).items()):
        if status.startswith("2"):
            for body in response.get("content", {}).values():
                if "example" in body:
                    return status, json.dumps(body["example"], indent=2, ensure_ascii=False)
            return status, ""
    return None
