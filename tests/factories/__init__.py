"""The one set of test data builders and shared checks of the suite.

Tenants and their members (``tenants``), the API test client with its query budget
(``clients``), catalog rows through the catalog services (``catalog``), stock and sales
history (``stock``), a company's whole ``Shop`` (``shops``) and the checks of what a request
answered or left untouched (``checks``). Test modules import from here; conftest.py files only
declare fixtures built with these."""

from tests.factories.catalog import (
    add_component,
    link_supplier,
    make_bundle,
    make_product,
    make_product_type,
    make_supplier,
    make_warehouse,
)
from tests.factories.checks import (
    assert_error,
    assert_tables_covered,
    catalog_state,
    company_rows,
    db_state,
    refused,
    tenant_models,
    without_same_company_keys,
    written_sql,
)
from tests.factories.clients import (
    DEFAULT_QUERY_BUDGET,
    PRODUCT_WRITE_BUDGET,
    PURCHASE_WRITE_BUDGET,
    WAREHOUSE_DELETE_BUDGET,
    APIClient,
    client_for,
    patch_raw,
    post_raw,
    query_budget,
)
from tests.factories.shops import Shop, mug_shop, stocked_shop
from tests.factories.stock import past_sale, put_stock, quantity_of, run_concurrently
from tests.factories.tenants import PASSWORD, Tenant, make_invitation, make_tenant, make_user

__all__ = [
    "DEFAULT_QUERY_BUDGET",
    "PASSWORD",
    "PRODUCT_WRITE_BUDGET",
    "PURCHASE_WRITE_BUDGET",
    "WAREHOUSE_DELETE_BUDGET",
    "APIClient",
    "Shop",
    "Tenant",
    "add_component",
    "assert_error",
    "assert_tables_covered",
    "catalog_state",
    "client_for",
    "company_rows",
    "db_state",
    "link_supplier",
    "make_bundle",
    "make_invitation",
    "make_product",
    "make_product_type",
    "make_supplier",
    "make_tenant",
    "make_user",
    "make_warehouse",
    "mug_shop",
    "past_sale",
    "patch_raw",
    "post_raw",
    "put_stock",
    "quantity_of",
    "query_budget",
    "refused",
    "run_concurrently",
    "stocked_shop",
    "tenant_models",
    "without_same_company_keys",
    "written_sql",
]
