"""The framework floor of a sale: the least a Django view can do for POST /api/sales.

No DRF: the same token check as ``ApiTokenAuthentication`` (``token_with_roles``: one
statement reads the token, its user and the user's memberships; SHA-256 compared in constant
time), then in one transaction the same three statements as the raw SQL floor
(bench/sale.pgbench): a conditional decrement limited to the companies where the caller may
sell, the sale row, the ledger entry. Whatever the real endpoint spends beyond this view is
the cost of DRF, validation, scoping and idempotency.
"""

from __future__ import annotations

import json

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from bench.floor.selectors import low_stock_alert_rows
from stockflow.tenancy.selectors import token_with_roles
from stockflow.tenancy.tokens import split_prefix, token_matches

WRITER_ROLES = {"owner", "admin", "staff"}

DECREMENT = """
    UPDATE inventory_stocklevel SET quantity = quantity - %s, updated_at = %s
    WHERE product_id = %s AND warehouse_id = %s AND quantity >= %s AND company_id = ANY(%s)
    RETURNING id, quantity, company_id
"""
INSERT_SALE = """
    INSERT INTO inventory_sale
        (company_id, product_id, warehouse_id, quantity, unit_price, sold_at, created_by_id,
         created_at)
    SELECT %s, id, %s, %s, price, %s, %s, %s FROM catalog_product WHERE id = %s
    RETURNING id, unit_price
"""
INSERT_LEDGER = """
    INSERT INTO inventory_ledgerentry
        (company_id, stock_level_id, product_id, warehouse_id, change, quantity_after, reason,
         adjustment_reason, reference_type, reference_id, actor_id, note, created_at)
    VALUES (%s, %s, %s, %s, %s, %s, 'sale', '', 'sale', %s, %s, '', %s)
"""
LEVEL_EXISTS = """
    SELECT 1 FROM inventory_stocklevel
    WHERE product_id = %s AND warehouse_id = %s AND company_id = ANY(%s)
"""


def error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def authenticated(request: HttpRequest) -> tuple[int, dict[int, str]] | None:
    """The caller's user id and role in each of their companies, by the API's own one-statement
    token check, or ``None``."""
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() not in {"bearer", "token"}:
        return None
    prefix = split_prefix(raw.strip())
    if prefix is None:
        return None
    found = token_with_roles(prefix)
    if found is None or not token_matches(raw.strip(), found[0].token_hash):
        return None
    token, roles = found
    if not token.is_usable() or not token.user.is_active:
        return None
    return token.user_id, roles


@csrf_exempt
@require_POST
def floor_sale(request: HttpRequest) -> JsonResponse:
    caller = authenticated(request)
    if caller is None:
        return error(401, "not_authenticated", "Invalid token.")
    user_id, roles = caller
    companies = [company_id for company_id, role in roles.items() if role in WRITER_ROLES]
    try:
        body = json.loads(request.body)
        product_id = int(body["product_id"])
        warehouse_id = int(body["warehouse_id"])
        quantity = int(body.get("quantity", 1))
    except (ValueError, TypeError, KeyError):
        return error(400, "validation_error", "product_id, warehouse_id, quantity required.")
    if quantity <= 0:
        return error(400, "validation_error", "quantity must be positive.")

    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(DECREMENT, [quantity, now, product_id, warehouse_id, quantity, companies])
        level = cursor.fetchone()
        if level is None:
            cursor.execute(LEVEL_EXISTS, [product_id, warehouse_id, companies])
            if cursor.fetchone() is None:
                return error(404, "not_found", "Not found.")
            return error(409, "insufficient_stock", "Not enough stock.")
        level_id, quantity_after, company_id = level
        cursor.execute(
            INSERT_SALE, [company_id, warehouse_id, quantity, now, user_id, now, product_id]
        )
        sale_id, unit_price = cursor.fetchone()
        cursor.execute(
            INSERT_LEDGER,
            [
                company_id,
                level_id,
                product_id,
                warehouse_id,
                -quantity,
                quantity_after,
                sale_id,
                user_id,
                now,
            ],
        )
    return JsonResponse(
        {
            "id": sale_id,
            "product_id": product_id,
            "warehouse_id": warehouse_id,
            "quantity": quantity,
            "unit_price": str(unit_price),
            "sold_at": now.isoformat(),
            "stock_after": quantity_after,
        },
        status=201,
    )


@require_GET
def floor_low_stock_alerts(request: HttpRequest, company_id: int) -> JsonResponse:
    """The framework floor of the low-stock report: the same token check (which reads the
    caller's memberships too), the reference SQL (bench/alerts_reference.sql), rows shaped as
    SPEC.md 3.2."""
    caller = authenticated(request)
    if caller is None:
        return error(401, "not_authenticated", "Invalid token.")
    _, roles = caller
    try:
        window_days = int(request.GET.get("window_days", 30))
        limit = int(request.GET["limit"]) if "limit" in request.GET else None
    except ValueError:
        return error(400, "validation_error", "window_days and limit are whole numbers.")
    if company_id not in roles:
        return error(404, "not_found", "Not found.")
    rows = low_stock_alert_rows(company_id=company_id, window_days=window_days)
    return JsonResponse(
        {"alerts": rows if limit is None else rows[:limit], "total_alerts": len(rows)}
    )
