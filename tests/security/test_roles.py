"""The role matrix on every writing route, on the caller's own company.

viewer writes nothing; staff moves stock and records sales; admin does everything but manage
members; the owner does everything. A refusal is 403 and leaves every row unchanged; an
allowed write succeeds. ``WRITES`` is the one table of writing routes: a writing route × method
of the URL configuration that it does not know fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import count

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from stockflow.dataio import services as imports
from stockflow.notifications import services as notifications
from stockflow.tenancy.models import ROLE_RANK, Membership, Role
from stockflow.tenancy.services import issue_token
from tests.factories import (
    DEFAULT_QUERY_BUDGET,
    PASSWORD,
    PRODUCT_WRITE_BUDGET,
    APIClient,
    Shop,
    add_component,
    assert_error,
    company_rows,
    link_supplier,
    make_bundle,
    make_invitation,
    make_product_type,
    make_supplier,
    make_tenant,
    make_user,
    make_warehouse,
    query_budget,
)
from tests.report import REPORT
from tests.security.routes import UNSAFE_METHODS, route_methods
from tests.security.schema import assert_documented

pytestmark = pytest.mark.django_db

ROLES = [Role.VIEWER, Role.STAFF, Role.ADMIN, Role.OWNER]
_seq = count(1)


@dataclass
class Write:
    path: str
    body: dict | None = None
    anonymous: bool = False
    multipart: bool = False


# How a role's write is built: fresh objects where the write consumes one (a delete).
Build = Callable[[Shop, str], Write]


def fresh_warehouse(a: Shop):
    return make_warehouse(a.company)


def fresh_supplier(a: Shop):
    return make_supplier(a.company)


def fresh_bundle(a: Shop):
    return make_bundle(a.company, f"ACME-SPARE-{next(_seq)}")


def fresh_membership(a: Shop) -> Membership:
    return Membership.objects.create(company=a.company, user=make_user(), role=Role.VIEWER)


def fresh_webhook(a: Shop):
    return notifications.create_endpoint(
        company_id=a.company.pk, url="http://127.0.0.1:9/spare", events=["*"]
    )


def members(a: Shop, pk: int | None = None) -> str:
    base = f"/api/companies/{a.company.pk}/members"
    return base if pk is None else f"{base}/{pk}"


def invitations(a: Shop) -> str:
    return f"/api/companies/{a.company.pk}/invitations"


def count_file(a: Shop) -> bytes:
    """A stock count file of its own (a new content hash each time)."""
    return f"sku,warehouse,counted_quantity\n{a.mug.sku},MAIN,{next(_seq)}\n".encode()


def import_upload(a: Shop, role: str) -> Write:
    file = SimpleUploadedFile("counts.csv", count_file(a), content_type="text/csv")
    body = {"company_id": a.company.pk, "kind": "stock_counts", "file": file}
    return Write("/api/imports", body, multipart=True)


def valid_count_import(a: Shop, role: str) -> Write:
    job, _ = imports.create_job(
        company_id=a.company.pk,
        kind="stock_counts",
        content=count_file(a),
        file_name="counts.csv",
        dry_run=True,
        actor=None,
    )
    imports.validate_job(job.company_id, job.pk)
    return Write(f"/api/imports/{job.pk}/apply")


STRONG = "walnut 7 cabinet door"
ADMIN, STAFF, OWNER, ANYONE = Role.ADMIN, Role.STAFF, Role.OWNER, Role.VIEWER

# (route template, method) → (the lowest role allowed, how to build the write).
WRITES: dict[tuple[str, str], tuple[str, Build]] = {
    # Account routes: every user manages their own tokens and may create a company.
    ("/api/auth/token", "POST"): (
        ANYONE,
        lambda a, role: Write(
            "/api/auth/token",
            {"username": a.tenant.users[role].username, "password": PASSWORD},
            anonymous=True,
        ),
    ),
    ("/api/auth/tokens/{pk}", "DELETE"): (
        ANYONE,
        lambda a, role: Write(f"/api/auth/tokens/{issue_token(user=a.tenant.users[role])[0].pk}"),
    ),
    ("/api/companies", "POST"): (ANYONE, lambda a, role: Write("/api/companies", {"name": "New"})),
    ("/api/companies/{pk}", "PUT"): (
        ADMIN,
        lambda a, role: Write(f"/api/companies/{a.company.pk}", {"name": f"Acme {role}"}),
    ),
    ("/api/companies/{pk}", "PATCH"): (
        ADMIN,
        lambda a, role: Write(f"/api/companies/{a.company.pk}", {"name": f"Acme {role}"}),
    ),
    ("/api/companies/{company_pk}/members", "POST"): (
        OWNER,
        lambda a, role: Write(members(a), {"username": make_user().username, "role": "viewer"}),
    ),
    ("/api/companies/{company_pk}/members/{pk}", "PUT"): (
        OWNER,
        lambda a, role: Write(members(a, fresh_membership(a).pk), {"role": "staff"}),
    ),
    ("/api/companies/{company_pk}/members/{pk}", "PATCH"): (
        OWNER,
        lambda a, role: Write(members(a, fresh_membership(a).pk), {"role": "admin"}),
    ),
    ("/api/companies/{company_pk}/members/{pk}", "DELETE"): (
        OWNER,
        lambda a, role: Write(members(a, fresh_membership(a).pk)),
    ),
    ("/api/signup", "POST"): (
        ANYONE,
        lambda a, role: Write(
            "/api/signup",
            {
                "username": f"founder{next(_seq)}",
                "email": "founder@example.com",
                "password": STRONG,
                "company_name": "New",
            },
            anonymous=True,
        ),
    ),
    ("/api/password-reset", "POST"): (
        ANYONE,
        lambda a, role: Write(
            "/api/password-reset", {"email": a.tenant.users[role].email}, anonymous=True
        ),
    ),
    ("/api/password-reset/confirm", "POST"): (
        ANYONE,
        lambda a, role: Write(
            "/api/password-reset/confirm",
            {
                "uid": urlsafe_base64_encode(force_bytes(a.tenant.users[role].pk)),
                "token": default_token_generator.make_token(a.tenant.users[role]),
                "new_password": STRONG,
            },
            anonymous=True,
        ),
    ),
    ("/api/me/password", "POST"): (
        ANYONE,
        lambda a, role: Write(
            "/api/me/password", {"current_password": PASSWORD, "new_password": STRONG}
        ),
    ),
    ("/api/invitations/accept", "POST"): (
        ANYONE,
        # Each role's user joins a company that invited them.
        lambda a, role: Write(
            "/api/invitations/accept",
            {"token": make_invitation(make_tenant().company).token},
        ),
    ),
    # Invitations: admin (an admin invites up to admin).
    ("/api/companies/{company_pk}/invitations", "POST"): (
        ADMIN,
        lambda a, role: Write(
            invitations(a), {"email": f"new{next(_seq)}@example.com", "role": "viewer"}
        ),
    ),
    ("/api/companies/{company_pk}/invitations/{pk}", "DELETE"): (
        ADMIN,
        lambda a, role: Write(f"{invitations(a)}/{make_invitation(a.company).pk}"),
    ),
    ("/api/companies/{company_pk}/invitations/{pk}/resend", "POST"): (
        ADMIN,
        lambda a, role: Write(f"{invitations(a)}/{make_invitation(a.company).pk}/resend"),
    ),
    # Catalog: admin.
    ("/api/warehouses", "POST"): (
        ADMIN,
        lambda a, role: Write(
            "/api/warehouses",
            {"company_id": a.company.pk, "name": "New", "code": f"N{next(_seq)}"},
        ),
    ),
    ("/api/warehouses/{pk}", "PUT"): (
        ADMIN,
        lambda a, role: Write(
            f"/api/warehouses/{a.backup.pk}",
            {"company_id": a.company.pk, "name": f"Backup {role}", "code": "BACKUP"},
        ),
    ),
    ("/api/warehouses/{pk}", "PATCH"): (
        ADMIN,
        lambda a, role: Write(f"/api/warehouses/{a.backup.pk}", {"address": f"{role} street"}),
    ),
    ("/api/warehouses/{pk}", "DELETE"): (
        ADMIN,
        lambda a, role: Write(f"/api/warehouses/{fresh_warehouse(a).pk}"),
    ),
    ("/api/product-types", "POST"): (
        ADMIN,
        lambda a, role: Write(
            "/api/product-types", {"company_id": a.company.pk, "name": f"Type {next(_seq)}"}
        ),
    ),
    ("/api/product-types/{pk}", "PUT"): (
        ADMIN,
        lambda a, role: Write(
            f"/api/product-types/{a.kind.pk}",
            {"company_id": a.company.pk, "name": f"Kitchen {role}", "low_stock_threshold": 7},
        ),
    ),
    ("/api/product-types/{pk}", "PATCH"): (
        ADMIN,
        lambda a, role: Write(f"/api/product-types/{a.kind.pk}", {"low_stock_threshold": 8}),
    ),
    ("/api/product-types/{pk}", "DELETE"): (
        ADMIN,
        lambda a, role: Write(f"/api/product-types/{make_product_type(a.company).pk}"),
    ),
    ("/api/products", "POST"): (
        ADMIN,
        lambda a, role: Write(
            "/api/products",
            {
                "name": "New",
                "sku": f"ACME-NEW-{next(_seq)}",
                "price": "2.50",
                "warehouse_id": a.main.pk,
                "initial_quantity": 3,
            },
        ),
    ),
    ("/api/products/{pk}", "PUT"): (
        ADMIN,
        lambda a, role: Write(
            f"/api/products/{a.coffee.pk}",
            {"name": f"Coffee {role}", "sku": a.coffee.sku, "price": "7.25"},
        ),
    ),
    ("/api/products/{pk}", "PATCH"): (
        ADMIN,
        lambda a, role: Write(f"/api/products/{a.coffee.pk}", {"price": "7.75"}),
    ),
    ("/api/products/{pk}", "DELETE"): (
        ADMIN,
        lambda a, role: Write(f"/api/products/{fresh_bundle(a).pk}"),
    ),
    ("/api/suppliers", "POST"): (
        ADMIN,
        lambda a, role: Write("/api/suppliers", {"company_id": a.company.pk, "name": "New"}),
    ),
    ("/api/suppliers/{pk}", "PUT"): (
        ADMIN,
        lambda a, role: Write(
            f"/api/suppliers/{a.mug_supplier.pk}",
            {"company_id": a.company.pk, "name": f"Supplies {role}"},
        ),
    ),
    ("/api/suppliers/{pk}", "PATCH"): (
        ADMIN,
        lambda a, role: Write(f"/api/suppliers/{a.mug_supplier.pk}", {"phone": "+1 555 0100"}),
    ),
    ("/api/suppliers/{pk}", "DELETE"): (
        ADMIN,
        lambda a, role: Write(f"/api/suppliers/{fresh_supplier(a).pk}"),
    ),
    ("/api/product-suppliers", "POST"): (
        ADMIN,
        lambda a, role: Write(
            "/api/product-suppliers",
            {"product_id": a.coffee.pk, "supplier_id": fresh_supplier(a).pk},
        ),
    ),
    ("/api/product-suppliers/{pk}", "PUT"): (
        ADMIN,
        lambda a, role: Write(
            f"/api/product-suppliers/{a.link.pk}",
            {"product_id": a.mug.pk, "supplier_id": a.mug_supplier.pk, "lead_time_days": 4},
        ),
    ),
    ("/api/product-suppliers/{pk}", "PATCH"): (
        ADMIN,
        lambda a, role: Write(f"/api/product-suppliers/{a.link.pk}", {"lead_time_days": 5}),
    ),
    ("/api/product-suppliers/{pk}", "DELETE"): (
        ADMIN,
        lambda a, role: Write(
            f"/api/product-suppliers/{link_supplier(a.coffee, fresh_supplier(a)).pk}"
        ),
    ),
    ("/api/bundle-components", "POST"): (
        ADMIN,
        lambda a, role: Write(
            "/api/bundle-components",
            {"bundle_id": fresh_bundle(a).pk, "component_id": a.mug.pk, "quantity": 2},
        ),
    ),
    ("/api/bundle-components/{pk}", "PUT"): (
        ADMIN,
        lambda a, role: Write(f"/api/bundle-components/{a.line.pk}", {"quantity": 3}),
    ),
    ("/api/bundle-components/{pk}", "PATCH"): (
        ADMIN,
        lambda a, role: Write(f"/api/bundle-components/{a.line.pk}", {"quantity": 4}),
    ),
    ("/api/bundle-components/{pk}", "DELETE"): (
        ADMIN,
        lambda a, role: Write(
            "/api/bundle-components/" + str(add_component(fresh_bundle(a), a.mug).pk)
        ),
    ),
    # Each member's own email preferences.
    ("/api/companies/{company_id}/notification-preferences", "PUT"): (
        ANYONE,
        lambda a, role: Write(
            f"/api/companies/{a.company.pk}/notification-preferences",
            {
                "immediate": True,
                "immediate_every_minutes": 5,
                "daily_digest": False,
                "digest_hour": 7,
            },
        ),
    ),
    # Webhooks: admin.
    ("/api/webhooks", "POST"): (
        ADMIN,
        lambda a, role: Write(
            "/api/webhooks",
            {"company_id": a.company.pk, "url": "http://127.0.0.1:9/new", "events": ["stock.low"]},
        ),
    ),
    ("/api/webhooks/{pk}", "PATCH"): (
        ADMIN,
        lambda a, role: Write(f"/api/webhooks/{a.webhook.pk}", {"description": f"by {role}"}),
    ),
    ("/api/webhooks/{pk}", "DELETE"): (
        ADMIN,
        lambda a, role: Write(f"/api/webhooks/{fresh_webhook(a).pk}"),
    ),
    ("/api/webhooks/{pk}/rotate-secret", "POST"): (
        ADMIN,
        lambda a, role: Write(f"/api/webhooks/{a.webhook.pk}/rotate-secret"),
    ),
    ("/api/webhooks/{pk}/ping", "POST"): (
        ADMIN,
        lambda a, role: Write(f"/api/webhooks/{a.webhook.pk}/ping"),
    ),
    ("/api/webhook-deliveries/{pk}/retry", "POST"): (
        ADMIN,
        lambda a, role: Write(f"/api/webhook-deliveries/{a.delivery.pk}/retry"),
    ),
    # Inventory: staff.
    ("/api/stock/receipts", "POST"): (
        STAFF,
        lambda a, role: Write(
            "/api/stock/receipts",
            {"product_id": a.mug.pk, "warehouse_id": a.main.pk, "quantity": 2},
        ),
    ),
    ("/api/stock/adjustments", "POST"): (
        STAFF,
        lambda a, role: Write(
            "/api/stock/adjustments",
            {"product_id": a.mug.pk, "warehouse_id": a.main.pk, "reason": "count", "change": 1},
        ),
    ),
    ("/api/stock/transfers", "POST"): (
        STAFF,
        lambda a, role: Write(
            "/api/stock/transfers",
            {
                "product_id": a.mug.pk,
                "from_warehouse_id": a.main.pk,
                "to_warehouse_id": a.backup.pk,
                "quantity": 1,
            },
        ),
    ),
    # Imports: staff may import stock counts and sales (tests/imports: the other kinds).
    ("/api/imports", "POST"): (STAFF, import_upload),
    ("/api/imports/{pk}/apply", "POST"): (STAFF, valid_count_import),
    ("/api/sales", "POST"): (
        STAFF,
        lambda a, role: Write(
            "/api/sales", {"product_id": a.gift_box.pk, "warehouse_id": a.main.pk, "quantity": 1}
        ),
    ),
    # Purchasing: admins buy, staff receive.
    ("/api/purchase-orders", "POST"): (
        ADMIN,
        lambda a, role: Write(
            "/api/purchase-orders",
            {
                "warehouse_id": a.main.pk,
                "supplier_id": a.mug_supplier.pk,
                "lines": [{"product_id": a.mug.pk, "quantity": 2, "unit_cost": "1.5"}],
            },
        ),
    ),
    ("/api/purchase-orders/{pk}", "PATCH"): (
        ADMIN,
        lambda a, role: Write(f"/api/purchase-orders/{a.new_order().pk}", {"notes": role}),
    ),
    ("/api/purchase-orders/{pk}/order", "POST"): (
        ADMIN,
        lambda a, role: Write(f"/api/purchase-orders/{a.new_order().pk}/order", {}),
    ),
    ("/api/purchase-orders/{pk}/cancel", "POST"): (
        ADMIN,
        lambda a, role: Write(f"/api/purchase-orders/{a.new_order('ordered').pk}/cancel"),
    ),
    ("/api/purchase-orders/{pk}/close", "POST"): (
        ADMIN,
        lambda a, role: Write(f"/api/purchase-orders/{a.new_order('partially_received').pk}/close"),
    ),
    ("/api/purchase-orders/{pk}/receipts", "POST"): (
        STAFF,
        lambda a, role: Write(
            f"/api/purchase-orders/{a.order.pk}/receipts",
            {"lines": [{"line_id": a.order_line().pk, "quantity": 1}]},
        ),
    ),
    ("/api/companies/{company_id}/purchase-orders/from-alerts", "POST"): (
        ADMIN,
        lambda a, role: Write(f"/api/companies/{a.company.pk}/purchase-orders/from-alerts", {}),
    ),
}


# A refusal is 403, except where the product contract says otherwise: SPEC §3.1 answers a
# POST /api/products whose warehouse is in a company where the caller may not write with 404,
# a member below admin included.
REFUSAL = {("/api/products", "POST"): (404, "not_found")}


def writing_routes() -> set[tuple[str, str]]:
    return {(route, method) for route, method in route_methods() if method in UNSAFE_METHODS}


def test_every_writing_route_is_in_the_role_matrix():
    missing = writing_routes() - set(WRITES)
    stale = set(WRITES) - writing_routes()
    assert not missing, f"writing routes missing from WRITES: {missing}"
    assert not stale, f"WRITES entries for routes that do not exist: {stale}"


def test_the_matrix_gives_each_role_what_the_specification_says():
    lowest = {key: role for key, (role, _) in WRITES.items()}
    members_routes = {key for key in WRITES if "/members" in key[0]}
    stock_routes = {
        key
        for key in WRITES
        if key[0].startswith(("/api/stock/", "/api/sales", "/api/imports"))
        or key[0].endswith("/receipts")
    }
    assert {lowest[key] for key in members_routes} == {Role.OWNER}
    assert {lowest[key] for key in stock_routes} == {Role.STAFF}
    account = {("/api/auth/token", "POST"), ("/api/auth/tokens/{pk}", "DELETE")}
    account |= {("/api/companies", "POST"), ("/api/signup", "POST"), ("/api/me/password", "POST")}
    account |= {("/api/password-reset", "POST"), ("/api/password-reset/confirm", "POST")}
    account.add(("/api/invitations/accept", "POST"))
    account.add(("/api/companies/{company_id}/notification-preferences", "PUT"))
    assert {lowest[key] for key in account} == {ANYONE}
    invitation_routes = {key for key in WRITES if "/invitations" in key[0]} - account
    assert {lowest[key] for key in invitation_routes} == {Role.ADMIN}
    catalog_routes = set(WRITES) - members_routes - stock_routes - account - invitation_routes
    assert {lowest[key] for key in catalog_routes} == {Role.ADMIN}


def send(client: APIClient, method: str, write: Write):
    request = getattr(client, method.lower())
    if write.body is None:
        return request(write.path)
    return request(write.path, write.body, format="multipart" if write.multipart else "json")


@pytest.mark.parametrize("key", sorted(WRITES), ids=lambda key: f"{key[1]} {key[0]}")
def test_role_matrix(shop_a, key):
    _, method = key
    lowest, build = WRITES[key]
    for role in ROLES:
        write = build(shop_a, role)
        before = company_rows(shop_a.company)
        client = APIClient() if write.anonymous else shop_a.tenant.clients[role]
        with query_budget(PRODUCT_WRITE_BUDGET if "/products" in key[0] else DEFAULT_QUERY_BUDGET):
            response = send(client, method, write)
        assert_documented(response)
        if ROLE_RANK[role] >= ROLE_RANK[lowest]:
            assert response.status_code in (200, 201, 202, 204), (role, response.content)
        else:
            assert_error(response, *REFUSAL.get(key, (403, "permission_denied")))
            assert company_rows(shop_a.company) == before, role
    REPORT["roles"] = (
        f"role matrix: {len(WRITES)} writing route × method pairs × {len(ROLES)} roles"
    )
