"""Which stock levels an operation creates before its transaction: the service layer decides
(``inventory.levels``), the views only pass the request's ids."""

from __future__ import annotations

from stockflow.inventory.levels import (
    ensure_stock_levels,
    prepare_adjustment,
    prepare_receipt,
    prepare_transfer,
)


def prepared_keys(prepare) -> list[tuple[int, int]] | None:
    if prepare is None:
        return None
    assert prepare.func is ensure_stock_levels
    assert prepare.args[0] == 9  # the company
    return prepare.args[1]


def test_a_receipt_and_a_transfer_create_the_level_they_fill():
    assert prepared_keys(prepare_receipt(company_id=9, product_id=1, warehouse_id=2)) == [(1, 2)]
    assert prepared_keys(prepare_transfer(company_id=9, product_id=1, to_warehouse_id=3)) == [
        (1, 3)
    ]


def test_an_adjustment_creates_its_level_only_when_it_may_add_units():
    key = {"company_id": 9, "product_id": 1, "warehouse_id": 2}
    assert prepared_keys(prepare_adjustment(**key, change=4)) == [(1, 2)]
    assert prepared_keys(prepare_adjustment(**key, counted_quantity=7)) == [(1, 2)]
    assert prepared_keys(prepare_adjustment(**key, change=-4)) is None
    assert prepared_keys(prepare_adjustment(**key, counted_quantity=0)) is None
