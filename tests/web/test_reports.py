"""The dashboard's figures and the low-stock page give the same answers as the API."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from stockflow.inventory.models import Sale, StockLevel
from stockflow.inventory.sales import record_sale
from stockflow.tenancy.models import Role
from stockflow.web import selectors

pytestmark = pytest.mark.django_db


def test_dashboard_counts_and_stock_value(shop, pages):
    counts = selectors.dashboard_counts(shop.company.pk)
    assert (counts.products, counts.warehouses, counts.out_of_stock) == (3, 2, 1)
    # Velvet (0) is below the type's threshold of 10; the others are above it.
    assert counts.below_threshold == 1
    value = selectors.stock_value(shop.company.pk)
    harbor = StockLevel.objects.get(product=shop.products[0]).quantity
    alpine = StockLevel.objects.get(product=shop.products[1]).quantity
    # Harbor at its primary supplier's 4.00 (not the cheaper 3.00); Alpine has no primary:
    # its cheapest, 5.00; Velvet holds nothing.
    assert value.value == Decimal("4.00") * harbor + Decimal("5.00") * alpine
    assert (value.units_valued, value.units_without_cost) == (harbor + alpine, 0)
    html = pages[Role.VIEWER].get(f"/c/{shop.company.pk}/").content.decode()
    assert f'data-count="stock-value">{value.value:,.2f}<' in html
    assert 'data-count="out-of-stock">1<' in html
    assert "<svg" in html and "10 units sold in 90 days" in html


def test_units_sold_per_day_fills_the_days_without_sales(shop):
    series = selectors.units_sold_per_day(shop.company.pk, now=timezone.now(), days=10)
    assert len(series) == 10
    assert sum(units for _, units in series) == 10  # 5 days × 2 products × 1 unit
    assert series[0][0] < series[-1][0]
    main_only = selectors.units_sold_per_day(
        shop.company.pk, now=timezone.now(), days=10, warehouse_id=shop.east.pk
    )
    assert sum(units for _, units in main_only) == 0


def test_chart_of_one_warehouse_is_an_htmx_fragment(shop, pages):
    response = pages[Role.VIEWER].get(
        f"/c/{shop.company.pk}/?warehouse={shop.east.pk}", HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="sales-chart"')
    assert "0 units sold in 90 days" in html


def test_low_stock_page_shows_the_api_report(shop, tenant_a, pages):
    c = shop.company.pk
    record_sale(product=shop.products[1], warehouse=shop.main, quantity=12)  # 8 left, below 10
    api = tenant_a.viewer.get(f"/api/companies/{c}/alerts/low-stock?days=7&cover_days=14").json()
    html = pages[Role.VIEWER].get(f"/c/{c}/low-stock/?days=7&cover_days=14").content.decode()
    assert api["total_alerts"] == 1
    assert f'data-total="alerts">{api["total_alerts"]}<' in html
    for alert in api["alerts"]:
        assert alert["sku"] in html
        assert f'<td class="num">{alert["avg_daily_sales"]}</td>' in html
        assert f'<td class="num">{alert["suggested_reorder_quantity"]}</td>' in html


def test_low_stock_filters_are_validated_like_the_api(shop, pages):
    html = pages[Role.VIEWER].get(f"/c/{shop.company.pk}/low-stock/?days=0").content.decode()
    assert "Ensure this value is greater than or equal to 1." in html
    assert re.search(r'data-total="alerts">0<', html)


def test_company_chart_adds_new_and_backdated_sales_to_its_cached_sum(shop):
    now = timezone.now()
    # The shop's sales are settled (recorded an hour ago): summed once, then cached.
    Sale.objects.update(created_at=now - timedelta(hours=1))
    first = dict(selectors.units_sold_per_day(shop.company.pk, now=now, days=10))
    assert sum(first.values()) == 10
    # A new sale and one dated three days back (recorded now, so with a higher id).
    record_sale(product=shop.mug, warehouse=shop.main, quantity=4)
    record_sale(product=shop.mug, warehouse=shop.main, quantity=2, sold_at=now - timedelta(days=3))
    later = dict(selectors.units_sold_per_day(shop.company.pk, now=timezone.now(), days=10))
    assert sum(later.values()) == 16
    assert later[(now - timedelta(days=3)).date()] == first[(now - timedelta(days=3)).date()] + 2
    # The same answer as summing every sale again.
    cache.clear()
    assert dict(selectors.units_sold_per_day(shop.company.pk, now=timezone.now(), days=10)) == later
