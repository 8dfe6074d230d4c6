"""Stock operations as people and programs request them: for each, the input serializer that
validates the request, what must be committed before its transaction (missing stock levels,
``levels``), and the service call. Defined once here; the API views and the web app's forms
both run them, so they cannot disagree on what a receipt, an adjustment, a transfer or a sale
does with its input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

from stockflow.inventory import levels, movements, sales
from stockflow.inventory.operations import StockOperationResult
from stockflow.inventory.serializers import (
    AdjustmentInput,
    ReceiptInput,
    SaleInput,
    TransferInput,
)


@dataclass(frozen=True)
class StockCommand:
    """``input_serializer`` validates the request; ``prepare(data)`` returns the work to
    commit before the operation's transaction (or None); ``run(data, actor)`` performs it."""

    input_serializer: type[serializers.Serializer]
    prepare: Callable[[dict], Callable[[], None] | None]
    run: Callable[[dict, Any], StockOperationResult]


def _nothing_to_prepare(data: dict) -> None:
    return None


RECEIVE = StockCommand(
    ReceiptInput,
    prepare=lambda data: levels.prepare_receipt(
        company_id=data["product_id"].company_id,
        product_id=data["product_id"].id,
        warehouse_id=data["warehouse_id"].id,
    ),
    run=lambda data, actor: movements.receive_stock(
        product=data["product_id"],
        warehouse=data["warehouse_id"],
        quantity=data["quantity"],
        external_reference=data["reference"],
        note=data["note"],
        actor=actor,
    ),
)

ADJUST = StockCommand(
    AdjustmentInput,
    prepare=lambda data: levels.prepare_adjustment(
        company_id=data["product_id"].company_id,
        product_id=data["product_id"].id,
        warehouse_id=data["warehouse_id"].id,
        change=data.get("change"),
        counted_quantity=data.get("counted_quantity"),
    ),
    run=lambda data, actor: movements.adjust_stock(
        product=data["product_id"],
        warehouse=data["warehouse_id"],
        reason=data["reason"],
        change=data.get("change"),
        counted_quantity=data.get("counted_quantity"),
        note=data["note"],
        actor=actor,
    ),
)

TRANSFER = StockCommand(
    TransferInput,
    prepare=lambda data: levels.prepare_transfer(
        company_id=data["product_id"].company_id,
        product_id=data["product_id"].id,
        to_warehouse_id=data["to_warehouse_id"].id,
    ),
    run=lambda data, actor: movements.transfer_stock(
        product=data["product_id"],
        from_warehouse=data["from_warehouse_id"],
        to_warehouse=data["to_warehouse_id"],
        quantity=data["quantity"],
        note=data["note"],
        actor=actor,
    ),
)

# The API's POST /api/sales goes through ``sales.sell`` (its fast path needs the raw body);
# a validated sale, as the web app's form gives it, is this.
SELL = StockCommand(
    SaleInput,
    prepare=_nothing_to_prepare,
    run=lambda data, actor: sales.record_sale(
        product=data["product_id"],
        warehouse=data["warehouse_id"],
        quantity=data["quantity"],
        unit_price=data.get("unit_price"),
        sold_at=data.get("sold_at"),
        actor=actor,
    ),
)
