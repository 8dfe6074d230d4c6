"""The body of a stock operation's 201 is what its serializers say: ``operation_result_data``
renders ``SaleSerializer`` / ``MovementSerializer`` and ``LedgerEntrySerializer`` exactly as
DRF's own ``.data`` does (keys, order, sources, formats, nulls), for every kind of result."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer

from stockflow.inventory.movements import adjust_stock, receive_stock, transfer_stock
from stockflow.inventory.operations import StockOperationResult
from stockflow.inventory.sales import record_sale, sell
from stockflow.inventory.serializers import (
    LedgerEntrySerializer,
    MovementSerializer,
    SaleRequestBody,
    SaleResultSerializer,
    SaleSerializer,
    operation_result_data,
    render,
)
from stockflow.tenancy.models import Role
from stockflow.tenancy.scoping import TenantScope

pytestmark = pytest.mark.django_db


def drf_body(result: StockOperationResult, serializer_class) -> bytes:
    data = dict(serializer_class(result.document).data)
    data["ledger_entries"] = LedgerEntrySerializer(result.ledger_entries, many=True).data
    return JSONRenderer().render(data)


def results(tenant_a, shop):
    staff = tenant_a.users["staff"]
    scope = TenantScope(staff, {shop.company.id: Role.STAFF})
    plain = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 2}
    yield (
        "fast sale",
        SaleSerializer,
        sell(SaleRequestBody(plain, dict), actor=staff, scope=scope, role=Role.STAFF),
    )
    yield (
        "sale",
        SaleSerializer,
        record_sale(
            product=shop.mug,
            warehouse=shop.main,
            quantity=1,
            unit_price=Decimal("3.5"),
            actor=None,
        ),
    )
    yield (
        "bundle sale",
        SaleSerializer,
        record_sale(product=shop.gift_box, warehouse=shop.main, quantity=1, actor=staff),
    )
    yield (
        "receipt",
        MovementSerializer,
        receive_stock(
            product=shop.mug, warehouse=shop.backup, quantity=4, external_reference="PO-7"
        ),
    )
    yield (
        "count",
        MovementSerializer,
        adjust_stock(product=shop.coffee, warehouse=shop.main, reason="count", counted_quantity=40),
    )
    yield (
        "unchanged count",
        MovementSerializer,
        adjust_stock(product=shop.coffee, warehouse=shop.main, reason="count", counted_quantity=40),
    )
    yield (
        "transfer",
        MovementSerializer,
        transfer_stock(
            product=shop.mug, from_warehouse=shop.main, to_warehouse=shop.backup, quantity=3
        ),
    )


def test_every_result_renders_as_its_serializers_do(tenant_a, shop):
    seen = []
    for name, serializer_class, result in results(tenant_a, shop):
        body = JSONRenderer().render(operation_result_data(result, serializer_class))
        assert body == drf_body(result, serializer_class), name
        seen.append(name)
    assert len(seen) == 7


def test_the_fast_path_result_is_the_stored_rows(tenant_a, shop):
    """The fast path's result objects hold what was stored: rendered from the rows read back,
    the body is the same."""
    from stockflow.inventory.models import LedgerEntry, Sale

    staff = tenant_a.users["staff"]
    scope = TenantScope(staff, {shop.company.id: Role.STAFF})
    plain = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 2}
    result = sell(SaleRequestBody(plain, dict), actor=staff, scope=scope, role=Role.STAFF)
    stored = StockOperationResult(
        Sale.objects.get(pk=result.document.id),
        list(LedgerEntry.objects.filter(reference_type="sale", reference_id=result.document.id)),
    )
    assert operation_result_data(result, SaleSerializer) == operation_result_data(
        stored, SaleSerializer
    )


def test_only_flat_serializers_are_rendered():
    with pytest.raises(TypeError, match="ledger_entries"):
        render(SaleResultSerializer, object())
