"""API: the providers a producer can choose from, with tier, prices and whether their own key is set.

Admin details (platform key suffix, base URL, budgets) stay under `/admin/ai-models`."""

from __future__ import annotations

from flask import jsonify

from webapp.api.core import api_user, operation
from webapp.services import tiers

PROVIDER_STATUS = {
    "type": "object",
    "required": ["name", "tier", "enabled", "prices", "own_key_set"],
    "properties": {
        "name": {"type": "string"},
        "display_name": {"type": "string"},
        "tier": {"type": "string", "enum": ["free", "budget", "premium"]},
        "enabled": {"type": "boolean"},
        "is_default": {"type": "boolean"},
        "model": {"type": "string"},
        "can_edit": {"type": "boolean"},
        "video": {"type": "boolean"},
        "voice": {"type": "boolean"},
        "needs_key": {"type": "boolean"},
        "prices": {
            "type": "object",
            "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "currency": {"type": "string"},
        "own_key_set": {"type": "boolean"},
        "own_key_in_use": {"type": "boolean"},
    },
}


@operation(
    "GET",
    "/providers",
    summary="Providers you can use: enabled, tier, prices per image, whether your own key is set",
    tag="ai",
    responses={
        200: {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": PROVIDER_STATUS}},
        }
    },
)
def list_providers():
    return jsonify({"items": tiers.status_for(api_user())})
