"""The offline banner's new size is priced on installs whose provider row predates it."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from webapp.services.pricing import PriceMissing, unit_price

OLD_LOCAL_TABLE = {"procedural-v1": {s: dict.fromkeys(("low", "medium", "high"), "0") for s in
                                     ("1024x1024", "1024x1536", "1536x1024")}}  # fmt: skip


def test_a_size_added_to_a_priced_model_costs_its_list_price():
    row = SimpleNamespace(price_table=OLD_LOCAL_TABLE)
    assert unit_price(row, "local", "procedural-v1", "2160x1089", "medium") == Decimal("0")


def test_gaps_an_admin_left_are_still_refused():
    table = {"gpt-image-1.5": {"1024x1024": {"low": "0.01"}}}
    row = SimpleNamespace(price_table=table)
    with pytest.raises(PriceMissing):  # the size is in the table but not this quality
        unit_price(row, "openai", "gpt-image-1.5", "1024x1024", "high")
    with pytest.raises(PriceMissing):  # a model the table does not price
        unit_price(row, "openai", "gpt-image-1-mini", "1024x1024", "low")
    with pytest.raises(PriceMissing):  # a size with no list price either
        unit_price(row, "openai", "gpt-image-1.5", "4096x4096", "low")
