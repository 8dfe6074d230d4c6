"""POST /api/sales: the fast path of a plain sale and the complete path it falls back to.

A plain sale (a whole-number body, no Idempotency-Key) is first offered to the fast path of
``sales.sell``; whatever it does not take must get exactly the answer the complete path
(SaleInput + ``record_sale``) gives, with nothing written by the attempt."""

from __future__ import annotations

import pytest
from rest_framework.renderers import JSONRenderer

from stockflow.api.limits import BIGINT_MAX as MAX_ID
from stockflow.api.limits import MAX_OPERATION_QUANTITY
from stockflow.inventory import sales
from stockflow.inventory.models import LedgerEntry, Sale, StockLevel
from stockflow.inventory.operations import StockOperationResult
from stockflow.inventory.serializers import (
    SaleSerializer,
    operation_result_data,
    plain_sale_input,
)
from stockflow.tenancy.models import Membership, Role
from stockflow.tenancy.scoping import TenantScope
from tests.factories import (
    assert_error,
    client_for,
    db_state,
    make_product,
    make_warehouse,
    put_stock,
    quantity_of,
    run_concurrently,
    without_same_company_keys,
)

SALES = "/api/sales"


def sell(client, body, **headers):
    return client.post(SALES, body, format="json", **headers)


@pytest.fixture
def fast_path(monkeypatch) -> list:
    """Every result of the fast path during the test (None: it stepped aside)."""
    results: list = []
    original = sales._sell_plain_level

    def spy(*args, **kwargs):
        result = original(*args, **kwargs)
        results.append(result)
        return result

    monkeypatch.setattr(sales, "_sell_plain_level", spy)
    return results


def stored_sale_body(sale_id: int) -> bytes:
    """The body the complete path renders, built by the serializers from the stored rows."""
    sale = Sale.objects.get(pk=sale_id)
    entries = list(LedgerEntry.objects.filter(reference_type="sale", reference_id=sale_id))
    return JSONRenderer().render(
        operation_result_data(StockOperationResult(sale, entries), SaleSerializer)
    )


def test_plain_sale_takes_the_fast_path_and_renders_the_serializers_body(tenant_a, shop, fast_path):
    response = sell(
        tenant_a.staff, {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 3}
    )

    assert response.status_code == 201, response.content
    assert len(fast_path) == 1 and fast_path[0] is not None
    # Byte for byte what SaleResultSerializer renders for the rows written: keys, order,
    # the price as an exact decimal string, ISO 8601 times.
    assert response.content == stored_sale_body(response.json()["id"])
    body = response.json()
    assert body["unit_price"] == "12.50"
    assert body["created_by_id"] == tenant_a.users["staff"].id
    [entry] = body["ledger_entries"]
    assert (entry["change"], entry["quantity_after"], entry["reason"]) == (-3, 97, "sale")
    assert (entry["reference_type"], entry["reference_id"]) == ("sale", body["id"])
    assert quantity_of(shop.mug, shop.main) == 97


def test_fast_and_complete_paths_answer_the_same_body(tenant_a, shop, settings):
    body = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 2}
    fast = sell(tenant_a.staff, body)
    settings.SALE_FAST_PATH = False
    complete = sell(tenant_a.staff, body)

    assert fast.status_code == complete.status_code == 201
    assert complete.content == stored_sale_body(complete.json()["id"])
    first, second = fast.json(), complete.json()
    changing = {"id", "sold_at", "created_at"}
    assert list(first) == list(second)
    assert {k: v for k, v in first.items() if k not in changing | {"ledger_entries"}} == {
        k: v for k, v in second.items() if k not in changing | {"ledger_entries"}
    }
    [fast_entry], [complete_entry] = first["ledger_entries"], second["ledger_entries"]
    assert list(fast_entry) == list(complete_entry)
    per_sale = changing | {"reference_id", "quantity_after"}
    assert {k: v for k, v in fast_entry.items() if k not in per_sale} == {
        k: v for k, v in complete_entry.items() if k not in per_sale
    }
    assert (fast_entry["quantity_after"], complete_entry["quantity_after"]) == (98, 96)


def test_a_sale_of_the_last_units_takes_the_fast_path(tenant_a, shop, fast_path):
    body = {"product_id": shop.coffee.id, "warehouse_id": shop.main.id, "quantity": 50}
    assert sell(tenant_a.staff, body).status_code == 201
    assert fast_path[0] is not None
    assert quantity_of(shop.coffee, shop.main) == 0


def test_admins_and_owners_take_the_fast_path_too(tenant_a, shop, fast_path):
    body = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 1}
    for client in (tenant_a.admin, tenant_a.owner):
        assert sell(client, body).status_code == 201
    assert len(fast_path) == 2 and None not in fast_path


# --- what the fast path leaves to the complete path --------------------------------------


def inactive_product(tenant_a, shop, other_shop):
    shop.mug.is_active = False
    shop.mug.save()
    return tenant_a.staff, {"product_id": shop.mug.id, "warehouse_id": shop.main.id}


def inactive_warehouse(tenant_a, shop, other_shop):
    shop.main.is_active = False
    shop.main.save()
    return tenant_a.staff, {"product_id": shop.mug.id, "warehouse_id": shop.main.id}


def foreign_product(tenant_a, shop, other_shop):
    return tenant_a.staff, {"product_id": other_shop.mug.id, "warehouse_id": other_shop.main.id}


def foreign_warehouse(tenant_a, shop, other_shop):
    return tenant_a.staff, {"product_id": shop.mug.id, "warehouse_id": other_shop.main.id}


def warehouse_of_another_company_of_the_caller(tenant_a, shop, other_shop):
    Membership.objects.create(
        user=tenant_a.users["staff"], company=other_shop.company, role=Role.STAFF
    )
    return tenant_a.staff, {"product_id": shop.mug.id, "warehouse_id": other_shop.main.id}


def viewer_here_staff_elsewhere(tenant_a, shop, other_shop):
    # Staff in another company: the fast path has a company to try, not this one.
    Membership.objects.create(
        user=tenant_a.users["viewer"], company=other_shop.company, role=Role.STAFF
    )
    return tenant_a.viewer, {"product_id": shop.mug.id, "warehouse_id": shop.main.id}


def viewer(tenant_a, shop, other_shop):
    return tenant_a.viewer, {"product_id": shop.mug.id, "warehouse_id": shop.main.id}


def missing_product(tenant_a, shop, other_shop):
    return tenant_a.staff, {"product_id": 999_999_999, "warehouse_id": shop.main.id}


def missing_warehouse(tenant_a, shop, other_shop):
    return tenant_a.staff, {"product_id": shop.mug.id, "warehouse_id": 999_999_999}


def short_stock(tenant_a, shop, other_shop):
    # 50 coffee bags in stock.
    return tenant_a.staff, {
        "product_id": shop.coffee.id,
        "warehouse_id": shop.main.id,
        "quantity": 51,
    }


def no_stock_level(tenant_a, shop, other_shop):
    return tenant_a.staff, {"product_id": shop.mug.id, "warehouse_id": shop.backup.id}


@pytest.mark.parametrize(
    ("case", "status", "code", "field"),
    [
        (inactive_product, 400, "validation_error", "product_id"),
        (inactive_warehouse, 400, "validation_error", "warehouse_id"),
        (foreign_product, 404, "not_found", None),
        (foreign_warehouse, 400, "validation_error", "warehouse_id"),
        (warehouse_of_another_company_of_the_caller, 400, "validation_error", "warehouse_id"),
        (viewer, 403, "permission_denied", None),
        (viewer_here_staff_elsewhere, 403, "permission_denied", None),
        (missing_product, 404, "not_found", None),
        (missing_warehouse, 400, "validation_error", "warehouse_id"),
        (short_stock, 409, "insufficient_stock", None),
        (no_stock_level, 409, "insufficient_stock", None),
    ],
)
def test_refusals_come_from_the_complete_path_and_write_nothing(
    tenant_a, shop, other_shop, fast_path, case, status, code, field
):
    # 5 units: the stock of every level involved holds them, except where it is the point.
    client, body = case(tenant_a, shop, other_shop)
    body = {"quantity": 5, **body}
    before = db_state()

    error = assert_error(sell(client, body), status, code)

    assert fast_path == [None]
    if field is not None:
        assert list(error["fields"]) == [field]
    if code == "insufficient_stock":
        [line] = error["lines"]
        assert line["requested"] == body["quantity"]
        assert line["available"] == quantity_of_body(body)
    assert db_state() == before


def quantity_of_body(body: dict) -> int:
    return (
        StockLevel.objects.filter(product_id=body["product_id"], warehouse_id=body["warehouse_id"])
        .values_list("quantity", flat=True)
        .first()
    ) or 0


def test_a_bundle_is_sold_by_the_complete_path(tenant_a, shop, fast_path):
    # Even with a stock level of its own (which the services never create for a bundle), the
    # fast path does not sell a bundle: its components are taken out.
    StockLevel.objects.create(
        company=shop.company, product=shop.gift_box, warehouse=shop.main, quantity=100
    )
    body = {"product_id": shop.gift_box.id, "warehouse_id": shop.main.id, "quantity": 2}

    response = sell(tenant_a.staff, body)

    assert response.status_code == 201, response.content
    assert fast_path == [None]
    assert sorted(e["product_id"] for e in response.json()["ledger_entries"]) == sorted(
        [shop.mug.id, shop.coffee.id]
    )
    assert quantity_of(shop.gift_box, shop.main) == 100
    assert (quantity_of(shop.mug, shop.main), quantity_of(shop.coffee, shop.main)) == (98, 46)


def test_a_product_and_warehouse_of_two_companies_are_never_sold_together(
    tenant_a, shop, other_shop, fast_path
):
    # A stock level whose product belongs to another company than its own (the services never
    # write one): the fast path's company checks refuse it, whatever the level says.
    Membership.objects.create(
        user=tenant_a.users["staff"], company=other_shop.company, role=Role.STAFF
    )
    with without_same_company_keys(StockLevel._meta.db_table):
        StockLevel.objects.create(
            company=shop.company, product=other_shop.coffee, warehouse=shop.main, quantity=100
        )
    before = db_state()
    body = {"product_id": other_shop.coffee.id, "warehouse_id": shop.main.id, "quantity": 1}

    error = assert_error(sell(tenant_a.staff, body), 400, "validation_error")

    assert fast_path == [None]
    assert list(error["fields"]) == ["warehouse_id"]
    assert db_state() == before


@pytest.mark.parametrize(
    "extra",
    [
        {"unit_price": "9.99"},
        {"sold_at": "2020-01-01T00:00:00Z"},
        {"quantity": "2"},
        {"product_id": "__mug__"},
    ],
)
def test_other_bodies_take_the_complete_path(tenant_a, shop, fast_path, extra):
    body = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 2, **extra}
    if body["product_id"] == "__mug__":
        body["product_id"] = str(shop.mug.id)

    response = sell(tenant_a.staff, body)

    assert response.status_code == 201, response.content
    assert fast_path == []
    assert quantity_of(shop.mug, shop.main) == 98


def test_a_sale_with_an_idempotency_key_takes_the_complete_path(tenant_a, shop, fast_path):
    body = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 1}
    first = sell(tenant_a.staff, body, HTTP_IDEMPOTENCY_KEY="k")
    retry = sell(tenant_a.staff, body, HTTP_IDEMPOTENCY_KEY="k")
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert fast_path == []
    assert quantity_of(shop.mug, shop.main) == 99


@pytest.mark.parametrize(
    "body",
    [
        {"product_id": 1, "warehouse_id": 2, "quantity": 0},
        {"product_id": 1, "warehouse_id": 2, "quantity": -1},
        {"product_id": 1, "warehouse_id": 2, "quantity": MAX_OPERATION_QUANTITY + 1},
        {"product_id": 1, "warehouse_id": 2, "quantity": True},
        {"product_id": 1, "warehouse_id": 2, "quantity": 1.0},
        {"product_id": 1, "warehouse_id": 2, "quantity": "1"},
        {"product_id": True, "warehouse_id": 2, "quantity": 1},
        {"product_id": 0, "warehouse_id": 2, "quantity": 1},
        {"product_id": MAX_ID + 1, "warehouse_id": 2, "quantity": 1},
        {"product_id": 1, "warehouse_id": 2**70, "quantity": 1},
        {"product_id": 1, "warehouse_id": None, "quantity": 1},
        {"product_id": 1, "warehouse_id": 2},
        {"product_id": 1, "warehouse_id": 2, "quantity": 1, "unit_price": "1.00"},
        {"product_id": 1, "warehouse_id": 2, "quantity": 1, "sold_at": None},
        {"product_id": 1, "warehouse_id": 2, "quantity": 1, "note": ""},
        [1, 2, 1],
        "product_id",
    ],
)
def test_plain_sale_input_takes_only_three_whole_numbers_within_bounds(body):
    assert plain_sale_input(body) is None


def test_plain_sale_input_bounds_are_inclusive():
    body = {"product_id": MAX_ID, "warehouse_id": 1, "quantity": MAX_OPERATION_QUANTITY}
    assert plain_sale_input(body) == (MAX_ID, 1, MAX_OPERATION_QUANTITY)


@pytest.mark.parametrize(
    ("quantity", "field"), [(0, "quantity"), (MAX_OPERATION_QUANTITY + 1, "quantity")]
)
def test_quantity_out_of_bounds_is_a_400_on_the_field(tenant_a, shop, quantity, field):
    before = db_state()
    body = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": quantity}
    error = assert_error(sell(tenant_a.staff, body), 400, "validation_error")
    assert list(error["fields"]) == [field]
    assert db_state() == before


def sell_plain_level(shop, quantity: int, roles: dict[int, str]):
    """The fast path alone, for a caller with ``roles``."""
    return sales._sell_plain_level(
        (shop.mug.id, shop.main.id),
        quantity,
        actor=None,
        scope=TenantScope(None, roles),
        role=Role.STAFF,
    )


def test_the_fast_path_refuses_without_a_company_and_writes_nothing(shop):
    before = db_state()
    assert sell_plain_level(shop, 1, {}) is None
    assert db_state() == before


def test_the_fast_path_sells_only_in_the_callers_companies(shop, other_shop):
    before = db_state()
    assert sell_plain_level(shop, 1, {other_shop.company.id: Role.STAFF}) is None
    assert sell_plain_level(shop, 1, {shop.company.id: Role.VIEWER}) is None
    assert db_state() == before

    sold = sell_plain_level(shop, 1, {other_shop.company.id: Role.STAFF, shop.company.id: "admin"})
    assert sold is not None
    sale, [entry] = sold.document, sold.ledger_entries
    assert (sale.company_id, entry.quantity_after, sale.created_by_id) == (
        shop.company.id,
        99,
        None,
    )
    assert Sale.objects.get(pk=sale.id).unit_price == sale.unit_price == shop.mug.price


def test_a_price_with_many_digits_keeps_them_exactly(tenant_a, shop, fast_path):
    pricey = make_product(shop.company, "PRICEY", price="9999999999.99")
    shelf = make_warehouse(shop.company, "SHELF")
    put_stock(pricey, shelf, 5)
    body = {"product_id": pricey.id, "warehouse_id": shelf.id, "quantity": 1}

    response = sell(tenant_a.staff, body)

    assert response.status_code == 201, response.content
    assert fast_path[0] is not None
    assert response.json()["unit_price"] == "9999999999.99"
    assert str(Sale.objects.get().unit_price) == "9999999999.99"


def test_a_demotion_stops_the_fast_path_on_the_next_request(tenant_a, shop, fast_path):
    from stockflow.tenancy.services import change_member_role

    body = {"product_id": shop.mug.id, "warehouse_id": shop.main.id, "quantity": 1}
    membership = Membership.objects.get(user=tenant_a.users["staff"], company=shop.company)
    assert sell(tenant_a.staff, body).status_code == 201

    change_member_role(membership, Role.VIEWER)
    before = db_state()
    assert_error(sell(tenant_a.staff, body), 403, "permission_denied")
    assert db_state() == before

    change_member_role(membership, Role.STAFF)
    assert sell(tenant_a.staff, body).status_code == 201
    assert [result is not None for result in fast_path] == [True, False, True]
    assert quantity_of(shop.mug, shop.main) == 98


def test_the_fast_path_refuses_a_quantity_out_of_bounds(shop):
    from rest_framework.exceptions import ValidationError

    before = db_state()
    for quantity in (0, MAX_OPERATION_QUANTITY + 1):
        with pytest.raises(ValidationError):
            sell_plain_level(shop, quantity, {shop.company.id: Role.STAFF})
    assert db_state() == before


@pytest.mark.django_db(transaction=True)
def test_concurrent_fast_sales_of_the_last_units(tenant_a, shop):
    """Ten clients race for five units: exactly five sales, the rest 409, stock at 0, and the
    ledger still adds up (``verify_stock``)."""
    from io import StringIO

    from django.core.management import call_command

    last = make_product(shop.company, "LAST")
    put_stock(last, shop.main, 5)
    body = {"product_id": last.id, "warehouse_id": shop.main.id, "quantity": 1}
    clients = [client_for(tenant_a.users["staff"]) for _ in range(10)]

    responses = run_concurrently([lambda c=c: sell(c, body) for c in clients])

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * 5 + [409] * 5
    after = sorted(
        r.json()["ledger_entries"][0]["quantity_after"]
        for r in responses[:]
        if r.status_code == 201
    )
    assert after == [0, 1, 2, 3, 4]
    assert quantity_of(last, shop.main) == 0
    call_command("verify_stock", stdout=StringIO())
