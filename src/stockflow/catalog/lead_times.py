"""The lead time the reorder arithmetic uses for a product-supplier link (SPEC §4.1, §4.3):
the observed one (``observed_lead_time_days``, kept by purchasing) once at least
``MIN_OBSERVED_ORDERS`` orders were received, else the configured ``lead_time_days``.
Written once for Python and once for SQL; ``tests/purchasing`` checks they agree."""

from __future__ import annotations

from stockflow.catalog.models import MIN_OBSERVED_ORDERS, ProductSupplier


def effective_lead_time_days(link: ProductSupplier) -> int:
    if link.observed_orders >= MIN_OBSERVED_ORDERS and link.observed_lead_time_days is not None:
        return link.observed_lead_time_days
    return link.lead_time_days


def effective_lead_time_sql(alias: str) -> str:
    """The same rule on the row ``alias`` of the product-supplier table."""
    return (
        f"CASE WHEN {alias}.observed_orders >= {int(MIN_OBSERVED_ORDERS)}"
        f" AND {alias}.observed_lead_time_days IS NOT NULL"
        f" THEN {alias}.observed_lead_time_days ELSE {alias}.lead_time_days END"
    )
