"""Checks shared by the suite: the one error shape, and snapshots of what a refused request
must leave untouched."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, models

from stockflow.accounts.models import Invitation
from stockflow.api.models import IdempotencyKey
from stockflow.catalog.models import (
    BundleComponent,
    Product,
    ProductSupplier,
    ProductType,
    Supplier,
    Warehouse,
)
from stockflow.dataio.models import ImportJob
from stockflow.inventory.models import LedgerEntry, Sale, StockEvent, StockLevel, StockMovement
from stockflow.notifications.models import WebhookDelivery, WebhookEndpoint
from stockflow.prepared import as_written
from stockflow.purchasing.models import PurchaseOrder, PurchaseOrderCounter, PurchaseOrderLine
from stockflow.tenancy.dbcontext import without_settings
from stockflow.tenancy.models import ApiToken, Company, Membership


@contextmanager
def without_same_company_keys(*tables: str) -> Iterator[None]:
    """Let raw SQL write, in ``tables``, a row that references a row of another company, as
    data written before the same-company keys (or on SQLite, which has none) could: on
    PostgreSQL those keys are dropped inside the test's transaction (rolled back with it)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Deferred foreign-key checks must run before the tables can be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in tables:
                cursor.execute(
                    "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass"
                    " AND conname LIKE '%%_same_company'",
                    [table],
                )
                for (name,) in cursor.fetchall():
                    cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    yield


def written_sql(logged: str) -> str:
    """A statement of Django's query log as the application wrote it: without the settings
    that ride with a transaction's first statement (``tenancy.dbcontext``), and as its text
    rather than the ``PREPARE``/``EXECUTE`` that ran it (``stockflow.prepared``)."""
    return as_written(without_settings(logged))


def assert_error(response, status: int, code: str) -> dict:
    """Every error under /api/ has the one JSON shape."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def db_state() -> dict:
    """Everything a stock operation may write; compare before and after a refused request."""
    return {
        "levels": sorted(StockLevel.objects.values_list("id", "quantity")),
        "ledger": LedgerEntry.objects.count(),
        "sales": Sale.objects.count(),
        "movements": StockMovement.objects.count(),
    }


def catalog_state() -> dict:
    """What a refused catalog write must leave untouched: row counts and every product's
    fields."""
    return {
        "products": list(
            Product.objects.order_by("pk").values(
                "pk", "sku", "name", "price", "is_bundle", "is_active", "product_type_id"
            )
        ),
        "stock_levels": list(StockLevel.objects.order_by("pk").values_list("pk", "quantity")),
        "ledger_entries": LedgerEntry.objects.count(),
        "warehouses": list(Warehouse.objects.order_by("pk").values()),
        "product_types": list(ProductType.objects.order_by("pk").values()),
        "suppliers": list(Supplier.objects.order_by("pk").values()),
        "product_suppliers": list(ProductSupplier.objects.order_by("pk").values()),
        "bundle_components": list(BundleComponent.objects.order_by("pk").values()),
    }


def refused(response, status: int, code: str, before: dict) -> dict:
    """The error of a refused catalog write, which left the catalog as it was (``before``,
    a ``catalog_state()``)."""
    error = assert_error(response, status, code)
    assert catalog_state() == before
    return error


def tenant_models() -> list[type[models.Model]]:
    """Every model whose rows belong to a company (a ``company`` foreign key)."""
    return [
        model
        for model in apps.get_models()
        if any(
            isinstance(field, models.ForeignKey) and field.related_model is Company
            for field in model._meta.get_fields()
        )
    ]


def company_rows(company: Company) -> dict[str, list]:
    """Everything the company owns, field by field: its row, every tenant table, and its
    members' accounts and tokens. Compare before and after a refused request."""
    user_ids = list(Membership.objects.filter(company=company).values_list("user_id", flat=True))
    rows = {
        "company": list(Company.objects.filter(pk=company.pk).values()),
        "users": list(get_user_model().objects.filter(pk__in=user_ids).order_by("pk").values()),
        "api_tokens": list(ApiToken.objects.filter(user_id__in=user_ids).order_by("pk").values()),
    }
    for model in tenant_models():
        rows[model._meta.label] = list(
            model.objects.filter(company=company).order_by("pk").values()
        )
    return rows


def assert_tables_covered() -> None:
    """The snapshot reads every tenant table: a new one cannot be missed."""
    expected = {
        Membership,
        Warehouse,
        ProductType,
        Product,
        Supplier,
        ProductSupplier,
        BundleComponent,
        StockLevel,
        LedgerEntry,
        Sale,
        StockMovement,
        IdempotencyKey,
        PurchaseOrderCounter,
        PurchaseOrder,
        PurchaseOrderLine,
        StockEvent,
        WebhookEndpoint,
        WebhookDelivery,
        Invitation,
        ImportJob,
    }
    assert expected <= set(tenant_models())
