"""Bulk prompts in: pasted lines or a CSV/text upload, cleaned, checked and de-duplicated."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from webapp.params import parse_int
from webapp.services.generation import IMAGE_TYPES, STYLES

MAX_PROMPTS = 500
MAX_PROMPT_CHARS = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class ParsedPrompt:
    line: int
    prompt: str
    image_type: str | None = None
    style: str | None = None
    variations: int | None = None


@dataclass
class ParseResult:
    prompts: list[ParsedPrompt] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # blocking: fix before starting
    notes: list[str] = field(default_factory=list)  # informational (blank lines ignored…)
    duplicates: int = 0  # how many of the problems are repeated prompts (offer "Remove duplicates")


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", _CONTROL.sub("", text)).strip()


def parse_prompts(
    text: str = "", upload: bytes | None = None, filename: str = "", drop_duplicates: bool = False
) -> ParseResult:
    """One prompt per line, or a .txt / .csv file (a `prompt` column, optional `type`, `style`,
    `variations`). Blank lines are ignored; over-long lines, duplicates and lines that are only
    whitespace are flagged before anything is spent. With `drop_duplicates` (the producer pressed
    "Remove duplicates") a repeated prompt is left out and listed in the notes instead."""
    result = ParseResult()
    rows: list[tuple[int, dict[str, str]]] = []
    if upload is not None:
        try:
            content = upload.decode("utf-8-sig")
        except UnicodeDecodeError:
            result.problems.append(
                "The file is not UTF-8 text. Save it as UTF-8 (.txt or .csv) and upload again."
            )
            return result
        if filename.lower().endswith(".csv"):
            reader = csv.DictReader(io.StringIO(content))
            fields = [f.strip().lower() for f in (reader.fieldnames or [])]
            if "prompt" not in fields:
                result.problems.append("The CSV needs a header row with a `prompt` column.")
                return result
            for n, row in enumerate(reader, start=2):
                rows.append((n, {k.strip().lower(): (v or "") for k, v in row.items() if k}))
        else:
            rows = [(n, {"prompt": line}) for n, line in enumerate(content.splitlines(), start=1)]
    else:
        rows = [(n, {"prompt": line}) for n, line in enumerate((text or "").splitlines(), start=1)]

    seen: dict[str, int] = {}
    dropped: list[int] = []
    blank = 0
    for n, row in rows:
        raw = row.get("prompt", "")
        if raw == "":
            blank += 1
            continue
        prompt = _clean(raw)
        if not prompt:
            result.problems.append(f"Line {n} is only whitespace: delete it or write a prompt.")
            continue
        if len(prompt) > MAX_PROMPT_CHARS:
            result.problems.append(f"Line {n} is {len(prompt)} characters; the limit is {MAX_PROMPT_CHARS}.")
            continue
        key = prompt.casefold()
        if key in seen:
            if drop_duplicates:
                dropped.append(n)
            else:
                result.problems.append(f"Line {n} repeats line {seen[key]}: remove the duplicate.")
                result.duplicates += 1
            continue
        seen[key] = n
        item = ParsedPrompt(n, prompt)
        kind = (row.get("type") or "").strip().lower()
        if kind:
            if kind not in IMAGE_TYPES:
                result.problems.append(f"Line {n}: type must be poster, square or banner (got {kind!r}).")
            item.image_type = kind
        style = (row.get("style") or "").strip().lower()
        if style:
            if style not in STYLES:
                result.problems.append(f"Line {n}: unknown style {style!r}; use one of {', '.join(STYLES)}.")
            item.style = style
        var = (row.get("variations") or "").strip()
        if var:
            count = parse_int(var, lo=1, hi=4)
            if count is None:
                result.problems.append(f"Line {n}: variations must be 1 to 4 (got {var!r}).")
            else:
                item.variations = count
        result.prompts.append(item)
    if blank:
        result.notes.append(f"{blank} blank line{'s' if blank != 1 else ''} ignored.")
    if dropped:
        plural = "s" if len(dropped) != 1 else ""
        lines = ", ".join(str(n) for n in dropped[:10]) + ("…" if len(dropped) > 10 else "")
        result.notes.append(f"{len(dropped)} repeated prompt{plural} left out (line{plural} {lines}).")
    if len(result.prompts) > MAX_PROMPTS:
        result.problems.append(f"{len(result.prompts)} prompts: a batch holds at most {MAX_PROMPTS}.")
    if not result.prompts and not result.problems:
        result.problems.append("Paste at least one prompt, one per line.")
    return result
