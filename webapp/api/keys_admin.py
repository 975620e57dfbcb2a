"""API: a producer's own provider keys, and (admins) AI providers and usage statistics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import jsonify, request

from webapp.admin.forms import MAX_BUDGET, parse_money, validate_base_url
from webapp.api.core import ApiProblem, api_user, json_body, not_found, operation, validation_error
from webapp.api.schemas import ref
from webapp.api.serializers import iso
from webapp.models import UserKey
from webapp.providers import REGISTRY
from webapp.services import keys as key_service
from webapp.services import ledger
from webapp.services import providers as provider_service
from webapp.services.budget import month_spend
from webapp.services.pricing import tier_of

ERR = ref("Problem")
PROVIDER = {
    "name": "provider",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": ["openai", "gemini", "runway", "huggingface", "local"]},
}
KEY_PROVIDER = {
    "name": "provider",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": ["openai", "gemini", "runway", "huggingface"]},
}


def _key_json(row: UserKey) -> dict:
    return {
        "provider": row.provider,
        "key_suffix": row.key_suffix,
        "use_own": row.use_own,
        "allow_fallback": row.allow_fallback,
        "last_validation_ok": row.last_validation_ok,
        "last_validation_message": row.last_validation_message,
        "last_validated_at": iso(row.last_validated_at),
        "last_used_at": iso(row.last_used_at),
    }


@operation(
    "GET",
    "/api-keys",
    summary="Your own provider keys (suffixes only)",
    tag="keys",
    responses={
        200: {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": ref("UserKey")}},
        }
    },
)
def list_api_keys():
    return jsonify({"items": [_key_json(r) for r in key_service.user_keys(api_user()).values()]})


@operation(
    "POST",
    "/api-keys",
    summary="Add or replace your key for a provider (tested before saving)",
    scope="write",
    tag="keys",
    body={
        "json": {
            "type": "object",
            "required": ["provider", "key"],
            "properties": {
                "provider": {"type": "string", "enum": ["openai", "gemini", "runway", "huggingface"]},
                "key": {"type": "string", "minLength": 8, "maxLength": 512},
                "use_own": {"type": "boolean"},
            },
        }
    },
    responses={201: ref("UserKey"), 422: ERR},
)
def add_api_key():
    body = json_body()
    provider, key = body.get("provider"), body.get("key")
    if provider not in key_service.KEY_PROVIDERS:
        raise validation_error({"provider": ["Choose openai, gemini, runway or huggingface."]})
    if not isinstance(key, str):
        raise validation_error({"key": ["Paste the whole key as a string."]})
    try:
        row = key_service.add_user_key(api_user(), provider, key)
    except key_service.KeyRefused as exc:
        raise validation_error({"key": [str(exc)]}, str(exc)) from None
    if "use_own" in body:
        key_service.set_use_own(row, bool(body["use_own"]))
    return jsonify(_key_json(row)), 201


def _own_key(provider: str) -> UserKey:
    row = key_service.user_keys(api_user()).get(provider)
    if row is None:
        raise not_found()
    return row


@operation(
    "PATCH",
    "/api-keys/{provider}",
    summary="Choose whether to use your own key",
    scope="write",
    tag="keys",
    parameters=[KEY_PROVIDER],
    body={
        "json": {
            "type": "object",
            "properties": {"use_own": {"type": "boolean"}, "allow_fallback": {"type": "boolean"}},
        }
    },
    responses={200: ref("UserKey"), 404: ERR, 422: ERR},
)
def update_api_key(provider: str):
    row = _own_key(provider)
    body = json_body()
    for field in ("use_own", "allow_fallback"):
        if field in body and not isinstance(body[field], bool):
            raise validation_error({field: ["Must be true or false."]})
    key_service.set_use_own(row, body.get("use_own", row.use_own), body.get("allow_fallback"))
    return jsonify(_key_json(row))


@operation(
    "DELETE",
    "/api-keys/{provider}",
    summary="Delete your key for a provider",
    scope="write",
    tag="keys",
    parameters=[KEY_PROVIDER],
    responses={204: None, 404: ERR},
)
def delete_api_key(provider: str):
    key_service.delete_user_key(_own_key(provider))
    return "", 204


@operation(
    "POST",
    "/api-keys/{provider}/validate",
    summary="Test your key now",
    scope="write",
    tag="keys",
    parameters=[KEY_PROVIDER],
    responses={200: ref("UserKey"), 404: ERR, 409: ERR},
)
def validate_api_key(provider: str):
    row = _own_key(provider)
    try:
        key_service.test_user_key(row)
    except key_service.KeyUnreadable as exc:
        raise _unreadable(exc) from None
    return jsonify(_key_json(row))


def _unreadable(exc: key_service.KeyUnreadable) -> ApiProblem:
    return ApiProblem(409, "Key cannot be decrypted", str(exc), slug="key-unreadable")


# ------------------------------------------------------------------------------------------------ admin


def _provider_json(p) -> dict:
    spent, reserved = month_spend(p.id)
    spec = REGISTRY[p.name].spec if p.name in REGISTRY else None
    return {
        "name": p.name,
        "display_name": spec.display_name if spec else p.name,
        "model": p.model,
        "models": list(spec.models) if spec else [p.model],
        "enabled": p.enabled,
        "is_default": p.is_default,
        "fallback_order": p.fallback_order,
        "default_quality": p.default_quality,
        "key_suffix": p.key_suffix,
        "base_url": p.base_url,
        "images_per_minute": p.images_per_minute,
        "user_images_per_hour": p.user_images_per_hour,
        "monthly_budget": str(p.monthly_budget) if p.monthly_budget is not None else None,
        "alert_percent": p.alert_percent,
        "month_spend": str(spent + reserved),
        "last_test_ok": p.last_test_ok,
        "last_test_message": p.last_test_message,
        "last_tested_at": iso(p.last_tested_at),
        "price_table": p.price_table or {},
        "tier": tier_of(p, p.name),
        "options": p.options or {},
    }


def _provider(name: str):
    provider_service.ensure_providers()
    row = provider_service.get_provider(name)
    if row is None:
        raise not_found()
    return row


@operation(
    "GET",
    "/admin/ai-models",
    summary="AI providers and their settings",
    tag="admin",
    admin=True,
    responses={
        200: {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": ref("Provider")}},
        },
        404: ERR,
    },
)
def list_ai_models():
    return jsonify({"items": [_provider_json(p) for p in provider_service.ensure_providers()]})


PROVIDER_PATCH = {
    "type": "object",
    "properties": {
        "model": {"type": "string"},
        "enabled": {"type": "boolean"},
        "fallback_order": {"type": "integer"},
        "default_quality": {"type": "string", "enum": ["low", "medium", "high"]},
        "base_url": {"type": ["string", "null"]},
        "images_per_minute": {"type": "integer", "minimum": 1},
        "user_images_per_hour": {"type": "integer", "minimum": 0},
        "monthly_budget": {"type": ["string", "number", "null"]},
        "alert_percent": {"type": "integer", "minimum": 1, "maximum": 100},
        "tier": {"type": "string", "enum": ["free", "budget", "premium"]},
        "routing": {"type": "string", "description": "Hugging Face only: hf-inference, auto, fal-ai, ..."},
        "key": {"type": "string", "description": "set or replace the platform key (tested first)"},
    },
}


@operation(
    "POST",
    "/admin/ai-models",
    summary="Configure a provider (create-or-update by name)",
    scope="write",
    tag="admin",
    admin=True,
    body={
        "json": {
            **PROVIDER_PATCH,
            "required": ["name"],
            "properties": {
                **PROVIDER_PATCH["properties"],
                "name": {"type": "string", "enum": ["openai", "gemini", "runway", "huggingface", "local"]},
            },
        }
    },
    responses={200: ref("Provider"), 404: ERR, 422: ERR},
)
def configure_ai_model():
    body = json_body()
    name = body.pop("name", None)
    if name not in REGISTRY:
        raise validation_error({"name": [f"Choose one of {', '.join(REGISTRY)}."]})
    return _patch_provider(_provider(name), body)


@operation(
    "PATCH",
    "/admin/ai-models/{provider}",
    summary="Change a provider's settings or key",
    scope="write",
    tag="admin",
    admin=True,
    parameters=[PROVIDER],
    body={"json": PROVIDER_PATCH},
    responses={200: ref("Provider"), 404: ERR, 422: ERR},
)
def update_ai_model(provider: str):
    return _patch_provider(_provider(provider), json_body())


def _patch_provider(row, body: dict):
    errors: dict[str, list[str]] = {}
    changes: dict = {}
    spec = REGISTRY[row.name].spec
    unknown = set(body) - set(PROVIDER_PATCH["properties"])
    for k in unknown:
        errors[k] = ["Unknown field."]
    if "model" in body:
        if not isinstance(body["model"], str) or not REGISTRY[row.name].accepts_model(body["model"]):
            errors["model"] = [f"Choose one of {', '.join(spec.models)}."]
        else:
            changes["model"] = body["model"]
    for field, lo, hi in (
        ("fallback_order", 0, 1000),
        ("images_per_minute", 1, 100_000),
        ("user_images_per_hour", 0, 100_000),
        ("alert_percent", 1, 100),
    ):
        if field in body:
            v = body[field]
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                errors[field] = [f"A whole number from {lo} to {hi}."]
            else:
                changes[field] = v
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            errors["enabled"] = ["true or false."]
        else:
            changes["enabled"] = body["enabled"]
    if "default_quality" in body:
        if body["default_quality"] not in ("low", "medium", "high"):
            errors["default_quality"] = ["low, medium or high."]
        else:
            changes["default_quality"] = body["default_quality"]
    if "base_url" in body:
        url = body["base_url"]
        if url is not None and not isinstance(url, str):
            errors["base_url"] = ["An http(s) URL, or null for the provider's own."]
        else:
            try:
                changes["base_url"] = validate_base_url(url, row.name)
            except ValueError as exc:  # includes BaseUrlRefused: the host is not allow-listed
                errors["base_url"] = [str(exc)]
    if "monthly_budget" in body:
        v = body["monthly_budget"]
        # The admin page's parser: same digits-only rule, places and ceiling, human messages.
        if isinstance(v, bool) or not isinstance(v, str | int | float | None):
            errors["monthly_budget"] = ["A non-negative amount in USD, or null for no budget."]
        else:
            try:
                changes["monthly_budget"] = parse_money(
                    None if v is None else str(v), places=2, maximum=MAX_BUDGET
                )
            except ValueError as exc:
                errors["monthly_budget"] = [f"{exc} (USD, or null for no budget)"]
    if "tier" in body:
        if body["tier"] not in ("free", "budget", "premium"):
            errors["tier"] = ["free, budget or premium."]
        else:
            changes["tier"] = body["tier"]
    if "routing" in body:
        from webapp.providers.huggingface_provider import ROUTINGS

        if row.name != "huggingface" or body["routing"] not in ROUTINGS:
            errors["routing"] = [f"Hugging Face only: one of {', '.join(ROUTINGS)}."]
        else:
            changes["options"] = {**(row.options or {}), "routing": body["routing"]}
    if "key" in body and not isinstance(body["key"], str):
        errors["key"] = ["Paste the key as a string."]
    if errors:
        raise validation_error(errors)
    # Settings first: a new base URL clears the stored key, and a key sent in the same request is
    # then tested against (and saved for) the new URL.
    if changes:
        provider_service.update_settings(row, changes, api_user())
    if "key" in body:
        try:
            key_service.set_platform_key(row, body["key"], api_user())
        except key_service.KeyRefused as exc:
            raise validation_error({"key": [str(exc)]}, str(exc)) from None
    return jsonify(_provider_json(row))


@operation(
    "POST",
    "/admin/ai-models/{provider}/test",
    summary="Test the platform key now",
    scope="write",
    tag="admin",
    admin=True,
    parameters=[PROVIDER],
    responses={200: ref("Provider"), 404: ERR, 409: ERR},
)
def test_ai_model(provider: str):
    row = _provider(provider)
    try:
        key_service.test_platform_key(row, api_user())
    except key_service.KeyUnreadable as exc:
        raise _unreadable(exc) from None
    return jsonify(_provider_json(row))


@operation(
    "POST",
    "/admin/ai-models/{provider}/set-default",
    summary="Make this the default provider",
    scope="write",
    tag="admin",
    admin=True,
    parameters=[PROVIDER],
    responses={200: ref("Provider"), 404: ERR, 409: ERR},
)
def set_default_ai_model(provider: str):
    row = _provider(provider)
    try:
        provider_service.set_default(row, api_user())
    except provider_service.RoutingError as exc:
        raise ApiProblem(409, "Cannot make default", str(exc), slug="conflict") from None
    return jsonify(_provider_json(row))


DATE = {"type": "string", "format": "date"}


@operation(
    "GET",
    "/admin/usage-stats",
    summary="Spend and images per provider per day",
    tag="admin",
    admin=True,
    parameters=[
        {"name": "start_date", "in": "query", "schema": DATE},
        {"name": "end_date", "in": "query", "schema": DATE},
    ],
    responses={
        200: {
            "type": "object",
            "required": ["start_date", "end_date", "days", "totals"],
            "properties": {
                "start_date": DATE,
                "end_date": DATE,
                "days": {"type": "array", "items": {"type": "object"}},
                "totals": {"type": "object"},
                "top_users": {"type": "array", "items": {"type": "object"}},
            },
        },
        404: ERR,
        422: ERR,
    },
)
def usage_stats():
    today = datetime.now(UTC).date()
    try:
        start = date.fromisoformat(request.args.get("start_date") or today.replace(day=1).isoformat())
        end = date.fromisoformat(request.args.get("end_date") or today.isoformat())
    except ValueError:
        raise validation_error({"start_date": ["Use YYYY-MM-DD dates."]}) from None
    if start > end or (end - start).days > 366:
        raise validation_error(
            {"end_date": ["end_date must be on or after start_date, at most 366 days later."]}
        )
    lo = datetime.combine(start, datetime.min.time(), UTC)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC)
    days = [
        {**d, "cost": str(d["cost"]), "own_key_cost": str(d["own_key_cost"])} for d in ledger.daily(lo, hi)
    ]
    totals = ledger.totals(lo, hi)
    totals_json = {
        "platform": str(totals["platform"]),
        "own_key": str(totals["own_key"]),
        "images": totals["images"],
        "requests": totals["requests"],
        "by_provider": {k: {**v, "cost": str(v["cost"])} for k, v in totals["by_provider"].items()},
        "by_tier": {k: {**v, "cost": str(v["cost"])} for k, v in totals["by_tier"].items()},
        "by_media": {k: {**v, "cost": str(v["cost"])} for k, v in totals["by_media"].items()},
    }
    top = [{"email": e, "cost": str(c), "images": i} for e, c, i in ledger.top_users(lo, hi)]
    return jsonify(
        {
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "days": days,
            "totals": totals_json,
            "top_users": top,
        }
    )
