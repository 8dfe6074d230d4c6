"""Two fully stocked companies, a snapshot of everything a company owns, and the figures the
security tests report at the end of the run."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
import requests
import schemathesis
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from stockflow.accounts.models import Invitation
from stockflow.api.models import IdempotencyKey
from stockflow.catalog import bundle_services
from stockflow.catalog import services as catalog
from stockflow.catalog.models import (
    BundleComponent,
    Product,
    ProductSupplier,
    ProductType,
    Supplier,
    Warehouse,
)
from stockflow.inventory import catalog_stock, movements, sales
from stockflow.inventory.models import LedgerEntry, Sale, StockEvent, StockLevel, StockMovement
from stockflow.notifications import services as notifications
from stockflow.notifications.models import WebhookDelivery, WebhookEndpoint
from stockflow.purchasing import services as purchasing
from stockflow.purchasing.models import PurchaseOrder, PurchaseOrderCounter, PurchaseOrderLine
from stockflow.tenancy.models import ApiToken, Company, Membership, Role
from tests.factories import Tenant, make_invitation

# What the security tests exercised, printed in the terminal summary of the run.
REPORT: dict[str, str] = {}


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("security coverage")
        for line in REPORT.values():
            terminalreporter.write_line(line)


@functools.cache
def api_schema():
    """The API's OpenAPI schema, as schemathesis reads it."""
    spec = SchemaGenerator().get_schema(request=None, public=True)
    return schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(spec)))


def assert_documented(response) -> None:
    """The response is one the schema documents for its operation: status code, content
    type and body. Routes outside the schema (the schema and docs pages) are skipped."""
    method, path = response.request["REQUEST_METHOD"], response.request["PATH_INFO"]
    schema = api_schema()
    operation = schema.find_operation_by_path(method, path) or schema.find_operation_by_path(
        method, path.rstrip("/") + "/"
    )
    if operation is None and path.startswith(("/api/schema/", "/api/docs/", "/api/redoc/")):
        return
    assert operation is not None, f"{method} {path} is not in the schema"
    pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(operation.path.rstrip("/")))
    path_parameters = re.fullmatch(pattern + "/?", path).groupdict()
    operation.Case(path_parameters=path_parameters).validate_response(
        schemathesis.Response(
            status_code=response.status_code,
            headers={name.lower(): [value] for name, value in response.items()},
            content=response.content,
            request=requests.Request(method, f"http://testserver{path}").prepare(),
            elapsed=0.0,
            verify=False,
        ),
        checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
    )


@dataclass
class Shop:
    """One company's data, every kind of tenant row at least once. Text fields of the
    company's rows carry ``marker`` so a response can be searched for a leak."""

    tenant: Tenant
    marker: str
    main: Warehouse
    backup: Warehouse
    kind: ProductType
    mug: Product
    coffee: Product
    gift: Product
    line: BundleComponent
    supplier: Supplier
    link: ProductSupplier
    level: StockLevel
    sale: Sale
    receipt: StockMovement
    transfer: StockMovement
    ledger_entry: LedgerEntry
    event: StockEvent
    webhook: WebhookEndpoint
    delivery: WebhookDelivery
    idempotency_key: IdempotencyKey
    invitation: Invitation
    order: PurchaseOrder  # ordered, partly received
    draft: PurchaseOrder

    def order_line(self, order: PurchaseOrder | None = None) -> PurchaseOrderLine:
        return (order or self.order).lines.order_by("id").first()

    def new_order(self, status: str = "draft") -> PurchaseOrder:
        """A fresh order of the mug and the coffee, in ``status`` (draft, ordered or
        partially_received)."""
        return new_order(self.supplier, self.main, self.mug, self.coffee, status)

    @property
    def company(self) -> Company:
        return self.tenant.company

    def membership(self, role: str) -> Membership:
        return Membership.objects.get(company=self.company, user=self.tenant.users[role])

    def token(self, role: str) -> ApiToken:
        return ApiToken.objects.filter(user=self.tenant.users[role]).latest("id")


def new_order(supplier, warehouse, mug, coffee, status: str = "draft") -> PurchaseOrder:
    order = purchasing.create_order(
        supplier=supplier,
        warehouse=warehouse,
        lines=[
            purchasing.LineInput(mug, 10, Decimal("1.2500")),
            purchasing.LineInput(coffee, 5, Decimal("3.0000")),
        ],
        notes="standing order",
    )
    if status != "draft":
        order = purchasing.place_order(order)
    if status == "partially_received":
        line = order.lines.order_by("id").first()
        order = purchasing.receive_order(order, [purchasing.ReceiptLine(line.pk, 4)])
    return order


def build_shop(tenant: Tenant, marker: str) -> Shop:
    company = tenant.company
    owner = tenant.users[Role.OWNER]
    main = catalog.create_warehouse(
        company=company, name=f"{marker} main", code="MAIN", address=f"1 {marker} street"
    )
    backup = catalog.create_warehouse(company=company, name=f"{marker} backup", code="BACKUP")
    kind = catalog.create_product_type(
        company=company, name=f"{marker} kitchen", low_stock_threshold=500
    )

    def product(sku: str, quantity: int | None, **extra) -> Product:
        return catalog_stock.create_product(
            company_id=company.pk,
            name=f"{marker} {sku}",
            sku=f"{marker}-{sku}",
            price=Decimal("12.50"),
            description=f"{marker} description",
            warehouse=main if quantity is not None else None,
            initial_quantity=quantity or 0,
            **extra,
        )

    mug = product("MUG", 100, product_type=kind)
    coffee = product("COFFEE", 50, low_stock_threshold=60)
    gift = product("GIFT", None, is_bundle=True)
    line = bundle_services.add_bundle_component(bundle=gift, component=mug, quantity=1)
    bundle_services.add_bundle_component(bundle=gift, component=coffee, quantity=2)
    supplier = catalog.create_supplier(
        company=company, name=f"{marker} supplies", contact_email=f"{marker.lower()}@example.com"
    )
    link = catalog.link_supplier(
        product=mug, supplier=supplier, supplier_sku=f"{marker}-S1", is_primary=True
    )
    receipt = movements.receive_stock(
        product=mug, warehouse=main, quantity=5, actor=owner, note=f"{marker} receipt"
    ).document
    transfer = movements.transfer_stock(
        product=mug, from_warehouse=main, to_warehouse=backup, quantity=3, actor=owner
    ).document
    movements.adjust_stock(product=coffee, warehouse=main, reason="damage", change=-1, actor=owner)
    sale = sales.record_sale(product=mug, warehouse=main, quantity=2, actor=owner).document
    sales.record_sale(product=gift, warehouse=main, quantity=1, actor=owner)
    # The backup warehouse's mugs sell out: a stock.out event.
    sales.record_sale(product=mug, warehouse=backup, quantity=3, actor=owner)
    webhook = notifications.create_endpoint(
        company_id=company.pk,
        url=f"http://127.0.0.1:9/{marker}/hooks",
        events=["*"],
        description=f"{marker} receiver",
    )
    delivery = notifications.send_ping(webhook)
    idempotency_key = IdempotencyKey.objects.create(
        company=company,
        key=f"{marker}-key",
        fingerprint="0" * 64,
        status_code=201,
        response_body="{}",
    )
    order = new_order(supplier, main, mug, coffee, "partially_received")
    draft = new_order(supplier, main, mug, coffee)
    return Shop(
        tenant=tenant,
        marker=marker,
        main=main,
        backup=backup,
        kind=kind,
        mug=mug,
        coffee=coffee,
        gift=gift,
        line=line,
        supplier=supplier,
        link=link,
        level=StockLevel.objects.get(product=mug, warehouse=main),
        sale=sale,
        receipt=receipt,
        transfer=transfer,
        ledger_entry=LedgerEntry.objects.filter(company=company).latest("id"),
        event=StockEvent.objects.get(company=company, stock_level__isnull=False),
        webhook=webhook,
        delivery=delivery,
        idempotency_key=idempotency_key,
        order=order,
        draft=draft,
        invitation=make_invitation(company, email=f"invitee.{marker}@example.com"),
    )


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
    }
    assert expected <= set(tenant_models())


@pytest.fixture
def shop_a(tenant_a) -> Shop:
    return build_shop(tenant_a, "ACME")


@pytest.fixture
def shop_b(tenant_b) -> Shop:
    return build_shop(tenant_b, "SECRETB")
