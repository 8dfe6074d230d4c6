"""The API test client: every request counts its queries and fails past a budget."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import test

from stockflow.tenancy.services import issue_token

# Queries one request may run unless told otherwise: the token check, the memberships, a few
# reads and writes. A query per row of a list goes past it with a handful of rows.
DEFAULT_QUERY_BUDGET = 20
# A product's creation, change into a bundle or deletion: locks, checks of its stock history,
# bundles and links, and each table a delete cascades to. As many whatever the data.
PRODUCT_WRITE_BUDGET = 30
# A warehouse's deletion: the checks of its stock history, then each table the delete cascades
# to (stock levels, ledger, sales, movements both ways, stock events). As many whatever the data.
WAREHOUSE_DELETE_BUDGET = 30
# A purchase order's receipt (the order, its lines, the stock levels made and locked, ledger
# entries, stock events, the order's status) or drafts made from the alerts (the report, then
# per draft its number, order and lines): a few more than the default.
PURCHASE_WRITE_BUDGET = 40

_budget: ContextVar[int | None] = ContextVar("query_budget", default=None)


@contextmanager
def query_budget(queries: int) -> Iterator[None]:
    """Every request of every test client inside the block may run up to ``queries``
    queries: for the few endpoints that need more than the default, or to pin fewer."""
    token = _budget.set(queries)
    try:
        yield
    finally:
        _budget.reset(token)


class APIClient(test.APIClient):
    """DRF's test client, each request run under ``CaptureQueriesContext``: past its budget
    the request fails the test and lists its queries. The budget is ``max_queries=N`` on the
    call, else the innermost ``query_budget(N)``, else ``DEFAULT_QUERY_BUDGET``."""

    def request(self, **request):
        budget = request.pop("max_queries", None) or _budget.get() or DEFAULT_QUERY_BUDGET
        with CaptureQueriesContext(connection) as captured:
            response = super().request(**request)
        if len(captured) > budget:
            queries = "\n".join(
                f"{n}. {query['sql']}" for n, query in enumerate(captured.captured_queries, 1)
            )
            raise AssertionError(
                f"{request['REQUEST_METHOD']} {request['PATH_INFO']} ran {len(captured)} "
                f"queries, over its budget of {budget}:\n{queries}"
            )
        return response


def client_for(user, token: str | None = None) -> APIClient:
    """A client authenticated with a fresh API token of ``user`` (or the one given)."""
    client = APIClient()
    if token is None:
        _, token = issue_token(user=user, name="test")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def post_raw(client, url: str, text: str, **extra):
    """POST a JSON body exactly as written, so numbers go through the real JSON parser."""
    return client.post(url, data=text, content_type="application/json", **extra)


def patch_raw(client, url: str, text: str):
    return client.patch(url, data=text, content_type="application/json")


def logged_in(user):
    """A browser session (Django's test client) logged in as ``user``."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client
