"""Tenant isolation on every API route and method.

The owner of company A (the highest role there, no role in B) tries B's objects on every
route × method the URL configuration has: reads, updates and deletes of B's objects are 404
exactly like missing ones, B's ids inside A's request bodies are 404 (the id that decides
the tenant) or 400 on the field (any other reference), lists never show B's rows, and after
each try B's rows in every tenant table are unchanged. ``PROBES`` is the one table that says
how each route × method is tried; a route × method it does not know fails the test.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from stockflow.tenancy.models import Role
from tests.factories import (
    PASSWORD,
    APIClient,
    Shop,
    assert_error,
    assert_tables_covered,
    company_rows,
)
from tests.report import REPORT
from tests.security.routes import api_routes, route_methods
from tests.security.schema import assert_documented, body_of

pytestmark = pytest.mark.django_db

MISSING_ID = 987_654_321


def reset_uid(user) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


@dataclass
class Try:
    """One request of A's owner and what it must answer."""

    path: str
    body: dict | None = None
    status: int = 404
    field: str | None = None  # the field a 400 must name
    query: dict = dataclasses.field(default_factory=dict)
    headers: dict = dataclasses.field(default_factory=dict)
    anonymous: bool = False
    multipart: bool = False  # the body is a form with a file (the import upload)


Probe = Callable[[Shop, Shop], list[Try]]


def product_body(a: Shop, **changes) -> dict:
    return {"name": "Acme thing", "sku": "ACME-NEW", "price": "3.00", **changes}


def warehouse_body(company_id: int, **changes) -> dict:
    return {"company_id": company_id, "name": "Acme depot", "code": "DEPOT", **changes}


def order_body(warehouse, supplier, product) -> dict:
    return {
        "warehouse_id": warehouse.pk,
        "supplier_id": supplier.pk,
        "lines": [{"product_id": product.pk, "quantity": 1, "unit_cost": "1.00"}],
    }


def lists(path: str, *filters: dict) -> Probe:
    """A list: unfiltered, and filtered by B's ids; B's rows never appear (leak check)."""
    return lambda a, b: [Try(path, status=200, query=query) for query in ({}, *filters)]


# (route template, method) → the tries of A's owner against B. Keep one entry per route ×
# method of the URL configuration: a missing entry fails test_every_route_and_method_is_probed.
PROBES: dict[tuple[str, str], Probe] = {
    # --- account routes: no tenant data, nothing of B reachable -----------------------------
    ("/api/auth/token", "POST"): lambda a, b: [
        Try(
            "/api/auth/token",
            {"username": b.tenant.users[Role.OWNER].username, "password": "not-" + PASSWORD},
            status=401,
            anonymous=True,
        )
    ],
    ("/api/me", "GET"): lambda a, b: [Try("/api/me", status=200)],
    ("/api/auth/tokens", "GET"): lambda a, b: [Try("/api/auth/tokens", status=200)],
    ("/api/auth/tokens/{pk}", "DELETE"): lambda a, b: [
        Try(f"/api/auth/tokens/{b.token(Role.OWNER).pk}")
    ],
    ("/api/signup", "POST"): lambda a, b: [
        # A new company of its own, whatever B's names; B is untouched.
        Try(
            "/api/signup",
            {
                "username": "acme-founder",
                "email": b.tenant.users[Role.OWNER].email,
                "password": "walnut 7 cabinet door",
                "company_name": "Acme spin-off",
            },
            status=201,
            anonymous=True,
        )
    ],
    ("/api/password-reset", "POST"): lambda a, b: [
        Try(
            "/api/password-reset",
            {"email": b.tenant.users[Role.OWNER].email},
            status=202,
            anonymous=True,
        )
    ],
    ("/api/password-reset/confirm", "POST"): lambda a, b: [
        # B's owner's account with a made-up token.
        Try(
            "/api/password-reset/confirm",
            {"uid": reset_uid(b.tenant.users[Role.OWNER]), "token": "1-x", "new_password": "p"},
            status=400,
            field="token",
            anonymous=True,
        )
    ],
    ("/api/me/password", "POST"): lambda a, b: [
        # B's owner's password as the current one: only the caller's own account counts.
        Try(
            "/api/me/password",
            {"current_password": "not-" + PASSWORD, "new_password": "walnut 7 cabinet door"},
            status=400,
            field="current_password",
        )
    ],
    ("/api/invitations/accept", "POST"): lambda a, b: [
        # The stored hash of B's invitation is not its token.
        Try(
            "/api/invitations/accept",
            {"token": b.invitation.token_hash},
            status=400,
            field="token",
        )
    ],
    # --- companies and members ---------------------------------------------------------------
    ("/api/companies", "GET"): lists("/api/companies"),
    ("/api/companies", "POST"): lambda a, b: [
        # A new company of its own; an id in the body is ignored and B is untouched.
        Try("/api/companies", {"name": "Acme spin-off", "id": b.company.pk}, status=201)
    ],
    ("/api/companies/{pk}", "GET"): lambda a, b: [Try(f"/api/companies/{b.company.pk}")],
    ("/api/companies/{pk}", "PUT"): lambda a, b: [
        Try(f"/api/companies/{b.company.pk}", {"name": "taken"})
    ],
    ("/api/companies/{pk}", "PATCH"): lambda a, b: [
        Try(f"/api/companies/{b.company.pk}", {"name": "taken"})
    ],
    ("/api/companies/{company_pk}/members", "GET"): lambda a, b: [
        Try(f"/api/companies/{b.company.pk}/members")
    ],
    ("/api/companies/{company_pk}/members", "POST"): lambda a, b: [
        # A's owner adding themself to B as its owner.
        Try(
            f"/api/companies/{b.company.pk}/members",
            {"username": a.tenant.users[Role.OWNER].username, "role": "owner"},
        )
    ],
    **{
        ("/api/companies/{company_pk}/members/{pk}", method): (
            lambda a, b, body=body: [
                Try(f"/api/companies/{b.company.pk}/members/{b.membership(Role.VIEWER).pk}", body),
                # B's member under A's company in the URL.
                Try(f"/api/companies/{a.company.pk}/members/{b.membership(Role.VIEWER).pk}", body),
            ]
        )
        for method, body in [
            ("GET", None),
            ("PUT", {"role": "owner"}),
            ("PATCH", {"role": "owner"}),
            ("DELETE", None),
        ]
    },
    # --- catalog -----------------------------------------------------------------------------
    ("/api/warehouses", "GET"): lambda a, b: [
        Try("/api/warehouses", status=200, query=q) for q in ({}, {"company_id": b.company.pk})
    ],
    ("/api/warehouses", "POST"): lambda a, b: [
        Try("/api/warehouses", warehouse_body(b.company.pk)),
    ],
    ("/api/warehouses/{pk}", "GET"): lambda a, b: [Try(f"/api/warehouses/{b.main.pk}")],
    ("/api/warehouses/{pk}", "PUT"): lambda a, b: [
        Try(f"/api/warehouses/{b.main.pk}", warehouse_body(b.company.pk)),
        # A's warehouse moved into B.
        Try(
            f"/api/warehouses/{a.backup.pk}",
            warehouse_body(b.company.pk),
            status=400,
            field="company_id",
        ),
    ],
    ("/api/warehouses/{pk}", "PATCH"): lambda a, b: [
        Try(f"/api/warehouses/{b.main.pk}", {"name": "taken"}),
        Try(
            f"/api/warehouses/{a.backup.pk}",
            {"company_id": b.company.pk},
            status=400,
            field="company_id",
        ),
    ],
    ("/api/warehouses/{pk}", "DELETE"): lambda a, b: [Try(f"/api/warehouses/{b.backup.pk}")],
    ("/api/product-types", "GET"): lambda a, b: [
        Try("/api/product-types", status=200, query=q) for q in ({}, {"company_id": b.company.pk})
    ],
    ("/api/product-types", "POST"): lambda a, b: [
        Try("/api/product-types", {"company_id": b.company.pk, "name": "Acme type"}),
    ],
    ("/api/product-types/{pk}", "GET"): lambda a, b: [Try(f"/api/product-types/{b.kind.pk}")],
    ("/api/product-types/{pk}", "PUT"): lambda a, b: [
        Try(f"/api/product-types/{b.kind.pk}", {"company_id": b.company.pk, "name": "taken"}),
        Try(
            f"/api/product-types/{a.kind.pk}",
            {"company_id": b.company.pk, "name": "moved"},
            status=400,
            field="company_id",
        ),
    ],
    ("/api/product-types/{pk}", "PATCH"): lambda a, b: [
        Try(f"/api/product-types/{b.kind.pk}", {"low_stock_threshold": 1}),
        Try(
            f"/api/product-types/{a.kind.pk}",
            {"company_id": b.company.pk},
            status=400,
            field="company_id",
        ),
    ],
    ("/api/product-types/{pk}", "DELETE"): lambda a, b: [Try(f"/api/product-types/{b.kind.pk}")],
    ("/api/products", "GET"): lambda a, b: [
        Try("/api/products", status=200, query=q)
        for q in (
            {},
            {"company_id": b.company.pk},
            {"warehouse_id": b.main.pk},
            {"supplier_id": b.mug_supplier.pk},
            {"product_type_id": b.kind.pk},
            {"sku": b.mug.sku},
            {"q": b.marker},
        )
    ],
    ("/api/products", "POST"): lambda a, b: [
        # B's warehouse decides the tenant: 404.
        Try("/api/products", product_body(a, warehouse_id=b.main.pk, initial_quantity=1)),
        # A bundle in B.
        Try("/api/products", product_body(a, company_id=b.company.pk, is_bundle=True)),
        Try(
            "/api/products",
            product_body(a, warehouse_id=a.main.pk, initial_quantity=1, company_id=b.company.pk),
        ),
        # B's product type on A's new product.
        Try(
            "/api/products",
            product_body(a, warehouse_id=a.main.pk, initial_quantity=1, product_type_id=b.kind.pk),
            status=400,
            field="product_type_id",
        ),
    ],
    ("/api/products/{pk}", "GET"): lambda a, b: [
        Try(f"/api/products/{b.mug.pk}"),
        Try(f"/api/products/{b.gift_box.pk}"),
    ],
    ("/api/products/{pk}", "PUT"): lambda a, b: [
        Try(f"/api/products/{b.mug.pk}", product_body(a, sku=b.mug.sku)),
        Try(
            f"/api/products/{a.mug.pk}",
            product_body(a, sku=a.mug.sku, product_type_id=b.kind.pk),
            status=400,
            field="product_type_id",
        ),
    ],
    ("/api/products/{pk}", "PATCH"): lambda a, b: [
        Try(f"/api/products/{b.mug.pk}", {"price": "0.01"}),
        Try(
            f"/api/products/{a.mug.pk}",
            {"product_type_id": b.kind.pk},
            status=400,
            field="product_type_id",
        ),
    ],
    ("/api/products/{pk}", "DELETE"): lambda a, b: [Try(f"/api/products/{b.gift_box.pk}")],
    ("/api/products/{product_id}/stock", "GET"): lambda a, b: [
        Try(f"/api/products/{b.mug.pk}/stock"),
        Try(f"/api/products/{b.gift_box.pk}/stock"),
    ],
    ("/api/suppliers", "GET"): lambda a, b: [
        Try("/api/suppliers", status=200, query=q)
        for q in ({}, {"company_id": b.company.pk}, {"contact_email": b.mug_supplier.contact_email})
    ],
    ("/api/suppliers", "POST"): lambda a, b: [
        Try("/api/suppliers", {"company_id": b.company.pk, "name": "Acme supplier"}),
    ],
    ("/api/suppliers/{pk}", "GET"): lambda a, b: [Try(f"/api/suppliers/{b.mug_supplier.pk}")],
    ("/api/suppliers/{pk}", "PUT"): lambda a, b: [
        Try(f"/api/suppliers/{b.mug_supplier.pk}", {"company_id": b.company.pk, "name": "taken"}),
        Try(
            f"/api/suppliers/{a.mug_supplier.pk}",
            {"company_id": b.company.pk, "name": "moved"},
            status=400,
            field="company_id",
        ),
    ],
    ("/api/suppliers/{pk}", "PATCH"): lambda a, b: [
        Try(f"/api/suppliers/{b.mug_supplier.pk}", {"contact_email": "thief@example.com"}),
        Try(
            f"/api/suppliers/{a.mug_supplier.pk}",
            {"company_id": b.company.pk},
            status=400,
            field="company_id",
        ),
    ],
    ("/api/suppliers/{pk}", "DELETE"): lambda a, b: [Try(f"/api/suppliers/{b.mug_supplier.pk}")],
    ("/api/product-suppliers", "GET"): lambda a, b: [
        Try("/api/product-suppliers", status=200, query=q)
        for q in (
            {},
            {"company_id": b.company.pk},
            {"product_id": b.mug.pk},
            {"supplier_id": b.mug_supplier.pk},
        )
    ],
    ("/api/product-suppliers", "POST"): lambda a, b: [
        # B's product decides the tenant: 404.
        Try(
            "/api/product-suppliers", {"product_id": b.coffee.pk, "supplier_id": a.mug_supplier.pk}
        ),
        # B's supplier on A's product link.
        Try(
            "/api/product-suppliers",
            {"product_id": a.coffee.pk, "supplier_id": b.mug_supplier.pk},
            status=400,
            field="supplier_id",
        ),
    ],
    ("/api/product-suppliers/{pk}", "GET"): lambda a, b: [
        Try(f"/api/product-suppliers/{b.link.pk}")
    ],
    ("/api/product-suppliers/{pk}", "PUT"): lambda a, b: [
        Try(
            f"/api/product-suppliers/{b.link.pk}",
            {"product_id": b.mug.pk, "supplier_id": b.mug_supplier.pk, "lead_time_days": 1},
        ),
        Try(
            f"/api/product-suppliers/{a.link.pk}",
            {"product_id": a.mug.pk, "supplier_id": b.mug_supplier.pk},
            status=400,
            field="supplier_id",
        ),
    ],
    ("/api/product-suppliers/{pk}", "PATCH"): lambda a, b: [
        Try(f"/api/product-suppliers/{b.link.pk}", {"is_primary": False}),
        Try(
            f"/api/product-suppliers/{a.link.pk}",
            {"supplier_id": b.mug_supplier.pk},
            status=400,
            field="supplier_id",
        ),
    ],
    ("/api/product-suppliers/{pk}", "DELETE"): lambda a, b: [
        Try(f"/api/product-suppliers/{b.link.pk}")
    ],
    ("/api/bundle-components", "GET"): lambda a, b: [
        Try("/api/bundle-components", status=200, query=q)
        for q in ({}, {"company_id": b.company.pk}, {"bundle_id": b.gift_box.pk})
    ],
    ("/api/bundle-components", "POST"): lambda a, b: [
        # B's bundle decides the tenant: 404.
        Try(
            "/api/bundle-components",
            {"bundle_id": b.gift_box.pk, "component_id": a.coffee.pk, "quantity": 1},
        ),
        # B's product as a component of A's bundle.
        Try(
            "/api/bundle-components",
            {"bundle_id": a.gift_box.pk, "component_id": b.coffee.pk, "quantity": 1},
            status=400,
            field="component_id",
        ),
    ],
    ("/api/bundle-components/{pk}", "GET"): lambda a, b: [
        Try(f"/api/bundle-components/{b.line.pk}")
    ],
    ("/api/bundle-components/{pk}", "PUT"): lambda a, b: [
        Try(f"/api/bundle-components/{b.line.pk}", {"quantity": 9}),
        Try(
            f"/api/bundle-components/{a.line.pk}",
            {"bundle_id": a.gift_box.pk, "component_id": b.mug.pk, "quantity": 1},
            status=400,
            field="component_id",
        ),
    ],
    ("/api/bundle-components/{pk}", "PATCH"): lambda a, b: [
        Try(f"/api/bundle-components/{b.line.pk}", {"quantity": 9}),
        Try(
            f"/api/bundle-components/{a.line.pk}",
            {"component_id": b.mug.pk},
            status=400,
            field="component_id",
        ),
    ],
    ("/api/bundle-components/{pk}", "DELETE"): lambda a, b: [
        Try(f"/api/bundle-components/{b.line.pk}")
    ],
    # --- inventory ---------------------------------------------------------------------------
    ("/api/stock/receipts", "POST"): lambda a, b: [
        Try(
            "/api/stock/receipts",
            {"product_id": b.mug.pk, "warehouse_id": a.main.pk, "quantity": 1},
        ),
        # B's product in A's receipt / B's warehouse for A's product.
        Try(
            "/api/stock/receipts",
            {"product_id": a.mug.pk, "warehouse_id": b.main.pk, "quantity": 1},
            status=400,
            field="warehouse_id",
        ),
        # Idempotency keys are per company: B's key is a fresh key for A, never B's response.
        Try(
            "/api/stock/receipts",
            {"product_id": a.mug.pk, "warehouse_id": a.main.pk, "quantity": 1},
            status=201,
            headers={"HTTP_IDEMPOTENCY_KEY": b.idempotency_key.key},
        ),
    ],
    ("/api/stock/adjustments", "POST"): lambda a, b: [
        Try(
            "/api/stock/adjustments",
            {"product_id": b.mug.pk, "warehouse_id": a.main.pk, "reason": "loss", "change": -1},
        ),
        Try(
            "/api/stock/adjustments",
            {"product_id": a.mug.pk, "warehouse_id": b.main.pk, "reason": "count", "change": 1},
            status=400,
            field="warehouse_id",
        ),
    ],
    ("/api/stock/transfers", "POST"): lambda a, b: [
        Try(
            "/api/stock/transfers",
            {
                "product_id": b.mug.pk,
                "from_warehouse_id": b.main.pk,
                "to_warehouse_id": b.backup.pk,
                "quantity": 1,
            },
        ),
        # A transfer to B's warehouse.
        Try(
            "/api/stock/transfers",
            {
                "product_id": a.mug.pk,
                "from_warehouse_id": a.main.pk,
                "to_warehouse_id": b.main.pk,
                "quantity": 1,
            },
            status=400,
            field="to_warehouse_id",
        ),
        # A transfer out of B's warehouse.
        Try(
            "/api/stock/transfers",
            {
                "product_id": a.mug.pk,
                "from_warehouse_id": b.main.pk,
                "to_warehouse_id": a.backup.pk,
                "quantity": 1,
            },
            status=400,
            field="from_warehouse_id",
        ),
    ],
    ("/api/stock-levels", "GET"): lambda a, b: [
        Try("/api/stock-levels", status=200, query=q)
        for q in (
            {},
            {"company_id": b.company.pk},
            {"product_id": b.mug.pk},
            {"warehouse_id": b.main.pk},
            {"below_threshold": "true"},
        )
    ],
    ("/api/stock-levels/{pk}", "GET"): lambda a, b: [Try(f"/api/stock-levels/{b.level.pk}")],
    ("/api/stock/movements", "GET"): lambda a, b: [
        Try("/api/stock/movements", status=200, query=q)
        for q in ({}, {"company_id": b.company.pk}, {"warehouse_id": b.backup.pk})
    ],
    ("/api/stock/movements/{pk}", "GET"): lambda a, b: [
        Try(f"/api/stock/movements/{b.receipt.pk}"),
        Try(f"/api/stock/movements/{b.transfer.pk}"),
    ],
    ("/api/ledger", "GET"): lambda a, b: [
        Try("/api/ledger", status=200, query=q)
        for q in (
            {},
            {"company_id": b.company.pk},
            {"product_id": b.mug.pk},
            {"stock_level_id": b.level.pk},
            {"reference_type": "sale", "reference_id": b.mug_sale.pk},
        )
    ],
    ("/api/ledger/{pk}", "GET"): lambda a, b: [Try(f"/api/ledger/{b.ledger_entry.pk}")],
    ("/api/events", "GET"): lambda a, b: [
        Try("/api/events", status=200, query=q)
        for q in (
            {},
            {"product_id": b.mug.pk},
            {"warehouse_id": b.backup.pk},
            {"type": "stock.out"},
        )
    ],
    ("/api/events/{pk}", "GET"): lambda a, b: [Try(f"/api/events/{b.event.pk}")],
    ("/api/companies/{company_id}/notification-preferences", "GET"): lambda a, b: [
        Try(f"/api/companies/{b.company.pk}/notification-preferences")
    ],
    ("/api/companies/{company_id}/notification-preferences", "PUT"): lambda a, b: [
        Try(
            f"/api/companies/{b.company.pk}/notification-preferences",
            {
                "immediate": True,
                "immediate_every_minutes": 5,
                "daily_digest": True,
                "digest_hour": 7,
            },
        )
    ],
    # --- webhooks --------------------------------------------------------------------------
    ("/api/webhooks", "GET"): lists("/api/webhooks"),
    ("/api/webhooks", "POST"): lambda a, b: [
        Try(
            "/api/webhooks",
            {"company_id": b.company.pk, "url": "http://127.0.0.1:9/x", "events": ["*"]},
        )
    ],
    ("/api/webhooks/{pk}", "GET"): lambda a, b: [Try(f"/api/webhooks/{b.webhook.pk}")],
    ("/api/webhooks/{pk}", "PATCH"): lambda a, b: [
        Try(f"/api/webhooks/{b.webhook.pk}", {"url": "http://127.0.0.1:9/stolen"}),
        Try(
            f"/api/webhooks/{a.webhook.pk}",
            {"company_id": b.company.pk},
            status=400,
            field="company_id",
        ),
    ],
    ("/api/webhooks/{pk}", "DELETE"): lambda a, b: [Try(f"/api/webhooks/{b.webhook.pk}")],
    ("/api/webhooks/{pk}/rotate-secret", "POST"): lambda a, b: [
        Try(f"/api/webhooks/{b.webhook.pk}/rotate-secret")
    ],
    ("/api/webhooks/{pk}/ping", "POST"): lambda a, b: [Try(f"/api/webhooks/{b.webhook.pk}/ping")],
    ("/api/webhooks/{pk}/deliveries", "GET"): lambda a, b: [
        Try(f"/api/webhooks/{b.webhook.pk}/deliveries")
    ],
    ("/api/webhook-deliveries/{pk}", "GET"): lambda a, b: [
        Try(f"/api/webhook-deliveries/{b.delivery.pk}")
    ],
    ("/api/webhook-deliveries/{pk}/retry", "POST"): lambda a, b: [
        Try(f"/api/webhook-deliveries/{b.delivery.pk}/retry")
    ],
    ("/api/sales", "GET"): lambda a, b: [
        Try("/api/sales", status=200, query=q)
        for q in ({}, {"company_id": b.company.pk}, {"warehouse_id": b.main.pk})
    ],
    ("/api/sales", "POST"): lambda a, b: [
        Try("/api/sales", {"product_id": b.mug.pk, "warehouse_id": b.main.pk, "quantity": 1}),
        # A sale in B's warehouse, of a product and of a bundle.
        Try(
            "/api/sales",
            {"product_id": a.mug.pk, "warehouse_id": b.main.pk, "quantity": 1},
            status=400,
            field="warehouse_id",
        ),
        Try(
            "/api/sales",
            {"product_id": a.gift_box.pk, "warehouse_id": b.main.pk, "quantity": 1},
            status=400,
            field="warehouse_id",
        ),
    ],
    ("/api/sales/{pk}", "GET"): lambda a, b: [Try(f"/api/sales/{b.mug_sale.pk}")],
    # --- alerts ------------------------------------------------------------------------------
    ("/api/companies/{company_id}/alerts/low-stock", "GET"): lambda a, b: [
        Try(f"/api/companies/{b.company.pk}/alerts/low-stock"),
        # B's ids as filters of A's report: no alert, nothing of B.
        Try(
            f"/api/companies/{a.company.pk}/alerts/low-stock",
            status=200,
            query={"warehouse_id": b.main.pk},
        ),
        Try(
            f"/api/companies/{a.company.pk}/alerts/low-stock",
            status=200,
            query={"product_type_id": b.kind.pk},
        ),
    ],
    # --- purchasing ----------------------------------------------------------------------------
    ("/api/purchase-orders", "GET"): lambda a, b: [
        Try("/api/purchase-orders", status=200, query=q)
        for q in (
            {},
            {"company_id": b.company.pk},
            {"supplier_id": b.mug_supplier.pk},
            {"warehouse_id": b.main.pk},
            {"product_id": b.mug.pk},
            {"status": "ordered", "overdue": "false"},
        )
    ],
    ("/api/purchase-orders", "POST"): lambda a, b: [
        # B's warehouse decides the tenant: 404.
        Try("/api/purchase-orders", order_body(b.main, a.mug_supplier, a.mug)),
        Try(
            "/api/purchase-orders",
            order_body(a.main, b.mug_supplier, a.mug),
            status=400,
            field="supplier_id",
        ),
        Try(
            "/api/purchase-orders",
            order_body(a.main, a.mug_supplier, b.mug),
            status=400,
            field="lines",
        ),
    ],
    ("/api/purchase-orders/{pk}", "GET"): lambda a, b: [
        Try(f"/api/purchase-orders/{b.order.pk}"),
        Try(f"/api/purchase-orders/{b.draft.pk}"),
    ],
    ("/api/purchase-orders/{pk}", "PATCH"): lambda a, b: [
        Try(f"/api/purchase-orders/{b.draft.pk}", {"notes": "taken"}),
        Try(
            f"/api/purchase-orders/{a.draft.pk}",
            {"supplier_id": b.mug_supplier.pk},
            status=400,
            field="supplier_id",
        ),
        Try(
            f"/api/purchase-orders/{a.draft.pk}",
            {"warehouse_id": b.main.pk},
            status=400,
            field="warehouse_id",
        ),
        Try(
            f"/api/purchase-orders/{a.draft.pk}",
            {"lines": [{"product_id": b.coffee.pk, "quantity": 1}]},
            status=400,
            field="lines",
        ),
    ],
    ("/api/purchase-orders/{pk}/order", "POST"): lambda a, b: [
        Try(f"/api/purchase-orders/{b.draft.pk}/order", {"send_to_supplier": True})
    ],
    ("/api/purchase-orders/{pk}/cancel", "POST"): lambda a, b: [
        Try(f"/api/purchase-orders/{b.draft.pk}/cancel")
    ],
    ("/api/purchase-orders/{pk}/close", "POST"): lambda a, b: [
        Try(f"/api/purchase-orders/{b.order.pk}/close")
    ],
    ("/api/purchase-orders/{pk}/receipts", "POST"): lambda a, b: [
        Try(
            f"/api/purchase-orders/{b.order.pk}/receipts",
            {"lines": [{"line_id": b.order_line().pk, "quantity": 1}]},
        ),
        # B's line against A's order.
        Try(
            f"/api/purchase-orders/{a.order.pk}/receipts",
            {"lines": [{"line_id": b.order_line().pk, "quantity": 1}]},
            status=400,
            field="lines",
        ),
    ],
    ("/api/purchase-orders/{pk}/document", "GET"): lambda a, b: [
        Try(f"/api/purchase-orders/{b.order.pk}/document")
    ],
    ("/api/companies/{company_id}/purchase-orders/from-alerts", "POST"): lambda a, b: [
        Try(f"/api/companies/{b.company.pk}/purchase-orders/from-alerts", {}),
        # B's ids as filters of A's alerts: nothing of B.
        Try(
            f"/api/companies/{a.company.pk}/purchase-orders/from-alerts",
            {"warehouse_id": b.main.pk, "product_ids": [b.mug.pk, b.coffee.pk]},
            status=201,
        ),
    ],
    # --- invitations --------------------------------------------------------------------------
    ("/api/companies/{company_pk}/invitations", "GET"): lambda a, b: [
        Try(f"/api/companies/{b.company.pk}/invitations")
    ],
    ("/api/companies/{company_pk}/invitations", "POST"): lambda a, b: [
        Try(
            f"/api/companies/{b.company.pk}/invitations",
            {"email": "spy@example.com", "role": "owner"},
        )
    ],
    **{
        (template, method): (
            lambda a, b, template=template: [
                Try(template.format(company_pk=company.pk, pk=b.invitation.pk))
                for company in (b.company, a.company)
            ]
        )
        for template, method in [
            ("/api/companies/{company_pk}/invitations/{pk}", "GET"),
            ("/api/companies/{company_pk}/invitations/{pk}", "DELETE"),
            ("/api/companies/{company_pk}/invitations/{pk}/resend", "POST"),
        ]
    },
    # --- imports and exports ------------------------------------------------------------------
    ("/api/imports", "POST"): lambda a, b: [
        # Into B's company: 404, like a company that does not exist.
        Try("/api/imports", import_form(b.company.pk), multipart=True),
    ],
    **{
        (template, method): (
            lambda a, b, template=template: [Try(template.format(pk=b.import_job.pk))]
        )
        for template, method in [
            ("/api/imports/{pk}", "GET"),
            ("/api/imports/{pk}/errors", "GET"),
            ("/api/imports/{pk}/apply", "POST"),
        ]
    },
    **{
        (f"/api/companies/{{company_id}}/exports/{name}", "GET"): (
            lambda a, b, name=name, filters=filters: [
                Try(f"/api/companies/{b.company.pk}/exports/{name}"),
                # B's ids as filters of A's export: nothing of B.
                *[
                    Try(f"/api/companies/{a.company.pk}/exports/{name}", status=200, query=q(b))
                    for q in filters
                ],
            ]
        )
        for name, filters in [
            ("products", [lambda b: {"warehouse_id": b.main.pk}]),
            ("stock_levels", [lambda b: {"product_id": b.mug.pk}]),
            ("ledger", [lambda b: {"product_id": b.mug.pk, "format": "xlsx"}]),
            ("sales", [lambda b: {"warehouse_id": b.main.pk}]),
            (
                "purchase_orders",
                [
                    lambda b: {"supplier_id": b.mug_supplier.pk},
                    lambda b: {"product_id": b.mug.pk, "format": "xlsx"},
                ],
            ),
            ("low_stock", [lambda b: {"warehouse_id": b.main.pk}]),
        ]
    },
    # --- schema and documentation: public, no tenant data ------------------------------------
    ("/api/schema/", "GET"): lambda a, b: [Try("/api/schema/", status=200)],
    ("/api/docs/", "GET"): lambda a, b: [Try("/api/docs/", status=200)],
    ("/api/redoc/", "GET"): lambda a, b: [Try("/api/redoc/", status=200)],
}


def import_form(company_id: int) -> dict:
    content = b"sku,warehouse,counted_quantity\nX,MAIN,1\n"
    return {
        "company_id": company_id,
        "kind": "stock_counts",
        "file": SimpleUploadedFile("counts.csv", content, content_type="text/csv"),
    }


def unprobed(pairs: set[tuple[str, str]], probes: dict) -> tuple[set, set]:
    """(route × method pairs without a probe, probes for pairs that no longer exist)."""
    return pairs - set(probes), set(probes) - pairs


def test_every_route_and_method_is_probed():
    missing, stale = unprobed(route_methods(), PROBES)
    assert not missing, f"route × method pairs with no isolation probe in PROBES: {missing}"
    assert not stale, f"PROBES entries for routes that do not exist: {stale}"


def test_a_route_left_out_of_the_table_is_reported():
    pairs = route_methods()
    left_out = ("/api/sales", "POST")
    missing, stale = unprobed(pairs, {k: v for k, v in PROBES.items() if k != left_out})
    assert missing == {left_out} and not stale
    missing, stale = unprobed(pairs | {("/api/new-thing", "GET")}, PROBES)
    assert missing == {("/api/new-thing", "GET")}


def leaks(response, b: Shop) -> list[str]:
    """What of B's data the response shows: its marker text, its company name or id."""
    text = body_of(response).decode(errors="replace")
    found = [word for word in (b.marker, b.company.name) if word in text]
    if response.get("Content-Type", "").startswith("application/json") and text:
        pending = [json.loads(text)]
        while pending:
            value = pending.pop()
            if isinstance(value, dict):
                if value.get("company_id") == b.company.pk:
                    found.append(f"company_id {b.company.pk}")
                pending.extend(value.values())
            elif isinstance(value, list):
                pending.extend(value)
    return found


def send(client: APIClient, method: str, attempt: Try):
    request = getattr(client, method.lower())
    if method == "GET":
        return request(attempt.path, attempt.query, **attempt.headers)
    if attempt.body is None:
        return request(attempt.path, **attempt.headers)
    body_format = "multipart" if attempt.multipart else "json"
    return request(attempt.path, attempt.body, format=body_format, **attempt.headers)


def check(response, attempt: Try) -> None:
    if attempt.status == 404:
        assert_error(response, 404, "not_found")
    elif attempt.status == 400:
        error = assert_error(response, 400, "validation_error")
        assert attempt.field in error["fields"], error
    elif attempt.status == 401:
        assert_error(response, 401, "authentication_failed")
    else:
        assert response.status_code == attempt.status, (response.status_code, body_of(response))


@pytest.mark.slow
def test_company_a_cannot_reach_company_b_on_any_route(shop_a, shop_b, capsys):
    assert_tables_covered()
    missing, _ = unprobed(route_methods(), PROBES)
    assert not missing, f"route × method pairs with no isolation probe: {missing}"
    attacker = shop_a.tenant.owner
    failures: list[str] = []
    pairs = requests = 0
    for (template, method), probe in sorted(PROBES.items()):
        attempts = probe(shop_a, shop_b)
        assert attempts, f"{method} {template}: a probe must try something"
        pairs += 1
        for attempt in attempts:
            before_b, before_a = company_rows(shop_b.company), company_rows(shop_a.company)
            client = APIClient() if attempt.anonymous else attacker
            response = send(client, method, attempt)
            requests += 1
            label = f"{method} {attempt.path} {attempt.query or ''} {attempt.body or ''}"
            try:
                check(response, attempt)
                assert_documented(response)
                assert not leaks(response, shop_b), f"shows B's data: {leaks(response, shop_b)}"
                assert response.get("Idempotent-Replayed") is None, "replayed B's response"
                assert company_rows(shop_b.company) == before_b, "B's rows changed"
                if attempt.status >= 400:
                    assert company_rows(shop_a.company) == before_a, "A's rows changed"
            except AssertionError as exc:
                failures.append(f"{label}: {exc}")
    summary = f"tenant isolation: {pairs} route × method pairs exercised with {requests} requests"
    REPORT["isolation"] = summary
    with capsys.disabled():
        print(f"\n{summary}")
    assert pairs == len(route_methods())
    assert not failures, "\n".join(failures)


def test_head_and_options_do_not_tell_another_company_from_a_missing_one(shop_a, shop_b):
    """HEAD and OPTIONS exist on every route: on B's object they answer exactly as on an id
    that does not exist."""
    ids = {
        "pk": None,  # per route below
        "company_pk": shop_b.company.pk,
        "company_id": shop_b.company.pk,
        "product_id": shop_b.mug.pk,
    }
    b_object = {
        "/api/companies/{pk}": shop_b.company.pk,
        "/api/companies/{company_pk}/members/{pk}": shop_b.membership(Role.VIEWER).pk,
        "/api/warehouses/{pk}": shop_b.main.pk,
        "/api/product-types/{pk}": shop_b.kind.pk,
        "/api/products/{pk}": shop_b.mug.pk,
        "/api/suppliers/{pk}": shop_b.mug_supplier.pk,
        "/api/product-suppliers/{pk}": shop_b.link.pk,
        "/api/bundle-components/{pk}": shop_b.line.pk,
        "/api/stock-levels/{pk}": shop_b.level.pk,
        "/api/stock/movements/{pk}": shop_b.receipt.pk,
        "/api/ledger/{pk}": shop_b.ledger_entry.pk,
        "/api/events/{pk}": shop_b.event.pk,
        "/api/webhooks/{pk}": shop_b.webhook.pk,
        "/api/webhooks/{pk}/rotate-secret": shop_b.webhook.pk,
        "/api/webhooks/{pk}/ping": shop_b.webhook.pk,
        "/api/webhooks/{pk}/deliveries": shop_b.webhook.pk,
        "/api/webhook-deliveries/{pk}": shop_b.delivery.pk,
        "/api/webhook-deliveries/{pk}/retry": shop_b.delivery.pk,
        "/api/sales/{pk}": shop_b.mug_sale.pk,
        "/api/auth/tokens/{pk}": shop_b.token(Role.OWNER).pk,
        "/api/purchase-orders/{pk}": shop_b.order.pk,
        "/api/purchase-orders/{pk}/order": shop_b.draft.pk,
        "/api/purchase-orders/{pk}/cancel": shop_b.draft.pk,
        "/api/purchase-orders/{pk}/close": shop_b.order.pk,
        "/api/purchase-orders/{pk}/receipts": shop_b.order.pk,
        "/api/purchase-orders/{pk}/document": shop_b.order.pk,
        "/api/companies/{company_pk}/invitations/{pk}": shop_b.invitation.pk,
        "/api/companies/{company_pk}/invitations/{pk}/resend": shop_b.invitation.pk,
        "/api/imports/{pk}": shop_b.import_job.pk,
        "/api/imports/{pk}/errors": shop_b.import_job.pk,
        "/api/imports/{pk}/apply": shop_b.import_job.pk,
    }
    checked = 0
    for route in api_routes():
        if "{" not in route.template:
            continue
        assert "{pk}" not in route.template or route.template in b_object, route.template
        foreign = route.template.format(**{**ids, "pk": b_object.get(route.template)})
        missing = route.template.format(**dict.fromkeys(ids, MISSING_ID))
        for method in ("HEAD", "OPTIONS"):
            send_method = getattr(shop_a.tenant.owner, method.lower())
            answers = [send_method(path) for path in (foreign, missing)]
            assert answers[0].status_code == answers[1].status_code, (method, foreign)
            assert answers[0].content == answers[1].content, (method, foreign)
            assert not leaks(answers[0], shop_b), (method, foreign)
            checked += 1
    assert checked > 20


def test_an_undocumented_response_is_caught(tenant_a):
    response = tenant_a.owner.get("/api/me")
    assert_documented(response)
    response.status_code = 418
    with pytest.raises(BaseException, match="Undocumented"):
        assert_documented(response)
