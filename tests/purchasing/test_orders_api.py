"""Purchase orders through the API: drafts, numbers, exact totals, the transition table,
filters, roles and bad input."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from stockflow.purchasing.models import PurchaseOrder, PurchaseOrderLine
from tests.factories import PURCHASE_WRITE_BUDGET, assert_error, query_budget
from tests.factories.purchasing import ORDERS, draft, order_url, placed, receive

pytestmark = pytest.mark.django_db


def create(client, warehouse, supplier, lines, **extra):
    return client.post(
        ORDERS,
        {"warehouse_id": warehouse.pk, "supplier_id": supplier.pk, "lines": lines, **extra},
        format="json",
    )


def test_a_draft_takes_the_next_number_and_the_links_costs(tenant_a, goods):
    warehouse, supplier, mug, tea = goods
    first = create(
        tenant_a.admin,
        warehouse,
        supplier,
        [{"product_id": mug.pk, "quantity": 3}, {"product_id": tea.pk, "quantity": 7}],
    )
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["number"] == "PO-000001"
    assert body["status"] == "draft"
    assert [(line["unit_cost"], line["line_total"]) for line in body["lines"]] == [
        ("2.5000", "7.5000"),
        ("0.3333", "2.3331"),
    ]
    assert body["total"] == "9.8331"  # exact, no float on the way
    assert body["supplier"]["name"] == "Acme Supply"
    second = create(tenant_a.admin, warehouse, supplier, [{"product_id": mug.pk, "quantity": 1}])
    assert second.json()["number"] == "PO-000002"


def test_numbers_are_per_company(tenant_a, goods, other_shop):
    warehouse, supplier, mug, _ = goods
    draft(supplier, warehouse, (mug, 1))
    theirs = draft(other_shop.supplier(), other_shop.warehouse())
    assert theirs.number == "PO-000001"


def test_a_given_cost_wins_and_an_unpriced_draft_cannot_be_ordered(tenant_a, shop, goods):
    warehouse, supplier, mug, _ = goods
    loose = shop.product("Loose")  # no link to the supplier: no cost to default to
    response = create(
        tenant_a.admin,
        warehouse,
        supplier,
        [
            {"product_id": mug.pk, "quantity": 2, "unit_cost": "1.1"},
            {"product_id": loose.pk, "quantity": 1},
        ],
    )
    body = response.json()
    assert [line["unit_cost"] for line in body["lines"]] == ["1.1000", None]
    assert body["total"] is None
    error = assert_error(
        tenant_a.admin.post(order_url(body["id"], "/order")), 400, "validation_error"
    )
    assert "lines" in error["fields"]
    assert PurchaseOrder.objects.get(pk=body["id"]).status == "draft"


def test_only_drafts_are_edited(tenant_a, goods):
    warehouse, supplier, mug, tea = goods
    order = draft(supplier, warehouse, (mug, 1))
    response = tenant_a.admin.patch(
        order_url(order),
        {"notes": "rush", "lines": [{"product_id": tea.pk, "quantity": 4}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["notes"] == "rush"
    assert [
        (line["product_id"], line["quantity_ordered"]) for line in response.json()["lines"]
    ] == [(tea.pk, 4)]
    tenant_a.admin.post(order_url(order, "/order"))
    error = assert_error(
        tenant_a.admin.patch(order_url(order), {"notes": "late"}, format="json"),
        409,
        "invalid_status",
    )
    assert error["status"] == "ordered"
    assert PurchaseOrder.objects.get(pk=order.pk).notes == "rush"


def test_placing_sets_the_expected_date_from_the_lead_time(tenant_a, goods):
    warehouse, supplier, mug, tea = goods
    order = draft(supplier, warehouse, (mug, 1), (tea, 1))
    body = tenant_a.admin.post(order_url(order, "/order"), {}, format="json").json()
    assert body["status"] == "ordered"
    assert body["ordered_at"] is not None
    today = timezone.now().date()
    assert body["expected_date"] == (today + timedelta(days=9)).isoformat()  # the longer one


TRANSITIONS = [
    # (how the order got there, action, answer)
    ("draft", "cancel", 200),
    ("draft", "close", 409),
    ("ordered", "order", 409),
    ("ordered", "cancel", 200),
    ("ordered", "close", 409),
    ("partially_received", "cancel", 409),
    ("partially_received", "close", 200),
    ("received", "cancel", 409),
    ("received", "close", 409),
    ("cancelled", "order", 409),
    ("closed", "cancel", 409),
]


def order_in(status, goods):
    warehouse, supplier, mug, tea = goods
    order = draft(supplier, warehouse, (mug, 5), (tea, 5))
    if status == "draft":
        return order
    if status == "cancelled":
        from stockflow.purchasing.services import cancel_order

        return cancel_order(order)
    from stockflow.purchasing.services import close_order, place_order

    order = place_order(order)
    if status in {"partially_received", "closed"}:
        order = receive(order, {mug: 2})
    if status == "closed":
        order = close_order(order)
    if status == "received":
        order = receive(order, {mug: 5, tea: 5})
    assert order.status == status
    return order


@pytest.mark.parametrize(("status", "action", "answer"), TRANSITIONS)
def test_the_transition_table(tenant_a, goods, status, action, answer):
    order = order_in(status, goods)
    response = tenant_a.admin.post(order_url(order, f"/{action}"), {}, format="json")
    if answer == 409:
        assert_error(response, 409, "invalid_status")
        assert PurchaseOrder.objects.get(pk=order.pk).status == status
    else:
        assert response.status_code == answer, response.content


def test_list_filters_and_ordering(tenant_a, goods, django_assert_max_num_queries):
    warehouse, supplier, mug, tea = goods
    today = timezone.now().date()
    late = placed(supplier, warehouse, (mug, 1), expected_date=today - timedelta(days=2))
    soon = placed(supplier, warehouse, (tea, 1), expected_date=today + timedelta(days=3))
    drafted = draft(supplier, warehouse, (mug, 2), (tea, 2))

    def ids(**query):
        response = tenant_a.viewer.get(ORDERS, query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [drafted.pk, soon.pk, late.pk]  # newest first
    assert ids(status="draft") == [drafted.pk]
    assert set(ids(status=["ordered", "draft"])) == {drafted.pk, soon.pk, late.pk}
    assert ids(product_id=tea.pk) == [drafted.pk, soon.pk]
    assert ids(overdue="true") == [late.pk]
    assert ids(expected_before=today.isoformat()) == [late.pk]
    assert ids(expected_after=today.isoformat()) == [soon.pk]
    assert ids(ordering="expected_date", status="ordered") == [late.pk, soon.pk]
    assert ids(ordering="-expected_date", status="ordered") == [soon.pk, late.pk]
    assert ids(supplier_id=supplier.pk, warehouse_id=warehouse.pk, page_size=1) == [drafted.pk]
    assert_error(tenant_a.viewer.get(ORDERS, {"status": "lost"}), 400, "validation_error")
    assert_error(tenant_a.viewer.get(ORDERS, {"overdue": "maybe"}), 400, "validation_error")

    for _ in range(5):
        draft(supplier, warehouse, (mug, 1), (tea, 1))
    with django_assert_max_num_queries(6):  # auth, count, page, suppliers/warehouses, lines
        assert tenant_a.viewer.get(ORDERS).status_code == 200


def test_one_order_with_its_lines(tenant_a, goods):
    warehouse, supplier, mug, _ = goods
    order = draft(supplier, warehouse, (mug, 3))
    body = tenant_a.viewer.get(order_url(order)).json()
    assert body["lines"][0]["sku"] == mug.sku
    assert body["lines"][0]["quantity_remaining"] == 3
    assert body["overdue"] is False


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -3}, "quantity"),
        ({"unit_cost": "1.23456"}, "unit_cost"),
        ({"unit_cost": "-1"}, "unit_cost"),
        ({"unit_cost": 1.00001}, "unit_cost"),
    ],
)
def test_bad_lines_are_400_naming_the_field(tenant_a, goods, line, field):
    warehouse, supplier, mug, _ = goods
    body = {"product_id": mug.pk, "quantity": 1, **line}
    error = assert_error(
        create(tenant_a.admin, warehouse, supplier, [body]), 400, "validation_error"
    )
    assert field in error["fields"]["lines"]["0"]
    assert not PurchaseOrder.objects.exists()


def test_products_of_another_company_or_bundles_are_refused(tenant_a, shop, goods, other_shop):
    warehouse, supplier, mug, _ = goods
    bundle = shop.product("Kit", bundle=True)
    foreign = other_shop.product("Theirs")
    for product in (bundle, foreign):
        error = assert_error(
            create(
                tenant_a.admin, warehouse, supplier, [{"product_id": product.pk, "quantity": 1}]
            ),
            400,
            "validation_error",
        )
        assert "product_id" in error["fields"]["lines"]["0"]
    duplicate = [{"product_id": mug.pk, "quantity": 1}, {"product_id": mug.pk, "quantity": 2}]
    error = assert_error(
        create(tenant_a.admin, warehouse, supplier, duplicate), 400, "validation_error"
    )
    assert "lines" in error["fields"]
    assert not PurchaseOrder.objects.exists()


def test_a_supplier_or_warehouse_of_another_company(tenant_a, goods, other_shop):
    warehouse, supplier, mug, _ = goods
    line = [{"product_id": mug.pk, "quantity": 1}]
    assert_error(create(tenant_a.admin, other_shop.warehouse(), supplier, line), 404, "not_found")
    error = assert_error(
        create(tenant_a.admin, warehouse, other_shop.supplier(), line), 400, "validation_error"
    )
    assert "supplier_id" in error["fields"]
    order = draft(supplier, warehouse, (mug, 1))
    error = assert_error(
        tenant_a.admin.patch(
            order_url(order), {"warehouse_id": other_shop.warehouse().pk}, format="json"
        ),
        400,
        "validation_error",
    )
    assert "warehouse_id" in error["fields"]
    assert not PurchaseOrder.objects.exclude(pk=order.pk).exists()


def test_roles(tenant_a, goods):
    warehouse, supplier, mug, _ = goods
    line = [{"product_id": mug.pk, "quantity": 1}]
    for client in (tenant_a.staff, tenant_a.viewer):
        assert_error(create(client, warehouse, supplier, line), 403, "permission_denied")
    order = draft(supplier, warehouse, (mug, 1))
    assert_error(tenant_a.staff.post(order_url(order, "/order")), 403, "permission_denied")
    assert tenant_a.viewer.get(order_url(order)).status_code == 200
    assert tenant_a.owner.post(order_url(order, "/order")).status_code == 200
    line_id = PurchaseOrderLine.objects.get(order=order).pk
    receipt = {"lines": [{"line_id": line_id, "quantity": 1}]}
    assert_error(
        tenant_a.viewer.post(order_url(order, "/receipts"), receipt, format="json"),
        403,
        "permission_denied",
    )
    with query_budget(PURCHASE_WRITE_BUDGET):
        response = tenant_a.staff.post(order_url(order, "/receipts"), receipt, format="json")
    assert response.status_code == 201


def test_expected_date_is_a_date(tenant_a, goods):
    warehouse, supplier, mug, _ = goods
    response = create(
        tenant_a.admin,
        warehouse,
        supplier,
        [{"product_id": mug.pk, "quantity": 1}],
        expected_date="soon",
    )
    assert "expected_date" in assert_error(response, 400, "validation_error")["fields"]
    ok = create(
        tenant_a.admin,
        warehouse,
        supplier,
        [{"product_id": mug.pk, "quantity": 1}],
        expected_date=date(2031, 1, 2).isoformat(),
    )
    assert ok.json()["expected_date"] == "2031-01-02"
