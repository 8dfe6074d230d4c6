"""One generated dataset, one checked-in answer: the same on SQLite and on PostgreSQL.

``make test`` runs this file on both databases; each run must match
``fixtures/low_stock_expected.json``, so both give the same answer. The answer is also
checked against the plain-Python reading of the rules in ``dataset.expected_alerts``.

After an intended change of the report, regenerate the fixture with
``STOCKFLOW_WRITE_FIXTURES=1 .venv/bin/pytest tests/alerts/test_low_stock_same_answer.py``
and review the diff.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from django.utils import timezone

from tests.alerts.dataset import build_dataset, expected_alerts, stable_alert
from tests.alerts.report import report_url

SEED = 20260917
FIXTURE = Path(__file__).parent / "fixtures" / "low_stock_expected.json"

# Each report is asked with these parameters; "warehouse" and "product_type" name rows by
# their stable code and name, turned into ids of this database.
QUERIES: list[dict] = [
    {},
    {"days": 7, "cover_days": 14},
    {"days": 365, "cover_days": 0},
    {"days": 1},
    {"warehouse": "WH-2"},
    {"warehouse": "WH-4"},  # the inactive warehouse: nothing
    {"product_type": "Type 1", "days": 60, "limit": 5, "offset": 3},
    {"limit": 10, "offset": 20},
]


def test_same_answer_on_every_database(tenant_a):
    now = timezone.now()
    dataset = build_dataset(tenant_a.company, seed=SEED, now=now)
    warehouse_ids = {w.code: w.pk for w in dataset.warehouses}
    type_ids = {t.name: t.pk for t in dataset.product_types}

    reports = []
    for query in QUERIES:
        params = {k: v for k, v in query.items() if k not in {"warehouse", "product_type"}}
        if "warehouse" in query:
            params["warehouse_id"] = warehouse_ids[query["warehouse"]]
        if "product_type" in query:
            params["product_type_id"] = type_ids[query["product_type"]]
        response = tenant_a.viewer.get(report_url(tenant_a.company.pk), params)
        assert response.status_code == 200, response.content[:500]
        body = response.json()

        everything = expected_alerts(
            dataset,
            now=datetime.fromisoformat(body["as_of"]),
            days=params.get("days", 30),
            cover_days=params.get("cover_days", 30),
            warehouse_id=params.get("warehouse_id"),
            product_type_id=params.get("product_type_id"),
        )
        offset = params.get("offset", 0)
        assert body["total_alerts"] == len(everything), query
        assert body["alerts"] == everything[offset : offset + params.get("limit", 10**9)], query

        reports.append(
            {
                "query": query,
                "total_alerts": body["total_alerts"],
                "alerts": [stable_alert(alert, dataset, now.date()) for alert in body["alerts"]],
            }
        )

    answer = {"seed": SEED, "reports": reports}
    if os.environ.get("STOCKFLOW_WRITE_FIXTURES") == "1":
        FIXTURE.write_text(json.dumps(answer, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    assert answer == json.loads(FIXTURE.read_text())


def test_the_checked_in_answer_covers_the_rules():
    """The fixture is worth comparing against: it holds the cases the rules are about."""
    reports = json.loads(FIXTURE.read_text())["reports"]
    default = reports[0]["alerts"]
    assert len(default) >= 20
    assert any(alert["supplier"] is None for alert in default)
    assert any(alert["supplier"] is not None for alert in default)
    assert any(alert["current_stock"] == 0 for alert in default)
    assert any(alert["current_stock"] > 0 for alert in default)
    assert any(alert["suggested_reorder_quantity"] == 0 for r in reports for alert in r["alerts"])
    assert any(alert["on_order"] > 0 for alert in default)
    assert any(alert["on_draft"] > 0 for alert in default)
    assert any(alert["next_expected_in_days"] is not None for alert in default)
    assert any(alert["stockout_before_delivery"] for alert in default)
    assert not all(alert["stockout_before_delivery"] for alert in default)
    assert len({alert["warehouse_code"] for alert in default}) == 3  # never the inactive one
    assert [r["total_alerts"] for r in reports if r["query"] == {"warehouse": "WH-4"}] == [0]
    assert all(r["total_alerts"] > 0 for r in reports if r["query"] != {"warehouse": "WH-4"})
