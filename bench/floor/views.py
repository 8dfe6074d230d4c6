"""The framework floor of a sale: the least a Django view can do for POST /api/sales.

No DRF: the same token check as ``ApiTokenAuthentication`` (one query by prefix, SHA-256
compared in constant time), then in one transaction the same three statements as the raw SQL
floor (bench/sale.pgbench): a conditional decrement that also checks the caller's role in the
level's company, the sale row, the ledger entry. Whatever the real endpoint spends beyond this
view is the cost of DRF, validation, scoping and idempotency.
"""

from __future__ import annotations

import json

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from bench.floor.selectors import low_stock_alert_rows
from stockflow.tenancy.models import ApiToken
from stockflow.tenancy.tokens import split_prefix, token_matches

WRITER_ROLES = ["owner", "admin", "staff"]

DECREMENT = """
    UPDATE inventory_stocklevel SET quantity = quantity - %s, updated_at = %s
    WHERE product_id = %s AND warehouse_id = %s AND quantity >= %s
      AND company_id IN (
          SELECT company_id FROM tenancy_membership WHERE user_id = %s AND role = ANY(%s)
      )
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
    WHERE product_id = %s AND warehouse_id = %s
      AND company_id IN (
          SELECT company_id FROM tenancy_membership WHERE user_id = %s AND role = ANY(%s)
      )
"""


def error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def authenticated_user_id(request: HttpRequest) -> int | None:
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() not in {"bearer", "token"}:
        return None
    prefix = split_prefix(raw.strip())
    if prefix is None:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not token_matches(raw.strip(), token.token_hash):
        return None
    if not token.is_usable() or not token.user.is_active:
        return None
    return token.user_id


@csrf_exempt
@require_POST
def floor_sale(request: HttpRequest) -> JsonResponse:
    user_id = authenticated_user_id(request)
    if user_id is None:
        return error(401, "not_authenticated", "Invalid token.")
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
        cursor.execute(
            DECREMENT, [quantity, now, product_id, warehouse_id, quantity, user_id, WRITER_ROLES]
        )
        level = cursor.fetchone()
        if level is None:
            cursor.execute(LEVEL_EXISTS, [product_id, warehouse_id, user_id, WRITER_ROLES])
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


MEMBER_OF = "SELECT 1 FROM tenancy_membership WHERE user_id = %s AND company_id = %s"


@require_GET
def floor_low_stock_alerts(request: HttpRequest, company_id: int) -> JsonResponse:
    """The framework floor of the low-stock report: the same token check, one membership
    query, the reference SQL (bench/alerts_reference.sql), rows shaped as SPEC.md 3.2."""
    user_id = authenticated_user_id(request)
    if user_id is None:
        return error(401, "not_authenticated", "Invalid token.")
    try:
        window_days = int(request.GET.get("window_days", 30))
        limit = int(request.GET["limit"]) if "limit" in request.GET else None
    except ValueError:
        return error(400, "validation_error", "window_days and limit are whole numbers.")
    with connection.cursor() as cursor:
        cursor.execute(MEMBER_OF, [user_id, company_id])
        if cursor.fetchone() is None:
            return error(404, "not_found", "Not found.")
    rows = low_stock_alert_rows(company_id=company_id, window_days=window_days)
    return JsonResponse(
        {"alerts": rows if limit is None else rows[:limit], "total_alerts": len(rows)}
    )
