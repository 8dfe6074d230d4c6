"""Reads of the tenancy domain."""

from __future__ import annotations

from dataclasses import dataclass
from weakref import WeakKeyDictionary

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field

from stockflow.tenancy.models import ApiToken, Membership

# Memberships travel in the token's row as "company_id:role,company_id:role".
_AGGREGATE = {"postgresql": "string_agg", "sqlite": "group_concat"}


@dataclass(frozen=True)
class _TokenQuery:
    sql: str
    token_fields: list[Field]
    user_fields: list[Field]
    # (position in the row, the converters Django's ORM applies to that column, the column):
    # what ``SQLCompiler.apply_converters`` would do (SQLite returns naive datetimes...).
    converters: list[tuple[int, list, object]]


# One per database connection (each thread has its own), built on its first use.
_queries: WeakKeyDictionary = WeakKeyDictionary()


def _token_query(db) -> _TokenQuery:
    query = _queries.get(db)
    if query is not None:
        return query
    quote = db.ops.quote_name
    user_model = get_user_model()
    token_fields = list(ApiToken._meta.concrete_fields)
    user_fields = list(user_model._meta.concrete_fields)
    aliased = [("t", field) for field in token_fields] + [("u", field) for field in user_fields]
    member = Membership._meta
    token_user = quote(ApiToken._meta.get_field("user").column)
    sql = (
        "SELECT "
        + ", ".join(f"{alias}.{quote(field.column)}" for alias, field in aliased)
        + f", (SELECT {_AGGREGATE[db.vendor]}("
        f"CAST(m.{quote(member.get_field('company').column)} AS TEXT)"
        f" || ':' || m.{quote(member.get_field('role').column)}, ',')"
        f" FROM {quote(member.db_table)} m"
        f" WHERE m.{quote(member.get_field('user').column)} = t.{token_user})"
        f" FROM {quote(ApiToken._meta.db_table)} t"
        f" INNER JOIN {quote(user_model._meta.db_table)} u"
        f" ON u.{quote(user_model._meta.pk.column)} = t.{token_user}"
        f" WHERE t.{quote(ApiToken._meta.get_field('prefix').column)} = %s"
    )
    converters = []
    for position, (alias, field) in enumerate(aliased):
        column = field.get_col(alias)
        field_converters = db.ops.get_db_converters(column) + field.get_db_converters(db)
        if field_converters:
            converters.append((position, field_converters, column))
    query = _TokenQuery(sql, token_fields, user_fields, converters)
    _queries[db] = query
    return query


def parse_roles(aggregated: str | None) -> dict[int, str]:
    """``"3:owner,7:staff"`` → ``{3: "owner", 7: "staff"}``."""
    if not aggregated:
        return {}
    roles = {}
    for item in aggregated.split(","):
        company_id, _, role = item.partition(":")
        roles[int(company_id)] = role
    return roles


def token_with_roles(prefix: str) -> tuple[ApiToken, dict[int, str]] | None:
    """The API token with this prefix, its user loaded (``token.user``), and the user's role
    in each of their companies, in ONE statement; ``None`` if no token has this prefix.

    Every request authenticated by a token runs this: the token check and the memberships
    ``TenantScope`` needs come back together instead of in a query each. The memberships are
    read again on every request (never cached across requests): a role change or a removal
    counts from the next request on."""
    db = connections[DEFAULT_DB_ALIAS]
    query = _token_query(db)
    with db.cursor() as cursor:
        cursor.execute(query.sql, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for position, field_converters, column in query.converters:
        value = values[position]
        for converter in field_converters:
            value = converter(value, column, db)
        values[position] = value
    split = len(query.token_fields)
    token = ApiToken.from_db(db.alias, None, values[:split])
    user = get_user_model().from_db(db.alias, None, values[split : split + len(query.user_fields)])
    ApiToken._meta.get_field("user").set_cached_value(token, user)
    return token, parse_roles(values[-1])
