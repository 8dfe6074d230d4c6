"""Reads of the web pages that no API endpoint makes: the dashboard's figures, sales per
day for the charts, the pages of lists. Every query filters by the company of the page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncDate

from stockflow.accounts.models import Invitation
from stockflow.catalog.models import (
    BundleComponent,
    Product,
    ProductSupplier,
    ProductType,
    Supplier,
    Warehouse,
)
from stockflow.dataio.models import ImportJob
from stockflow.inventory.models import LedgerEntry, Sale, StockLevel
from stockflow.notifications.models import WebhookDelivery, WebhookEndpoint
from stockflow.purchasing.models import PurchaseOrder
from stockflow.tenancy.models import ApiToken, Membership

CHART_DAYS = 90
PAGE_SIZE = 25
# The company-wide chart keeps the sum of its settled sales this long (seconds)...
ROLLUP_TTL = 3600
# ...where a sale is settled once recorded this long ago (its transaction has ended).
ROLLUP_SETTLED = timedelta(minutes=5)


@dataclass(frozen=True)
class DashboardCounts:
    products: int
    warehouses: int
    below_threshold: int
    out_of_stock: int


def dashboard_counts(company_id: int) -> DashboardCounts:
    """Active products and warehouses; stock levels below their threshold (the partial index
    ``stock_level_low`` the low-stock report starts from) and at zero. One statement."""
    quote = connection.ops.quote_name
    product = quote(Product._meta.db_table)
    warehouse = quote(Warehouse._meta.db_table)
    level = quote(StockLevel._meta.db_table)
    sql = f"""
        SELECT
          (SELECT COUNT(*) FROM {product} WHERE company_id = %s AND is_active),
          (SELECT COUNT(*) FROM {warehouse} WHERE company_id = %s AND is_active),
          (SELECT COUNT(*) FROM {level}
            WHERE company_id = %s AND quantity < low_stock_threshold),
          (SELECT COUNT(*) FROM {level} WHERE company_id = %s AND quantity = 0)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [company_id] * 4)
        products, warehouses, below, out = cursor.fetchone()
    return DashboardCounts(int(products), int(warehouses), int(below), int(out))


@dataclass(frozen=True)
class StockValue:
    """Stock valued at cost: each product's units times the unit cost of its primary
    supplier, else the lowest unit cost among its suppliers. Units of products without a
    known cost are counted apart, not valued."""

    value: Decimal
    units_valued: int
    units_without_cost: int


def stock_value(company_id: int) -> StockValue:
    """Two grouped queries (units per product, known costs per product); the products are
    multiplied out in Python so the amount stays an exact Decimal on both databases."""
    units = dict(
        StockLevel.objects.filter(company_id=company_id, quantity__gt=0)
        .values("product_id")
        .annotate(units=Sum("quantity"))
        .values_list("product_id", "units")
    )
    primary: dict[int, Decimal] = {}
    cheapest: dict[int, Decimal] = {}
    links = ProductSupplier.objects.filter(
        company_id=company_id, unit_cost__isnull=False
    ).values_list("product_id", "is_primary", "unit_cost")
    for product_id, is_primary, unit_cost in links:
        if is_primary:
            primary[product_id] = unit_cost
        if product_id not in cheapest or unit_cost < cheapest[product_id]:
            cheapest[product_id] = unit_cost
    value = Decimal(0)
    valued = without = 0
    for product_id, count in units.items():
        cost = primary.get(product_id, cheapest.get(product_id))
        if cost is None:
            without += count
        else:
            value += cost * count
            valued += count
    return StockValue(value.quantize(Decimal("0.01")), valued, without)


def _units_per_day(sales: QuerySet[Sale]) -> dict[date, int]:
    rows = (
        sales.annotate(day=TruncDate("sold_at"))
        .order_by()
        .values("day")
        .annotate(units=Sum("quantity"))
        .values_list("day", "units")
    )
    return {day: int(units) for day, units in rows}


def _company_units_per_day(
    company_id: int, warehouse_id: int | None, since: datetime, now: datetime
) -> dict[date, int]:
    """Units per day of a company's sales (of one warehouse, or all) since ``since``.

    The sales recorded more than ``ROLLUP_SETTLED`` ago (all of them, up to the largest
    such id) are summed once and kept in the cache for ``ROLLUP_TTL``; each call adds the
    sales of higher id, read through the index on (company, id): a few rows, whatever the
    history. A sale dated in the past is recorded with a new id, so it is counted too. The
    cached part misses only a sale whose transaction stayed open longer than
    ``ROLLUP_SETTLED``, until the entry expires."""
    sales = Sale.objects.filter(company_id=company_id)
    if warehouse_id is not None:
        sales = sales.filter(warehouse_id=warehouse_id)
    key = f"web:units-per-day:{company_id}:{warehouse_id or 'all'}:{since.date().isoformat()}"
    cached = cache.get(key)
    if cached is None:
        settled_id = (
            Sale.objects.filter(company_id=company_id, created_at__lt=now - ROLLUP_SETTLED)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        ) or 0
        settled = _units_per_day(sales.filter(id__lte=settled_id, sold_at__gte=since))
        cached = (settled_id, settled)
        cache.set(key, cached, ROLLUP_TTL)
    settled_id, totals = cached
    totals = dict(totals)
    for day, units in _units_per_day(sales.filter(id__gt=settled_id, sold_at__gte=since)).items():
        totals[day] = totals.get(day, 0) + units
    return totals


def units_sold_per_day(
    company_id: int,
    *,
    now: datetime,
    days: int = CHART_DAYS,
    warehouse_id: int | None = None,
    product_id: int | None = None,
) -> list[tuple[date, int]]:
    """Units sold on each of the last ``days`` days (UTC), oldest first, days without sales
    included as 0. A bundle sale counts as units of the bundle. A product's sales are one
    range of the index that leads with the product; a whole company's or warehouse's are
    summed incrementally (``_company_units_per_day``)."""
    first_day = now.date() - timedelta(days=days - 1)
    since = datetime.combine(first_day, time.min, tzinfo=UTC)
    if product_id is None:
        totals = _company_units_per_day(company_id, warehouse_id, since, now)
    else:
        totals = _units_per_day(
            Sale.objects.filter(company_id=company_id, product_id=product_id, sold_at__gte=since)
        )
    return [
        (day, totals.get(day, 0)) for day in (first_day + timedelta(days=n) for n in range(days))
    ]


def page_of(queryset: QuerySet, number, per_page: int = PAGE_SIZE) -> Page:
    """One page of a list (a count and the page's rows); a page number out of range gives
    the nearest page."""
    return Paginator(queryset, per_page).get_page(number)


def products(company_id: int) -> QuerySet[Product]:
    return Product.objects.filter(company_id=company_id).select_related("product_type")


def product_id_by_sku(company_id: int, sku: str) -> int | None:
    return (
        Product.objects.filter(company_id=company_id, sku=sku.strip())
        .values_list("id", flat=True)
        .first()
    )


def product_ids_by_sku(company_id: int, skus: list[str]) -> dict[str, int]:
    """{SKU: product id} of the company's products among ``skus``: one query."""
    wanted = {sku.strip() for sku in skus if sku.strip()}
    if not wanted:
        return {}
    return dict(
        Product.objects.filter(company_id=company_id, sku__in=wanted).values_list("sku", "id")
    )


def product_suppliers(company_id: int, product_id: int) -> list[ProductSupplier]:
    return list(
        ProductSupplier.objects.filter(company_id=company_id, product_id=product_id)
        .select_related("supplier")
        .order_by("-is_primary", "lead_time_days", "supplier__name")
    )


def bundle_components(company_id: int, bundle_id: int) -> list[BundleComponent]:
    return list(
        BundleComponent.objects.filter(company_id=company_id, bundle_id=bundle_id)
        .select_related("component")
        .order_by("id")
    )


def ledger(company_id: int, product_id: int) -> QuerySet[LedgerEntry]:
    """A product's ledger, newest first, with the warehouse and who made each change."""
    return (
        LedgerEntry.objects.filter(company_id=company_id, product_id=product_id)
        .select_related("warehouse", "actor")
        .order_by("-id")
    )


def warehouses(company_id: int) -> QuerySet[Warehouse]:
    return Warehouse.objects.filter(company_id=company_id).order_by("code", "id")


def active_warehouses(company_id: int) -> list[Warehouse]:
    return list(warehouses(company_id).filter(is_active=True))


def suppliers(company_id: int) -> QuerySet[Supplier]:
    return Supplier.objects.filter(company_id=company_id).order_by("name", "id")


def product_types(company_id: int) -> QuerySet[ProductType]:
    return ProductType.objects.filter(company_id=company_id).order_by("name", "id")


def members(company_id: int) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(company_id=company_id)
        .select_related("user")
        .order_by("user__username", "id")
    )


def tokens(user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-id")


def open_invitations(company_id: int) -> QuerySet[Invitation]:
    """Invitations neither accepted nor revoked (pending, or expired and resendable)."""
    return (
        Invitation.objects.filter(
            company_id=company_id, accepted_at__isnull=True, revoked_at__isnull=True
        )
        .select_related("invited_by")
        .order_by("-id")
    )


def webhooks(company_id: int) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(company_id=company_id).order_by("id")


def webhook_deliveries(company_id: int, endpoint_id: int) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(company_id=company_id, endpoint_id=endpoint_id)


def purchase_orders(company_id: int) -> QuerySet[PurchaseOrder]:
    return PurchaseOrder.objects.filter(company_id=company_id).order_by("-id")


def import_jobs(company_id: int) -> QuerySet[ImportJob]:
    """The company's imports, newest first, without their files."""
    return ImportJob.objects.filter(company_id=company_id).defer("content").order_by("-id")
