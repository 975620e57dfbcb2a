"""Whole numbers from query strings, form fields and paths: one strict parser for every route.

Why one module: Python's own tools are too lenient for input from a URL. `str.isdigit()` is true
for "²" (and `int("²")` then raises), `int()` accepts " 7 ", "+7", "1_000" and other scripts'
digits ("١٢"), and `request.args.get(..., type=int)` lets 99999999999999999999 through to
Postgres, which answers "bigint out of range" as a 500. Every id, page number and cursor a route
reads goes through `parse_int` here, so they all accept ASCII digits within a known range and
nothing else.

The pure functions return None for anything they refuse; the `*_arg` helpers turn a refusal
into the HTTP answer a page gives (400 for a malformed or out-of-range number, 404 for an id that
no row can have). The API turns the same refusals into problem+json (webapp/api/core.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from werkzeug.exceptions import BadRequest, NotFound

# Every table's id is a Postgres `integer` (int4) column, so no row has a larger id; the path
# converter (webapp/__init__.py) and the API's OpenAPI document use the same bound.
MAX_ID = 2**31 - 1
# A page number past this is a typo or a probe; no listing here has that many pages.
MAX_PAGE = 100_000

_ASCII_DIGITS = re.compile(r"[0-9]+")
_MAX_DIGITS = 20  # longer strings are refused before int() so a megabyte of digits costs nothing


def parse_int(raw: Any, *, lo: int, hi: int) -> int | None:
    """`raw` as an int when it is ASCII digits only (no sign, space or underscore) and within
    lo..hi; None for anything else, including None and the empty string."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if lo <= raw <= hi else None
    if not isinstance(raw, str) or len(raw) > _MAX_DIGITS or not _ASCII_DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if lo <= value <= hi else None


def parse_id(raw: Any) -> int | None:
    """An object id (1..MAX_ID), or None."""
    return parse_int(raw, lo=1, hi=MAX_ID)


def parse_ids(raws: Iterable[Any], limit: int) -> list[int]:
    """The valid ids among the first `limit` values (checkbox lists): the rest are dropped, the
    same as a box naming an object that is not there."""
    out: list[int] = []
    for i, raw in enumerate(raws):
        if i >= limit:
            break
        value = parse_id(raw)
        if value is not None:
            out.append(value)
    return out


def _args(source: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if source is not None:
        return source
    from flask import request

    return request.args


def id_arg(name: str, source: Mapping[str, Any] | None = None) -> int | None:
    """The id in query parameter `name` (or in `source`, e.g. request.values): None when absent
    or empty; 400 when it is not a whole number; 404 when it is one no row can have (the same
    answer as a well-formed id that names nothing)."""
    raw = _args(source).get(name)
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > _MAX_DIGITS or not _ASCII_DIGITS.fullmatch(raw):
        raise BadRequest(f"The {name} parameter must be a whole number (an id).")
    value = parse_id(raw)
    if value is None:
        raise NotFound()
    return value


def int_arg(name: str, default: int, *, lo: int, hi: int, source: Mapping[str, Any] | None = None) -> int:
    """A whole number from query parameter `name` within lo..hi (`default` when absent or empty);
    400 with a message naming the parameter and its range otherwise."""
    raw = _args(source).get(name)
    if raw is None or raw == "":
        return default
    value = parse_int(raw, lo=lo, hi=hi)
    if value is None:
        raise BadRequest(f"The {name} parameter must be a whole number from {lo} to {hi:,}.")
    return value


def page_arg(name: str = "page") -> int:
    """A 1-based page number (1 when absent); 400 when malformed or past MAX_PAGE."""
    return int_arg(name, 1, lo=1, hi=MAX_PAGE)
