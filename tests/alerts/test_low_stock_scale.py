"""The report's query count does not grow with the data, and large answers stay right."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from stockflow.alerts.selectors import low_stock_alerts
from tests.alerts.dataset import build_dataset, expected_alerts
from tests.alerts.report import report_url

# Token lookup, the caller's memberships, the report itself: whatever the size of the data.
QUERY_BUDGET = 3


@pytest.mark.parametrize("scale", [1, 10])
def test_query_count_is_fixed_whatever_the_size(tenant_a, django_assert_max_num_queries, scale):
    dataset = build_dataset(tenant_a.company, seed=99, now=timezone.now(), scale=scale)
    # Hundreds of rows, then ten times as many.
    assert 300 * scale <= dataset.row_count <= 1500 * scale, dataset.row_count
    url = report_url(tenant_a.company.pk)

    with django_assert_max_num_queries(QUERY_BUDGET):
        full = tenant_a.viewer.get(url)
    with django_assert_max_num_queries(QUERY_BUDGET):
        page = tenant_a.viewer.get(url, {"limit": 7, "offset": 5, "days": 90})
    with django_assert_max_num_queries(QUERY_BUDGET):
        filtered = tenant_a.viewer.get(url, {"warehouse_id": dataset.warehouses[0].pk})

    body = full.json()
    assert body["total_alerts"] >= 10 * scale  # the alerts grow with the data
    expected = expected_alerts(dataset, now=datetime.fromisoformat(body["as_of"]))
    assert body["alerts"] == expected
    page_body = page.json()
    expected_90 = expected_alerts(dataset, now=datetime.fromisoformat(page_body["as_of"]), days=90)
    assert (page_body["alerts"], page_body["total_alerts"]) == (expected_90[5:12], len(expected_90))
    assert filtered.status_code == 200
    assert {a["warehouse_id"] for a in filtered.json()["alerts"]} == {dataset.warehouses[0].pk}


def test_the_report_is_one_query(tenant_a, django_assert_num_queries):
    now = timezone.now()
    build_dataset(tenant_a.company, seed=5, now=now)

    with django_assert_num_queries(1):
        page = low_stock_alerts(company_id=tenant_a.company.pk, now=now, limit=3, offset=2)

    assert len(page.rows) == 3
    assert page.total > 3
