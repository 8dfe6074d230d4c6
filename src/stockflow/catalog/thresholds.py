"""A product's effective low-stock threshold: the one definition.

The threshold is the first set value among ``SOURCES``: the product's own, else its product
type's; neither set, no threshold (``None``). Python (``effective_threshold``) and SQL
(``effective_threshold_sql``) are both generated from ``SOURCES``, so they cannot drift
apart; ``tests/catalog/test_threshold_rule.py`` checks them against each other on the
database. Every statement and every representation that needs the threshold uses one of
these two: stock level creation and the threshold copies kept on stock levels
(``inventory.levels``), ``verify_stock``, the product and product stock representations.
"""

from __future__ import annotations

from django.db.models import Model

from stockflow.catalog.models import Product, ProductType

# Where a product's threshold comes from, in order of precedence: (table, column).
SOURCES: tuple[tuple[type[Model], str], ...] = (
    (Product, "low_stock_threshold"),
    (ProductType, "low_stock_threshold"),
)


def effective_threshold(own: int | None, type_threshold: int | None) -> int | None:
    """The first set value among the product's own threshold and its type's (``SOURCES``
    order); ``None``: no threshold."""
    return next((value for value in (own, type_threshold) if value is not None), None)


def product_threshold(product: Product) -> int | None:
    """``effective_threshold`` of a product instance (its type read through the relation:
    select it with the product to save a query)."""
    product_type = product.product_type if product.product_type_id is not None else None
    return effective_threshold(
        product.low_stock_threshold,
        product_type.low_stock_threshold if product_type is not None else None,
    )


def effective_threshold_sql(product: str = "p", product_type: str = "t") -> str:
    """The SQL of ``effective_threshold`` over a product row aliased ``product`` and its
    product type aliased ``product_type`` (joined with ``product_type_join_sql``)."""
    aliases = {Product: product, ProductType: product_type}
    columns = ", ".join(f"{aliases[model]}.{column}" for model, column in SOURCES)
    return f"COALESCE({columns})"


def product_type_join_sql(product: str = "p", product_type: str = "t") -> str:
    """``LEFT JOIN`` of the product type that ``effective_threshold_sql`` reads."""
    return (
        f"LEFT JOIN {ProductType._meta.db_table} {product_type}"
        f" ON {product_type}.id = {product}.product_type_id"
        f" AND {product_type}.company_id = {product}.company_id"
    )
