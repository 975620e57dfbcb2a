"""JSON Schemas (OpenAPI 3.1 dialect) for the API's bodies — one place, used by the document and
by the tests that validate every response against it."""

from __future__ import annotations

from typing import Any


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def page_of(name: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": ref(name)},
            "next_cursor": {"type": ["string", "null"]},
        },
    }


NULLABLE_STR = {"type": ["string", "null"]}
NULLABLE_INT = {"type": ["integer", "null"]}
DATETIME = {"type": "string", "format": "date-time"}
NULLABLE_DT = {"type": ["string", "null"], "format": "date-time"}
HEX = {"type": "string", "pattern": "^#[0-9a-f]{6}$"}

COMPONENTS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
    "Asset": {
        "type": "object",
        "required": [
            "id",
            "kind",
            "filename",
            "content_type",
            "bytes",
            "width",
            "height",
            "sha256",
            "source",
            "created_at",
            "url",
            "download_url",
            "thumbnail_url",
        ],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string"},
            "filename": {"type": "string"},
            "content_type": {"type": "string"},
            "bytes": {"type": "integer"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "sha256": {"type": "string"},
            "source": {"type": "string"},
            "prompt": NULLABLE_STR,
            "show_id": NULLABLE_INT,
            "parent_id": NULLABLE_INT,
            "job_id": NULLABLE_INT,
            "dominant_colors": {"type": "array", "items": {"type": "object"}},
            "provenance": {"type": "object"},
            "usage": {"type": "integer"},
            "created_at": DATETIME,
            "url": {"type": "string"},
            "download_url": {"type": "string"},
            "thumbnail_url": {"type": "string"},
            "media_kind": {"type": "string", "enum": ["image", "video", "audio"]},
            "duration_s": {"type": ["number", "null"]},
            "codec": NULLABLE_STR,
            "alt_text": {**NULLABLE_STR, "description": "What the image shows, for screen readers (≤ 250)."},
            "title": {**NULLABLE_STR, "description": "A short title (≤ 120); downloads are named from it."},
            "description": {**NULLABLE_STR, "description": "A short description (≤ 500)."},
            "tags": {"type": "array", "items": {"type": "string"}, "description": "≤ 12 lowercase tags."},
            "described_by": {
                **NULLABLE_STR,
                "description": "Who wrote them: `offline` (composed from the prompt and show), "
                "`producer`, or a provider name.",
            },
            "group_id": {
                "type": "integer",
                "description": "The stack the asset is in: the id of the original it was made from "
                "(its own id for an original). The library shows a stack as one tile.",
            },
            "group_size": {
                "type": "integer",
                "description": "How many assets the stack holds, original included.",
            },
            "favorite": {"type": "boolean", "description": "Starred by the producer (PATCH to change)."},
            "superseded": {
                "type": "boolean",
                "description": "An overlay render replaced by a newer render of the same image; kept "
                "because a show uses it or it is starred.",
            },
            "status": {
                "type": "string",
                "enum": ["draft", "held", "published", "rejected"],
                "description": "AI results are drafts until published; moderation may hold them for staff.",
            },
            "moderation": {
                "type": ["object", "null"],
                "description": "The last moderation verdict: state (clean, flagged, error, not_checked), "
                "categories, scores, message, checked_at; decision and decided_at after a staff decision.",
            },
        },
    },
    "Job": {
        "type": "object",
        "required": [
            "id",
            "kind",
            "status",
            "progress",
            "stage",
            "mode",
            "attempts",
            "created_at",
            "outputs",
        ],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string"},
            "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed", "cancelled"]},
            "progress": {"type": "integer", "minimum": 0, "maximum": 100},
            "stage": {"type": "string"},
            "error": NULLABLE_STR,
            "mode": {"type": "string", "enum": ["async", "sync"]},
            "attempts": {"type": "integer"},
            "created_at": DATETIME,
            "started_at": NULLABLE_DT,
            "finished_at": NULLABLE_DT,
            "outputs": {"type": "array", "items": ref("Asset")},
            "result": {
                "type": "object",
                "description": (
                    "What the finished job reports. Auto-format: `formats`, `output`, `fills` and `notes` "
                    "per format, and `upscale`: for every format the upload is enlarged for by more than "
                    "2x (it will look soft), `{source, canvas, factor, factor_text, min_size, message}`; "
                    "empty when the upload is large enough."
                ),
                "properties": {
                    "upscale": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "properties": {
                                "source": {"type": "array", "items": {"type": "integer"}},
                                "canvas": {"type": "array", "items": {"type": "integer"}},
                                "factor": {"type": "number"},
                                "factor_text": {"type": "string"},
                                "min_size": {"type": "array", "items": {"type": "integer"}},
                                "message": {"type": "string"},
                            },
                        },
                    }
                },
            },
            "download_url": NULLABLE_STR,
        },
    },
    "Performance": {
        "type": "object",
        "required": ["starts_at", "timezone"],
        "properties": {
            "starts_at": {"type": "string"},
            "timezone": {"type": "string"},
            "local": {"type": "string"},
        },
    },
    "Show": {
        "type": "object",
        "required": [
            "id",
            "title",
            "venue_name",
            "venue_address",
            "timezone",
            "currency",
            "performers",
            "cta_text",
            "ticket_url",
            "performances",
            "slots",
        ],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "venue_name": {"type": "string"},
            "venue_address": {"type": "string"},
            "timezone": {"type": "string"},
            "currency": {"type": "string"},
            "price_min": NULLABLE_STR,
            "price_max": NULLABLE_STR,
            "price_text": {"type": "string"},
            "performers": {"type": "array", "items": {"type": "string"}},
            "cta_text": {"type": "string"},
            "ticket_url": {"type": "string"},
            "palette_id": NULLABLE_INT,
            "performances": {"type": "array", "items": ref("Performance")},
            "slots": {
                "type": "object",
                "properties": dict.fromkeys(("poster", "square", "banner", "promo", "voice"), NULLABLE_INT),
            },
            "date_summary": {"type": "string"},
        },
    },
    "AssetDescriptionInput": {
        "type": "object",
        "properties": {
            "alt_text": {"type": "string", "maxLength": 250},
            "title": {"type": ["string", "null"], "maxLength": 120},
            "description": {"type": ["string", "null"], "maxLength": 500},
            "tags": {"type": "array", "maxItems": 12, "items": {"type": "string", "maxLength": 30}},
            "favorite": {"type": "boolean", "description": "Star (true) or unstar (false) the asset."},
        },
    },
    "ShowInput": {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 200},
            "venue_name": {"type": "string", "maxLength": 200},
            "venue_address": {"type": "string", "maxLength": 2000},
            "timezone": {"type": "string"},
            "currency": {"type": "string", "minLength": 3, "maxLength": 3},
            "price_min": {"type": ["string", "number", "null"]},
            "price_max": {"type": ["string", "number", "null"]},
            "performers": {"type": "array", "items": {"type": "string", "maxLength": 120}, "maxItems": 30},
            "cta_text": {"type": "string", "maxLength": 60},
            "ticket_url": {"type": "string", "maxLength": 500},
            "performances": {
                "type": "array",
                "maxItems": 100,
                "items": {
                    "type": "object",
                    "required": ["starts_at"],
                    "properties": {
                        "starts_at": {
                            "type": "string",
                            "description": "local date-time, e.g. 2027-03-06T20:00",
                        },
                        "timezone": {"type": "string"},
                    },
                },
            },
        },
    },
    "UserKey": {
        "type": "object",
        "required": ["provider", "key_suffix", "use_own", "allow_fallback"],
        "properties": {
            "provider": {"type": "string"},
            "key_suffix": {"type": "string"},
            "use_own": {"type": "boolean"},
            "allow_fallback": {"type": "boolean"},
            "last_validation_ok": {"type": ["boolean", "null"]},
            "last_validation_message": NULLABLE_STR,
            "last_validated_at": NULLABLE_DT,
            "last_used_at": NULLABLE_DT,
        },
    },
    "Provider": {
        "type": "object",
        "required": ["name", "model", "models", "enabled", "is_default", "fallback_order", "key_suffix"],
        "properties": {
            "name": {"type": "string"},
            "display_name": {"type": "string"},
            "model": {"type": "string"},
            "models": {"type": "array", "items": {"type": "string"}},
            "enabled": {"type": "boolean"},
            "is_default": {"type": "boolean"},
            "fallback_order": {"type": "integer"},
            "default_quality": {"type": "string"},
            "key_suffix": NULLABLE_STR,
            "base_url": NULLABLE_STR,
            "images_per_minute": {"type": "integer"},
            "user_images_per_hour": {"type": "integer"},
            "monthly_budget": NULLABLE_STR,
            "alert_percent": {"type": "integer"},
            "month_spend": {"type": "string"},
            "last_test_ok": {"type": ["boolean", "null"]},
            "last_test_message": NULLABLE_STR,
            "last_tested_at": NULLABLE_DT,
            "price_table": {"type": "object"},
        },
    },
}
