"""Each stock level carries its product's effective low-stock threshold (its own, else its
type's; none: null), kept by the services in the transaction of the change that affects it:
level creation, a product's threshold or type, a product type's threshold."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import transaction

from stockflow.catalog.models import Product, ProductType
from stockflow.inventory.catalog_stock import update_product, update_product_type
from stockflow.inventory.levels import ensure_stock_levels
from stockflow.inventory.models import StockLevel
from stockflow.inventory.movements import adjust_stock, receive_stock, transfer_stock
from stockflow.inventory.selectors import stock_invariant_violations
from tests.factories import (
    PRODUCT_WRITE_BUDGET,
    make_product,
    make_warehouse,
    put_stock,
    run_concurrently,
)


def thresholds(product: Product) -> dict[str, int | None]:
    """The threshold each stock level of the product carries, by warehouse code."""
    return dict(
        StockLevel.objects.filter(product=product).values_list(
            "warehouse__code", "low_stock_threshold"
        )
    )


def assert_thresholds_verified() -> None:
    check = next(c for c in stock_invariant_violations() if c.name == "threshold")
    assert check.violations == 0, check.samples


def fresh(product: Product) -> Product:
    return Product.objects.get(pk=product.pk)


@pytest.fixture
def stocked(shop):
    """The mug (type Kitchen, 20) and the coffee (its own 60, no type) in both warehouses."""
    put_stock(shop.mug, shop.backup, 5)
    put_stock(shop.coffee, shop.backup, 5)
    return shop


# --- creation ------------------------------------------------------------------------------


def test_initial_stock_takes_the_effective_threshold(shop):
    untyped = make_product(shop.company)
    put_stock(untyped, shop.main, 5)

    assert thresholds(shop.mug) == {"MAIN": 20}  # its type's
    assert thresholds(shop.coffee) == {"MAIN": 60}  # its own
    assert thresholds(untyped) == {"MAIN": None}  # none
    assert_thresholds_verified()


def test_levels_created_by_stock_operations_take_the_effective_threshold(shop):
    third = make_warehouse(shop.company, "THIRD")
    receive_stock(product=shop.mug, warehouse=shop.backup, quantity=3)
    transfer_stock(product=shop.coffee, from_warehouse=shop.main, to_warehouse=third, quantity=4)
    adjust_stock(product=shop.coffee, warehouse=shop.backup, reason="count", counted_quantity=2)

    assert thresholds(shop.mug) == {"MAIN": 20, "BACKUP": 20}
    assert thresholds(shop.coffee) == {"MAIN": 60, "THIRD": 60, "BACKUP": 60}
    assert_thresholds_verified()


def test_level_created_through_the_api_takes_the_effective_threshold(tenant_a, shop):
    # The API creates the missing level before its transaction (levels.ensure_stock_levels).
    response = tenant_a.staff.post(
        "/api/stock/receipts",
        {"product_id": shop.mug.id, "warehouse_id": shop.backup.id, "quantity": 5},
        format="json",
    )
    assert response.status_code == 201, response.content

    assert thresholds(shop.mug) == {"MAIN": 20, "BACKUP": 20}


def test_product_created_through_the_api_has_a_level_with_its_threshold(tenant_a, shop):
    kind = ProductType.objects.get(name="Kitchen")
    payload = {
        "name": "Teapot",
        "sku": "TEAPOT",
        "price": "30.00",
        "warehouse_id": shop.main.pk,
        "initial_quantity": 3,
        "product_type_id": kind.pk,
    }
    response = tenant_a.admin.post(
        "/api/products", payload, format="json", max_queries=PRODUCT_WRITE_BUDGET
    )
    assert response.status_code == 201, response.content

    assert thresholds(Product.objects.get(sku="TEAPOT")) == {"MAIN": 20}


# --- product changes -----------------------------------------------------------------------


def test_product_threshold_change_updates_all_its_levels(stocked):
    update_product(stocked.mug, low_stock_threshold=5)

    assert thresholds(stocked.mug) == {"MAIN": 5, "BACKUP": 5}
    assert thresholds(stocked.coffee) == {"MAIN": 60, "BACKUP": 60}  # untouched
    assert_thresholds_verified()


def test_product_threshold_removed_falls_back_to_its_type(stocked):
    update_product(stocked.mug, low_stock_threshold=5)
    update_product(fresh(stocked.mug), low_stock_threshold=None)
    update_product(stocked.coffee, low_stock_threshold=None)  # no type: no threshold

    assert thresholds(stocked.mug) == {"MAIN": 20, "BACKUP": 20}
    assert thresholds(stocked.coffee) == {"MAIN": None, "BACKUP": None}
    assert_thresholds_verified()


def test_product_type_change_updates_its_levels_unless_it_has_its_own(stocked):
    bar = ProductType.objects.create(company=stocked.company, name="Bar", low_stock_threshold=35)

    update_product(stocked.mug, product_type=bar)
    update_product(stocked.coffee, product_type=bar)  # its own 60 still decides

    assert thresholds(stocked.mug) == {"MAIN": 35, "BACKUP": 35}
    assert thresholds(stocked.coffee) == {"MAIN": 60, "BACKUP": 60}
    assert_thresholds_verified()


def test_product_type_removal_leaves_the_product_without_threshold(stocked):
    update_product(stocked.mug, product_type=None)

    assert thresholds(stocked.mug) == {"MAIN": None, "BACKUP": None}
    assert_thresholds_verified()


def test_threshold_change_of_a_bundle_touches_no_level(stocked):
    update_product(stocked.gift_box, low_stock_threshold=3)

    assert not StockLevel.objects.filter(product=stocked.gift_box).exists()
    assert thresholds(stocked.mug) == {"MAIN": 20, "BACKUP": 20}
    assert_thresholds_verified()


# --- product type changes ------------------------------------------------------------------


def test_type_threshold_change_updates_the_levels_that_inherit_it(stocked, other_shop):
    kind = ProductType.objects.get(company=stocked.company, name="Kitchen")
    overriding = make_product(stocked.company, product_type=kind, low_stock_threshold=3)
    put_stock(overriding, stocked.main, 1)
    other_kind = ProductType.objects.create(company=stocked.company, name="Bar")
    other_typed = make_product(stocked.company, product_type=other_kind)
    put_stock(other_typed, stocked.main, 1)

    update_product_type(kind, low_stock_threshold=45)

    assert thresholds(stocked.mug) == {"MAIN": 45, "BACKUP": 45}
    assert thresholds(overriding) == {"MAIN": 3}
    assert thresholds(other_typed) == {"MAIN": None}
    assert thresholds(stocked.coffee) == {"MAIN": 60, "BACKUP": 60}
    assert thresholds(other_shop.mug) == {"MAIN": 20}  # its own company's Kitchen type
    assert_thresholds_verified()

    update_product_type(kind, low_stock_threshold=None)

    assert thresholds(stocked.mug) == {"MAIN": None, "BACKUP": None}
    assert thresholds(overriding) == {"MAIN": 3}
    assert_thresholds_verified()


def test_renaming_a_type_keeps_the_thresholds(stocked):
    kind = ProductType.objects.get(company=stocked.company, name="Kitchen")

    update_product_type(kind, name="Kitchenware")

    assert thresholds(stocked.mug) == {"MAIN": 20, "BACKUP": 20}


def test_threshold_changes_through_the_api(tenant_a, stocked):
    kind = ProductType.objects.get(company=stocked.company, name="Kitchen")
    inheriting = make_product(stocked.company, product_type=kind)
    put_stock(inheriting, stocked.backup, 1)

    product = tenant_a.admin.patch(
        f"/api/products/{stocked.mug.pk}", {"low_stock_threshold": 7}, format="json"
    )
    product_type = tenant_a.admin.patch(
        f"/api/product-types/{kind.pk}", {"low_stock_threshold": 8}, format="json"
    )

    assert (product.status_code, product_type.status_code) == (200, 200)
    assert thresholds(stocked.mug) == {"MAIN": 7, "BACKUP": 7}  # its own now
    assert thresholds(inheriting) == {"BACKUP": 8}
    assert_thresholds_verified()


# --- races (PostgreSQL: READ COMMITTED, row locks) -----------------------------------------


def _while_uncommitted(change, started: threading.Event, hold: float = 0.5):
    """Run ``change`` in a transaction that stays open ``hold`` seconds after it, so another
    thread acts while it is uncommitted."""

    def run() -> None:
        with transaction.atomic():
            change()
            started.set()
            time.sleep(hold)

    return run


def _after(event: threading.Event, action):
    def run() -> None:
        assert event.wait(10)
        action()

    return run


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_level_created_during_a_product_threshold_change_gets_the_new_one(shop):
    # The change's UPDATE cannot see a level inserted after it; the creation reads the
    # threshold again under the product's lock, after the change committed.
    started = threading.Event()
    run_concurrently(
        [
            _while_uncommitted(
                lambda: update_product(fresh(shop.mug), low_stock_threshold=7), started
            ),
            _after(
                started,
                lambda: ensure_stock_levels(shop.mug.company_id, [(shop.mug.pk, shop.backup.pk)]),
            ),
        ]
    )

    assert thresholds(shop.mug) == {"MAIN": 7, "BACKUP": 7}
    assert_thresholds_verified()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_threshold_change_during_an_uncommitted_level_creation_sees_the_level(shop):
    # The creation holds the product FOR SHARE until it commits: the change waits, then its
    # UPDATE sees the new level.
    started = threading.Event()
    run_concurrently(
        [
            _while_uncommitted(
                lambda: ensure_stock_levels(shop.mug.company_id, [(shop.mug.pk, shop.backup.pk)]),
                started,
            ),
            _after(started, lambda: update_product(fresh(shop.mug), low_stock_threshold=7)),
        ]
    )

    assert thresholds(shop.mug) == {"MAIN": 7, "BACKUP": 7}
    assert_thresholds_verified()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_level_created_during_a_type_threshold_change_gets_the_new_one(shop):
    kind = ProductType.objects.get(company=shop.company, name="Kitchen")
    started = threading.Event()
    run_concurrently(
        [
            _while_uncommitted(lambda: update_product_type(kind, low_stock_threshold=33), started),
            _after(
                started,
                lambda: ensure_stock_levels(shop.mug.company_id, [(shop.mug.pk, shop.backup.pk)]),
            ),
        ]
    )

    assert thresholds(shop.mug) == {"MAIN": 33, "BACKUP": 33}
    assert_thresholds_verified()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_type_change_and_type_threshold_change_together_do_not_deadlock(shop):
    # Both lock the product's stock levels first: one waits for the other, no cycle.
    kind = ProductType.objects.get(company=shop.company, name="Kitchen")
    bar = ProductType.objects.create(company=shop.company, name="Bar", low_stock_threshold=35)
    put_stock(shop.mug, shop.backup, 1)
    started = threading.Event()
    run_concurrently(
        [
            _while_uncommitted(lambda: update_product(fresh(shop.mug), product_type=bar), started),
            _after(started, lambda: update_product_type(kind, low_stock_threshold=44)),
        ]
    )

    assert thresholds(shop.mug) == {"MAIN": 35, "BACKUP": 35}
    assert_thresholds_verified()
