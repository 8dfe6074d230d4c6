"""The web app's one door to the rest of StockFlow.

Every service, selector and API serializer of the other apps that a page uses is called from
this module and nowhere else in ``stockflow.web``: when one of them moves or is renamed, this
is the file to change. Each write validates with the API's serializer, then goes through the
API's service, so a page and an endpoint cannot disagree; each raises the same exceptions as
the API (``ValidationError``, ``Conflict``...), which ``forms.Form.add_errors`` shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from stockflow.accounts import flows as account_flows
from stockflow.accounts import services as account_services
from stockflow.accounts.models import Invitation
from stockflow.alerts.report import low_stock_report as alerts_report
from stockflow.alerts.serializers import LowStockQuerySerializer
from stockflow.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from stockflow.api.idempotency import REPLAY_HEADER, run_idempotent
from stockflow.api.throttling import AccountRateThrottle, LoginRateThrottle
from stockflow.catalog import services as catalog_services
from stockflow.catalog.filters import ProductFilter
from stockflow.catalog.models import Product, ProductType, Supplier, Warehouse
from stockflow.catalog.serializers import (
    ProductCreateSerializer,
    ProductSerializer,
    ProductTypeSerializer,
    SupplierSerializer,
    WarehouseSerializer,
)
from stockflow.dataio import services as import_services
from stockflow.dataio.importers import IMPORTERS, STOCK_PREFIX
from stockflow.dataio.models import ImportJob, ImportKind, ImportStatus
from stockflow.dataio.serializers import ImportUploadSerializer
from stockflow.dataio.urls import EXPORTS
from stockflow.inventory import catalog_stock
from stockflow.inventory import commands as stock_commands
from stockflow.inventory import selectors as inventory_selectors
from stockflow.notifications import selectors as notification_selectors
from stockflow.notifications import services as notification_services
from stockflow.notifications.models import (
    NotificationPreference,
    WebhookDelivery,
    WebhookEndpoint,
)
from stockflow.notifications.serializers import (
    EVENT_TYPES,
    NotificationPreferenceSerializer,
    WebhookEndpointInput,
)
from stockflow.purchasing import selectors as purchasing_selectors
from stockflow.purchasing import sending as purchasing_sending
from stockflow.purchasing import services as purchasing_services
from stockflow.purchasing.filters import PurchaseOrderFilter
from stockflow.purchasing.models import PurchaseOrder, PurchaseOrderStatus
from stockflow.purchasing.serializers import (
    FromAlertsInput,
    OrderActionInput,
    OrderReceiptInput,
    PurchaseOrderInput,
    PurchaseOrderUpdateInput,
)
from stockflow.tenancy import services as tenancy_services
from stockflow.tenancy.models import ApiToken, Membership, Role
from stockflow.tenancy.scoping import TenantScope
from stockflow.tenancy.serializers import (
    AddMemberSerializer,
    MemberSerializer,
    ObtainTokenSerializer,
)


@dataclass(frozen=True)
class Caller:
    """Who submits a form, for which company: what the serializers' context needs."""

    user: Any
    tenant: TenantScope
    company_id: int

    def context(self, role: str) -> dict:
        return {"tenant": self.tenant, "required_role": role}


def _validated(serializer_class, data, *, context: dict, instance=None, partial=False) -> dict:
    serializer = serializer_class(instance, data=data, context=context, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- at most once per form: the API's Idempotency-Key mechanism ---------------------------


@dataclass(frozen=True)
class _FormRequest:
    """What ``api.idempotency.run_idempotent`` reads of a request, for a form POST: the key
    is the form's hidden field, the body the form's fields."""

    method: str
    path: str
    data: Mapping
    headers: Mapping


def run_once(
    *,
    path: str,
    company_id: int,
    key: str,
    body: Mapping,
    operation: Callable[[], dict],
    prepare: Callable[[], None] | None = None,
) -> tuple[dict, bool]:
    """Run ``operation`` at most once per (company, key), in one transaction, exactly as the
    API does for a request with an ``Idempotency-Key``. Returns its result (the stored one
    for a resubmit) and whether it was a resubmit."""
    request = _FormRequest("POST", path, dict(body), {IDEMPOTENCY_HEADER: key})
    response = run_idempotent(
        request, company_id, lambda: Response(operation(), status=201), prepare=prepare
    )
    return response.data, REPLAY_HEADER in response.headers


# --- login --------------------------------------------------------------------------------


def _attempt_allowed(throttle, request) -> tuple[bool, float | None]:
    # What the API's throttles read of a request: the data sent and the client's address.
    attempt = SimpleNamespace(data=request.POST, META=request.META, headers=request.headers)
    allowed = throttle.allow_request(attempt, None)
    return allowed, None if allowed else throttle.wait()


def login_attempt_allowed(request) -> tuple[bool, float | None]:
    """The API's login throttle (attempts per client address and username) for the login
    form: whether this attempt may go on, and else how many seconds to wait."""
    return _attempt_allowed(LoginRateThrottle(), request)


def account_attempt_allowed(request) -> tuple[bool, float | None]:
    """The API's throttle of sign-up, invitation acceptance and password reset (attempts per
    client address), for the same forms of the web app."""
    return _attempt_allowed(AccountRateThrottle(), request)


# --- reads ----------------------------------------------------------------------------------


def low_stock_report(
    *, company_id: int, query: Mapping[str, str], limit: int | None, offset: int = 0
) -> tuple[list[dict], int, dict, datetime]:
    """The low-stock report as the API gives it (selector rows plus forecast figures): its
    rows, the total, the validated parameters, and the end of the sales window."""
    params = _validated(LowStockQuerySerializer, dict(query), context={})
    as_of = timezone.now()
    page = alerts_report(
        company_id=company_id,
        now=as_of,
        days=params["days"],
        cover_days=params["cover_days"],
        warehouse_id=params.get("warehouse_id"),
        product_type_id=params.get("product_type_id"),
        limit=limit,
        offset=offset,
    )
    rows = page.rows
    return rows, page.total, params, as_of


def product_search(query: Mapping, queryset) -> ProductFilter:
    """The API's product filters (``q`` for name or SKU, type, status...) over ``queryset``."""
    return ProductFilter(data=query, queryset=queryset)


def product_stock(product: Product) -> dict:
    return inventory_selectors.product_stock(product)


def bundle_availability(
    bundle_ids: list[int], *, company_id: int
) -> dict[int, list[dict[str, int]]]:
    return inventory_selectors.bundle_availability(bundle_ids, company_ids=[company_id])


def products_for_display(queryset):
    return inventory_selectors.products_for_display(queryset)


# --- catalog ------------------------------------------------------------------------------


def create_product(caller: Caller, post: Mapping, *, key: str, body: Mapping, path: str) -> int:
    data = _validated(ProductCreateSerializer, post, context=caller.context(Role.ADMIN))
    if data["company_id"] != caller.company_id:
        raise NotFound("warehouse_id not found.")

    def create() -> dict:
        product = catalog_stock.create_product(actor=caller.user, **data)
        return {"id": product.pk}

    result, _ = run_once(
        path=path, company_id=caller.company_id, key=key, body=body, operation=create
    )
    return result["id"]


def update_product(caller: Caller, product: Product, post: Mapping) -> Product:
    data = _validated(
        ProductSerializer, post, context=caller.context(Role.ADMIN), instance=product, partial=True
    )
    return catalog_stock.update_product(product, **data)


# (serializer, create service, update service) of the plain catalog resources
_RESOURCES = {
    Warehouse: (
        WarehouseSerializer,
        catalog_services.create_warehouse,
        catalog_services.update_warehouse,
    ),
    Supplier: (
        SupplierSerializer,
        catalog_services.create_supplier,
        catalog_services.update_supplier,
    ),
    ProductType: (
        ProductTypeSerializer,
        catalog_services.create_product_type,
        catalog_stock.update_product_type,
    ),
}


def save_resource(caller: Caller, model, post: Mapping, instance=None):
    """Create (``instance`` None) or change a warehouse, supplier or product type."""
    serializer_class, create, update = _RESOURCES[model]
    context = caller.context(Role.ADMIN)
    if instance is None:
        post = post.copy()
        post["company_id"] = str(caller.company_id)
        return create(**_validated(serializer_class, post, context=context))
    data = _validated(serializer_class, post, context=context, instance=instance, partial=True)
    return update(instance, **data)


# --- stock operations -----------------------------------------------------------------------


# operation name → the stock command the API runs too
STOCK_OPERATIONS = {
    "receive": stock_commands.RECEIVE,
    "adjust": stock_commands.ADJUST,
    "transfer": stock_commands.TRANSFER,
    "sell": stock_commands.SELL,
}


def run_stock_operation(
    caller: Caller, operation: str, data: Mapping, *, key: str, body: Mapping, path: str
) -> tuple[dict, bool]:
    """Validate with the API's input serializer, then run the service once per form key.
    Returns ({"product_id", "ledger_entries"}, whether the form was a resubmit)."""
    command = STOCK_OPERATIONS[operation]
    validated = _validated(command.input_serializer, data, context=caller.context(Role.STAFF))
    if validated["product_id"].company_id != caller.company_id:
        raise NotFound("product_id not found.")

    def run() -> dict:
        result = command.run(validated, caller.user)
        return {
            "product_id": validated["product_id"].pk,
            "ledger_entries": len(result.ledger_entries),
        }

    return run_once(
        path=path,
        company_id=caller.company_id,
        key=key,
        body=body,
        operation=run,
        prepare=command.prepare(validated),
    )


# --- members and tokens ---------------------------------------------------------------------


def add_member(company, post: Mapping) -> Membership:
    data = _validated(AddMemberSerializer, post, context={})
    return tenancy_services.add_member(company=company, user=data["username"], role=data["role"])


def change_member_role(membership: Membership, post: Mapping) -> Membership:
    data = _validated(MemberSerializer, post, context={}, instance=membership, partial=True)
    return tenancy_services.change_member_role(membership, data.get("role", membership.role))


def remove_member(membership: Membership) -> None:
    tenancy_services.remove_member(membership)


def issue_token(user, post: Mapping) -> tuple[ApiToken, str]:
    """A new API token of the user (the clear token is returned once), its name and lifetime
    checked by the fields of the API's token request."""
    fields = ObtainTokenSerializer().fields
    errors, values = {}, {}
    for name in ("name", "expires_in_days"):
        raw = post.get(name, "")
        try:
            values[name] = fields[name].run_validation(raw if raw != "" else None)
        except ValidationError as exc:
            errors[name] = exc.detail
    if errors:
        raise ValidationError(errors)
    days = values["expires_in_days"]
    expires_at = timezone.now() + timedelta(days=days) if days else None
    return tenancy_services.issue_token(user=user, name=values["name"] or "", expires_at=expires_at)


def revoke_token(token: ApiToken) -> None:
    tenancy_services.revoke_token(token)


# --- invitations, sign-up and password reset --------------------------------------------------


def invite(caller: Caller, post: Mapping) -> Invitation:
    return account_flows.invite(
        post,
        company_id=caller.company_id,
        invited_by=caller.user,
        inviter_role=caller.tenant.role_in(caller.company_id),
    )


def resend_invitation(invitation: Invitation) -> Invitation:
    return account_services.resend_invitation(invitation)


def revoke_invitation(invitation: Invitation) -> None:
    account_services.revoke_invitation(invitation)


def accept_invitation(post: Mapping, *, user=None) -> Membership:
    """``user`` (signed in) joins; else a new account is made from the form's username and
    password."""
    return account_flows.accept_invitation(post, user=user)


def signup_enabled() -> bool:
    return settings.STOCKFLOW_SIGNUP


def sign_up(post: Mapping) -> Membership:
    return account_flows.sign_up(post)


def request_password_reset(post: Mapping) -> None:
    account_flows.request_password_reset(post)


def reset_password(post: Mapping):
    return account_flows.reset_password(post)


# --- webhooks -------------------------------------------------------------------------------

WEBHOOK_EVENT_TYPES = EVENT_TYPES


def _webhook_input(post) -> dict:
    """What the API's webhook input reads, from a form: ``events`` is one checkbox per type."""
    data = {name: post[name] for name in ("url", "description", "is_active") if name in post}
    data["events"] = post.getlist("events")
    return data


def create_webhook(caller: Caller, post) -> WebhookEndpoint:
    """A new endpoint of the caller's company; its secret is in ``.secret`` (shown once)."""
    data = {**_webhook_input(post), "company_id": caller.company_id}
    values = dict(_validated(WebhookEndpointInput, data, context=caller.context(Role.ADMIN)))
    company = values.pop("company")
    return notification_services.create_endpoint(company_id=company.pk, actor=caller.user, **values)


def update_webhook(caller: Caller, endpoint: WebhookEndpoint, post) -> WebhookEndpoint:
    data = _validated(
        WebhookEndpointInput,
        _webhook_input(post),
        context=caller.context(Role.ADMIN),
        partial=True,
    )
    return notification_services.update_endpoint(endpoint, **data)


def rotate_webhook_secret(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return notification_services.rotate_secret(endpoint)


def ping_webhook(endpoint: WebhookEndpoint) -> WebhookDelivery:
    return notification_services.send_ping(endpoint)


def delete_webhook(endpoint: WebhookEndpoint) -> None:
    notification_services.delete_endpoint(endpoint)


def retry_delivery(delivery: WebhookDelivery) -> WebhookDelivery:
    return notification_services.retry_delivery(delivery)


def webhook_deliveries(endpoint: WebhookEndpoint, limit: int):
    """The endpoint's newest deliveries, each with its attempts (two queries)."""
    queryset = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-id")
    return list(
        notification_selectors.deliveries_with_attempts(queryset, [endpoint.company_id])[:limit]
    )


# --- notification preferences ----------------------------------------------------------------


def notification_preferences(company, user) -> dict:
    """The member's own email preferences in ``company``, as the API shows them."""
    preference: NotificationPreference = notification_selectors.preference_of(
        company.pk, user, company
    )
    return NotificationPreferenceSerializer(preference).data


def save_notification_preferences(caller: Caller, post: Mapping) -> NotificationPreference:
    data = _validated(NotificationPreferenceSerializer, post, context={})
    return notification_services.save_preferences(
        company_id=caller.company_id, user=caller.user, **data
    )


# --- purchase orders --------------------------------------------------------------------------

ORDER_STATUSES = PurchaseOrderStatus.choices
OverReceipt = purchasing_services.OverReceipt


def order_search(query: Mapping, queryset) -> PurchaseOrderFilter:
    """The API's purchase order filters (``status``, ``supplier_id``...) over ``queryset``."""
    return PurchaseOrderFilter(data=query, queryset=queryset)


def orders_with_lines(queryset):
    return purchasing_selectors.orders_with_lines(queryset)


def order_actions(order: PurchaseOrder) -> set[str]:
    """The actions (``edit``, ``order``, ``cancel``, ``receive``, ``close``) the order's
    status allows, as the services decide them: the page shows only their buttons."""
    return {
        action
        for action, (allowed, _) in purchasing_services.TRANSITIONS.items()
        if order.status in allowed
    }


def order_figures(order: PurchaseOrder) -> dict:
    """The lines of an order of ``orders_with_lines`` with their totals, the order's total
    (None while a line has no cost) and whether it is overdue."""
    lines = list(order.lines.all())
    return {
        "lines": [
            {
                "line": line,
                "remaining": line.quantity_ordered - line.quantity_received,
                "total": purchasing_selectors.line_total(line),
            }
            for line in lines
        ],
        "total": purchasing_selectors.order_total(lines),
        "overdue": purchasing_selectors.is_overdue(order),
    }


def order_document_html(order: PurchaseOrder) -> str:
    """The printable order (what the supplier's email shows); ``order`` comes from
    ``orders_with_lines`` with its company."""
    return purchasing_sending.render_order_html(purchasing_selectors.order_document(order))


def _order_lines(data: dict) -> list[purchasing_services.LineInput]:
    return [
        purchasing_services.LineInput(line["product_id"], line["quantity"], line["unit_cost"])
        for line in data["lines"]
    ]


def create_order(caller: Caller, data: Mapping, *, key: str, body: Mapping, path: str) -> int:
    """A new draft of the caller's company; ``data`` is what the API's create reads."""
    valid = _validated(PurchaseOrderInput, data, context=caller.context(Role.ADMIN))
    if valid["warehouse_id"].company_id != caller.company_id:
        raise NotFound("warehouse_id not found.")

    def create() -> dict:
        order = purchasing_services.create_order(
            supplier=valid["supplier_id"],
            warehouse=valid["warehouse_id"],
            lines=_order_lines(valid),
            expected_date=valid["expected_date"],
            notes=valid["notes"],
            actor=caller.user,
        )
        return {"id": order.pk}

    result, _ = run_once(
        path=path, company_id=caller.company_id, key=key, body=body, operation=create
    )
    return result["id"]


def update_order(caller: Caller, order: PurchaseOrder, data: Mapping) -> PurchaseOrder:
    """Change a draft: its header and all its lines, as the API's PATCH with ``lines``."""
    valid = _validated(PurchaseOrderUpdateInput, data, context=caller.context(Role.ADMIN))
    for name in ("supplier_id", "warehouse_id"):
        if name in valid and valid[name].company_id != order.company_id:
            raise ValidationError({name: ["Must belong to the order's company."]})
    return purchasing_services.update_order(
        order,
        supplier=valid.get("supplier_id"),
        warehouse=valid.get("warehouse_id"),
        expected_date=valid.get("expected_date"),
        notes=valid.get("notes", ""),
        lines=_order_lines(valid),
    )


def place_order(caller: Caller, order: PurchaseOrder, post: Mapping) -> PurchaseOrder:
    data = _validated(OrderActionInput, post, context={})
    return purchasing_services.place_order(
        order, actor=caller.user, send_to_supplier=data["send_to_supplier"]
    )


def cancel_order(order: PurchaseOrder) -> PurchaseOrder:
    return purchasing_services.cancel_order(order)


def close_order(order: PurchaseOrder) -> PurchaseOrder:
    return purchasing_services.close_order(order)


def receive_order(
    caller: Caller, order: PurchaseOrder, data: Mapping, *, key: str, body: Mapping, path: str
) -> tuple[dict, bool]:
    """Receive units line by line, once per form key, exactly as the API's receipts: the
    stock levels are prepared first, then one transaction. Returns ({"id"}, resubmit)."""
    serializer = OrderReceiptInput(data=data)
    serializer.is_valid(raise_exception=True)
    lines = serializer.receipt_lines()

    def receive() -> dict:
        purchasing_services.receive_order(
            order, lines, actor=caller.user, note=serializer.validated_data["note"]
        )
        return {"id": order.pk}

    return run_once(
        path=path,
        company_id=caller.company_id,
        key=key,
        body=body,
        operation=receive,
        prepare=purchasing_services.prepare_receipt(order, lines),
    )


def create_orders_from_alerts(
    caller: Caller, data: Mapping, *, key: str, body: Mapping, path: str
) -> tuple[dict, bool]:
    """Draft orders for the alerts of the chosen products (the report's filters apply), once
    per form key, by the API's service. Returns ({"orders": [{"id", "number"}], "skipped"},
    resubmit)."""
    params = _validated(FromAlertsInput, data, context={})

    def create() -> dict:
        result = purchasing_services.create_orders_from_report(
            company_id=caller.company_id, params=params, actor=caller.user
        )
        return {
            "orders": [{"id": order.pk, "number": order.number} for order in result.orders],
            "skipped": result.skipped,
        }

    return run_once(path=path, company_id=caller.company_id, key=key, body=body, operation=create)


# --- imports and exports ---------------------------------------------------------------------

IMPORT_KINDS = ImportKind.choices
IMPORT_RUNNING = (ImportStatus.VALIDATING, ImportStatus.APPLYING)
IMPORT_VALID = ImportStatus.VALID


def import_role(kind: str) -> str:
    """The lowest role that may import (upload and apply) files of ``kind``."""
    return IMPORTERS[kind].min_role


def import_columns(kind: str) -> dict:
    """The columns a file of ``kind`` must have and may have, as its importer reads them."""
    importer = IMPORTERS[kind]
    optional = list(importer.optional)
    if kind == ImportKind.PRODUCTS:
        optional.append(f"{STOCK_PREFIX}<warehouse code>")
    return {"required": list(importer.required), "optional": optional}


def upload_import(caller: Caller, post: Mapping, files: Mapping, *, allowed) -> tuple[Any, bool]:
    """Validate an upload with the API's serializer, check ``allowed(kind)`` (the caller's
    role for that kind; else Django's ``PermissionDenied``), then store the file and enqueue
    its validation. Returns (the job, whether it is new: False for a file uploaded before)."""
    data = {
        "company_id": caller.company_id,
        "kind": post.get("kind", ""),
        "dry_run": post.get("dry_run", "false"),
    }
    if "file" in files:
        data["file"] = files["file"]
    valid = _validated(ImportUploadSerializer, data, context=caller.context(Role.STAFF))
    allowed(valid["kind"])
    return import_services.create_job(
        company_id=caller.company_id,
        kind=valid["kind"],
        content=valid["file"].read(),
        file_name=valid["file"].name or "",
        dry_run=valid["dry_run"],
        actor=caller.user,
    )


def apply_import(job: ImportJob) -> ImportJob:
    return import_services.start_apply(job)


def export_links(company_id: int) -> list[dict]:
    """Every export of the API (``dataio.urls``), with its CSV and XLSX addresses: the
    filtered ones from ``EXPORTS``, then the low-stock report."""
    exports = [(name, description) for name, _, _, _, description in EXPORTS]
    exports.append(("low_stock", "The low-stock report with its forecast."))
    return [
        {
            "name": name,
            "description": description,
            "url": reverse(f"export-{name.replace('_', '-')}", kwargs={"company_id": company_id}),
        }
        for name, description in exports
    ]
