"""Schemathesis against the project's own OpenAPI schema, in process.

Every operation of the schema gets ``EXAMPLES`` valid and (where it takes an input)
``EXAMPLES`` invalid requests (hypothesis, fixed seed) as the owner of a stocked company: warehouses, products, bundles,
suppliers, stock, sales, and a second company whose ids the random ids may hit. Path ids are
drawn both at random and from the company's real objects, so reads, updates and deletes reach
real rows. Every response must be free of 5xx and conform to the schema: a documented status
code, a documented content type, a body that matches. The operations are shared out over
``PARTS`` tests; each prints how many requests it made.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client as WerkzeugClient

from stockflow.dataio import urls as dataio_urls
from stockflow.tenancy.models import Role
from stockflow.tenancy.services import issue_token
from tests.factories import Shop
from tests.report import REPORT

pytestmark = pytest.mark.django_db

# Examples per operation and generation mode: about 65 operations x 2 modes x EXAMPLES
# requests. Enough to find what a fuzzer finds, bounded to stay well under a minute and a half.
EXAMPLES = 15
# The operations are fuzzed in PARTS tests, each against companies of its own, so that
# parallel workers share them.
PARTS = 3
# Not negative_data_rejection: the API is lenient on purpose in two ways it would report,
# an empty filter parameter (?company_id=) means no filter, and a JSON number sent for a
# text field is read as its text ({"name": 12} names the company "12").
# Every export, on company A: its filters fuzzed over real rows, CSV and XLSX.
EXPORTS = [name for name, *_ in dataio_urls.EXPORTS] + ["low_stock"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi_app(settings):
    """The real WSGI application, run inside the test's transaction: like Django's test
    client, it must not close the connection at the end of each request."""
    settings.ALLOWED_HOSTS = ["localhost"]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def load_schema(app):
    """The schema the API serves, without its security schemes: every request carries the
    owner's token, added by the test. Left in, they would make the generator send tokens and
    session cookies of its own, which the invalid (negative) requests corrupt on purpose and
    the test's header then silently replaces."""
    response = WerkzeugClient(app).get("/api/schema/?format=json")
    assert response.status_code == 200
    spec = response.json
    spec["components"].pop("securitySchemes", None)
    for path_item in spec["paths"].values():
        for operation in path_item.values():
            operation.pop("security", None)
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = app
    return schema


def real_ids(a: Shop, spare_tokens: list[int]) -> dict[str, dict[str, list[int]]]:
    """Path parameters of each schema path, drawn from company A's real rows."""
    members = [a.membership(role).pk for role in (Role.VIEWER, Role.STAFF, Role.ADMIN)]
    products = [a.mug.pk, a.coffee.pk, a.gift_box.pk]
    return {
        "/api/auth/tokens/{id}/": {"id": spare_tokens},
        "/api/companies/{id}/": {"id": [a.company.pk]},
        "/api/companies/{company_pk}/members/": {"company_pk": [a.company.pk]},
        "/api/companies/{company_pk}/members/{id}/": {
            "company_pk": [a.company.pk],
            "id": members,
        },
        "/api/companies/{company_id}/alerts/low-stock/": {"company_id": [a.company.pk]},
        **{
            f"/api/companies/{{company_id}}/exports/{name}/": {"company_id": [a.company.pk]}
            for name in EXPORTS
        },
        "/api/warehouses/{id}/": {"id": [a.main.pk, a.backup.pk]},
        "/api/product-types/{id}/": {"id": [a.kind.pk]},
        "/api/products/{id}/": {"id": products},
        "/api/products/{product_id}/stock/": {"product_id": products},
        "/api/suppliers/{id}/": {"id": [a.mug_supplier.pk]},
        "/api/product-suppliers/{id}/": {"id": [a.link.pk]},
        "/api/bundle-components/{id}/": {"id": [a.line.pk]},
        "/api/stock-levels/{id}/": {"id": [a.level.pk]},
        "/api/stock/movements/{id}/": {"id": [a.receipt.pk, a.transfer.pk]},
        "/api/ledger/{id}/": {"id": [a.ledger_entry.pk]},
        "/api/sales/{id}/": {"id": [a.mug_sale.pk]},
    }


def case_strategy(operation, mode: GenerationMode, ids: dict[str, list[int]] | None):
    """Cases with random path ids, and, for valid requests, cases on real rows."""
    random_ids = operation.as_strategy(generation_mode=mode)
    if not ids or mode is not GenerationMode.POSITIVE:
        return random_ids
    fixed = [
        operation.as_strategy(
            generation_mode=mode, path_parameters=dict(zip(ids, values, strict=True))
        )
        for values in itertools.product(*ids.values())
    ]
    return st.one_of(random_ids, *fixed)


def run_operation(operation, mode, strategy, app, headers, counter) -> None:
    @hypothesis_settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def exercise(case):
        response = case.call(app=app, headers=headers)
        counter[f"{response.status_code // 100}xx"] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    exercise()


def modes_of(operation) -> list[GenerationMode]:
    """Valid requests for every operation; invalid ones where there is an input to make
    invalid (GET /api/me has none: no parameter, no body)."""
    has_input = any(True for _ in operation.iter_parameters()) or len(operation.body) > 0
    if has_input:
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


def order(operation) -> tuple[int, str]:
    """Deletes run last, the revocation of tokens very last, so that they do not remove the
    rows (or the credentials) the other operations work on. Nothing is excluded."""
    if operation.path.startswith("/api/auth/tokens/") and operation.method.upper() == "DELETE":
        return 2, operation.label
    return (1 if operation.method.upper() == "DELETE" else 0), operation.label


@pytest.mark.slow
@pytest.mark.parametrize("part", range(PARTS))
def test_the_api_conforms_to_its_schema_under_fuzzing(wsgi_app, shop_a, shop_b, capsys, part):
    owner = shop_a.tenant.users[Role.OWNER]
    _, token = issue_token(user=owner, name="fuzzing")
    spare_tokens = [issue_token(user=owner, name=f"spare {n}")[0].pk for n in range(3)]
    headers = {"Authorization": f"Bearer {token}"}
    schema = load_schema(wsgi_app)
    ids = real_ids(shop_a, spare_tokens)

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 60
    assert set(ids) <= {operation.path for operation in operations}, "stale real_ids paths"
    # Every PARTS-th operation in the order of order(): each part's deletes still run last.
    operations = sorted(operations, key=order)[part::PARTS]
    counter = Counter()
    failures: list[str] = []
    started = time.monotonic()
    for operation in operations:
        for mode in modes_of(operation):
            strategy = case_strategy(operation, mode, ids.get(operation.path))
            try:
                run_operation(operation, mode, strategy, wsgi_app, headers, counter)
            # Every operation runs; all failures are reported. Schemathesis reports check
            # failures as a BaseExceptionGroup.
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    elapsed = time.monotonic() - started
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(counter.items()))
    summary = (
        f"schemathesis, part {part + 1} of {PARTS}: {counter.total()} requests over "
        f"{len(operations)} operations in {elapsed:.0f} s ({statuses}), "
        f"{len(failures)} failing operations"
    )
    REPORT[f"schemathesis {part + 1}"] = summary
    with capsys.disabled():
        print(f"\n{summary}")
    assert not failures, "\n\n".join(failures)
    assert counter["2xx"] > 100 / PARTS, "too few requests reached a real object"
