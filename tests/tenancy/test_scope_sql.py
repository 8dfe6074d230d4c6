"""``TenantScope.sql_condition``: the caller's companies for raw SQL, the same as the ORM's
``TenantScope.filter``."""

from __future__ import annotations

import pytest
from django.db import connection

from stockflow.inventory.models import StockLevel
from stockflow.tenancy.models import Role
from stockflow.tenancy.scoping import TenantScope
from tests.factories import make_product, make_warehouse, put_stock

pytestmark = pytest.mark.django_db


def test_the_condition_names_the_companies_where_the_caller_has_the_role():
    scope = TenantScope(None, {7: Role.VIEWER, 3: Role.STAFF, 5: Role.OWNER})

    assert scope.sql_condition("t.company_id", Role.STAFF) == ("t.company_id IN (%s, %s)", [3, 5])
    assert scope.sql_condition("company_id") == ("company_id IN (%s, %s, %s)", [3, 5, 7])
    assert scope.sql_condition("company_id", Role.OWNER) == ("company_id IN (%s)", [5])
    # One text whatever the number of companies (PostgreSQL): a prepared statement's
    assert scope.sql_condition("c", Role.STAFF, array=True) == ("c = ANY(%s)", [[3, 5]])
    assert scope.sql_condition("c", Role.OWNER, array=True) == ("c = ANY(%s)", [[5]])


def test_without_a_company_nothing_matches():
    assert TenantScope(None, {}).sql_condition("company_id") == ("1 = 0", [])
    assert TenantScope(None, {4: Role.VIEWER}).sql_condition("c", Role.STAFF) == ("1 = 0", [])
    assert TenantScope(None, {}).sql_condition("c", array=True) == ("1 = 0", [])


@pytest.mark.parametrize(
    "array", [False, pytest.param(True, marks=pytest.mark.postgres)], ids=["in", "array"]
)
@pytest.mark.parametrize("role", [Role.VIEWER, Role.STAFF, Role.ADMIN, Role.OWNER])
def test_raw_sql_with_the_condition_sees_what_the_orm_filter_sees(tenant_a, tenant_b, role, array):
    from tests.factories import make_tenant

    tenant_c = make_tenant("Initech")
    for tenant in (tenant_a, tenant_b, tenant_c):
        put_stock(make_product(tenant.company), make_warehouse(tenant.company), 1)
    scope = TenantScope(
        None,
        {
            tenant_a.company.id: Role.OWNER,
            tenant_b.company.id: Role.STAFF,
            tenant_c.company.id: Role.VIEWER,
        },
    )
    condition, params = scope.sql_condition("company_id", role, array=array)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {StockLevel._meta.db_table} WHERE {condition} ORDER BY id", params
        )
        raw = [row[0] for row in cursor.fetchall()]

    orm = list(
        scope.filter(StockLevel.objects.order_by("id"), min_role=role).values_list("id", flat=True)
    )
    assert raw == orm
    assert len(raw) == {Role.VIEWER: 3, Role.STAFF: 2, Role.ADMIN: 1, Role.OWNER: 1}[role]
