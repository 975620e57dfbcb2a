"""Block-list matching and moderation-answer parsing, without a database or a server."""

from __future__ import annotations

from types import SimpleNamespace

import pytest


@pytest.mark.parametrize(
    ("term", "text", "hit"),
    [
        ("gore", "Lots of GORE tonight", True),
        ("gore", "a gorgeous evening", False),
        ("blood bath", "a blood-bath at the opera", True),
        ("blood bath", "blood\n  bath", True),
        ("blood bath", "bloodbath", False),
        ("c++", "c code", False),
    ],
)
def test_terms_match_whole_words_across_spaces_and_punctuation(term, text, hit):
    from webapp.services.prompt_screen import _pattern

    assert bool(_pattern(term).search(text)) is hit


def test_parse_splits_lines_and_commas_lowercases_and_drops_repeats():
    from webapp.services.prompt_screen import parse

    assert parse("Blood  Bath\n gore , \n\nblood bath,GORE") == ["blood bath", "gore"]


def _result(**fields):
    base = {
        "flagged": True,
        "categories": SimpleNamespace(model_dump=lambda **_: {"violence": True, "hate": False}),
        "category_scores": SimpleNamespace(model_dump=lambda **_: {"violence": 0.9, "hate": 0.01}),
        "category_applied_input_types": SimpleNamespace(model_dump=lambda **_: {"violence": ["image"]}),
    }
    base.update(fields)
    return SimpleNamespace(results=[SimpleNamespace(**base)])


def test_parse_reads_flagged_categories_and_refuses_shapes_it_cannot_read():
    from webapp.providers.moderation_openai import MalformedAnswer, parse

    ok = parse(_result())
    assert ok.flagged and ok.categories == ["violence"] and ok.scores["hate"] == 0.01
    assert ok.applied == {"violence": ["image"]}
    with pytest.raises(MalformedAnswer):
        parse(SimpleNamespace(results=None))
    with pytest.raises(MalformedAnswer):
        parse(_result(flagged=None))
    with pytest.raises(MalformedAnswer):
        parse(_result(category_scores=SimpleNamespace(model_dump=lambda **_: {"violence": "high"})))
