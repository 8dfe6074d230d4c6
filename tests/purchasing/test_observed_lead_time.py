"""The observed lead time of a supplier link: the average days from ordered to fully
received over its last 5 received orders, kept when an order is fully received."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from stockflow.catalog.lead_times import effective_lead_time_days, effective_lead_time_sql
from stockflow.catalog.models import ProductSupplier
from stockflow.purchasing.models import PurchaseOrder
from tests.factories.purchasing import placed, receive

pytestmark = pytest.mark.django_db


def received_after(days: int, supplier, warehouse, product) -> None:
    order = placed(supplier, warehouse, (product, 1))
    PurchaseOrder.objects.filter(pk=order.pk).update(
        ordered_at=timezone.now() - timedelta(days=days)
    )
    order.refresh_from_db()
    receive(order, {product: 1})


def test_average_of_the_last_five_received_orders(tenant_a, goods):
    warehouse, supplier, mug, _ = goods
    link = ProductSupplier.objects.get(product=mug, supplier=supplier)
    assert (link.observed_lead_time_days, link.observed_orders) == (None, 0)

    for days in (30, 2, 3):
        received_after(days, supplier, warehouse, mug)
    link.refresh_from_db()
    assert (link.observed_lead_time_days, link.observed_orders) == (12, 3)  # 35 / 3 → 12
    assert effective_lead_time_days(link) == 12

    for days in (4, 5, 6):  # the 30-day order falls out of the last five
        received_after(days, supplier, warehouse, mug)
    link.refresh_from_db()
    assert (link.observed_lead_time_days, link.observed_orders) == (4, 5)

    body = tenant_a.viewer.get(f"/api/product-suppliers/{link.pk}").json()
    assert (body["observed_lead_time_days"], body["observed_orders"]) == (4, 5)
    assert body["lead_time_days"] == 4  # the configured one is unchanged


def test_a_partial_receipt_is_not_observed(goods):
    warehouse, supplier, mug, _ = goods
    order = placed(supplier, warehouse, (mug, 5))
    receive(order, {mug: 2})
    assert ProductSupplier.objects.get(product=mug, supplier=supplier).observed_orders == 0


@pytest.mark.parametrize(
    ("configured", "observed", "orders", "expected"),
    [(7, None, 0, 7), (7, 20, 2, 7), (7, 20, 3, 20), (7, 0, 5, 0)],
)
def test_the_rule_in_python_and_sql_agree(goods, configured, observed, orders, expected):
    _warehouse, supplier, mug, _ = goods
    ProductSupplier.objects.filter(product=mug).update(
        lead_time_days=configured, observed_lead_time_days=observed, observed_orders=orders
    )
    link = ProductSupplier.objects.get(product=mug, supplier=supplier)
    from django.db.models.expressions import RawSQL

    table = ProductSupplier._meta.db_table
    in_sql = (
        ProductSupplier.objects.filter(pk=link.pk)
        .annotate(lead=RawSQL(effective_lead_time_sql(table), ()))
        .values_list("lead", flat=True)
        .get()
    )
    assert effective_lead_time_days(link) == in_sql == expected
