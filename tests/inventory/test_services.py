"""The stock services called directly, as an import or the demo loader does."""

from __future__ import annotations

import pytest
from django.db import transaction

from stockflow.inventory.movements import adjust_stock, receive_stock, transfer_stock
from stockflow.inventory.operations import InsufficientStock
from stockflow.inventory.sales import record_sale
from tests.inventory.conftest import db_state, quantity_of


def refused_operations(shop):
    return [
        lambda: record_sale(product=shop.mug, warehouse=shop.main, quantity=1000),
        lambda: record_sale(product=shop.gift_box, warehouse=shop.main, quantity=1000),
        lambda: record_sale(product=shop.mug, warehouse=shop.backup, quantity=1),
        lambda: transfer_stock(
            product=shop.coffee, from_warehouse=shop.main, to_warehouse=shop.backup, quantity=51
        ),
        lambda: adjust_stock(product=shop.mug, warehouse=shop.main, reason="loss", change=-101),
    ]


@pytest.mark.parametrize("index", range(5))
def test_a_refusal_leaves_the_callers_transaction_usable(shop, index):
    """A caller inside its own transaction may catch InsufficientStock and go on: nothing
    was written and its transaction is not broken (no savepoint needed for that)."""
    before = db_state()
    with transaction.atomic():
        with pytest.raises(InsufficientStock):
            refused_operations(shop)[index]()
        assert db_state() == before
        record_sale(product=shop.mug, warehouse=shop.main, quantity=1)
    assert quantity_of(shop.mug, shop.main) == 99


def test_direct_calls_create_missing_levels(shop):
    """Outside the API nothing creates the level beforehand: the service does it."""
    receive_stock(product=shop.mug, warehouse=shop.backup, quantity=3)
    transfer_stock(
        product=shop.coffee, from_warehouse=shop.main, to_warehouse=shop.backup, quantity=4
    )
    adjust_stock(
        product=shop.gift_box.components.first().component,
        warehouse=shop.backup,
        reason="count",
        counted_quantity=9,
    )
    assert quantity_of(shop.mug, shop.backup) == 9
    assert quantity_of(shop.coffee, shop.backup) == 4


def test_a_warehouse_deleted_meanwhile_is_a_conflict_not_a_crash(shop):
    """A warehouse without history may be deleted with its empty stock levels while a
    receipt into it is under way: the receipt is answered 409, nothing is written."""
    from stockflow.api.errors import Conflict
    from stockflow.catalog.models import Warehouse

    doomed = Warehouse.objects.get(pk=shop.backup.pk)
    Warehouse.objects.filter(pk=doomed.pk).delete()
    before = db_state()
    with pytest.raises(Conflict):
        receive_stock(product=shop.mug, warehouse=doomed, quantity=1)
    assert db_state() == before
