"""POST /api/sales answers the same whichever path of ``sales.sell`` records it.

A property test: Hypothesis draws sequences of sale requests (valid ones, too large for the
stock, an inactive product or warehouse, a bundle, another company's product or warehouse,
ids that do not exist or are not whole numbers, a viewer's, some with an Idempotency-Key so
that replays and reuses happen) and sends each sequence twice from the same starting data:
once with the fast path on (``SALE_FAST_PATH``, the default) and once with it off (every
request the complete way). Both runs must give the same statuses, headers of note and bodies
(ids renumbered in the order they appear, times dropped), and leave the same stock levels,
sales and ledger rows. Each run happens in a savepoint rolled back afterwards, so every
sequence starts from the same data. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from stockflow.api.limits import MAX_OPERATION_QUANTITY
from stockflow.inventory import sales
from stockflow.inventory.models import LedgerEntry, Sale, StockLevel
from tests.factories import make_tenant
from tests.inventory.conftest import make_bundle, make_product, make_warehouse, put_stock

pytestmark = pytest.mark.django_db

# Sequences per run: each is sent twice, up to 4 requests each. Bounded to stay within seconds.
EXAMPLES = 80

PRODUCTS = ["mug", "coffee", "inactive", "bundle", "foreign", "missing", "zero", "text"]
WAREHOUSES = ["main", "backup", "closed", "foreign", "missing", "text"]


@dataclass(frozen=True)
class SaleCall:
    caller: str
    product: str
    warehouse: str
    quantity: object
    extra: tuple[tuple[str, object], ...]
    key: str | None


# (product, warehouse): the cases a sale can meet, each as likely as the others; the world
# below sets them up.
TARGETS = [
    ("mug", "main"),  # in stock (6)
    ("coffee", "main"),  # in stock (5)
    ("mug", "backup"),  # little stock (2)
    ("coffee", "backup"),  # no stock level
    ("inactive", "main"),  # an inactive product, with stock
    ("mug", "closed"),  # an inactive warehouse, with stock
    ("bundle", "main"),  # a bundle of mug and 2 coffee
    ("bundle", "backup"),  # a bundle with a stock level of its own (never written by services)
    ("foreign", "foreign"),  # another company's stock
    ("mug", "foreign"),  # a warehouse of another company
    ("foreign", "main"),  # a product of another company
    ("missing", "main"),
    ("mug", "missing"),
    ("zero", "main"),  # not an id
    ("text", "main"),  # an id as a string
    ("mug", "text"),
]
targets = st.one_of(
    st.sampled_from(TARGETS), st.tuples(st.sampled_from(PRODUCTS), st.sampled_from(WAREHOUSES))
)


@st.composite
def sale_calls(draw) -> SaleCall:
    """Mostly plain bodies (what the fast path takes), from staff, without a key; else any
    quantity, a price or a date, a viewer, an Idempotency-Key (two keys: replays and reuses)."""
    product, warehouse = draw(targets)
    if draw(st.integers(0, 9)) < 6:
        quantity = draw(st.integers(min_value=1, max_value=4))
        return SaleCall("staff", product, warehouse, quantity, (), None)
    return SaleCall(
        caller=draw(st.sampled_from(["staff", "staff", "viewer"])),
        product=product,
        warehouse=warehouse,
        quantity=draw(
            st.one_of(
                st.integers(min_value=1, max_value=6),
                st.sampled_from(
                    [0, -1, 40, MAX_OPERATION_QUANTITY, MAX_OPERATION_QUANTITY + 1, "2"]
                ),
            )
        ),
        extra=draw(
            st.sampled_from(
                [(), (), (("unit_price", "9.99"),), (("sold_at", "2025-01-02T03:04:05Z"),)]
            )
        ),
        key=draw(st.one_of(st.none(), st.sampled_from(["k1", "k2"]))),
    )


@pytest.fixture
def world(db, monkeypatch):
    """One company with stock in every state a sale can meet, a second company, a staff
    member and a viewer of the first; and the list of the sales the fast path recorded."""
    tenant = make_tenant("Sellers")
    foreign = make_tenant("Others").company
    company = tenant.company
    main = make_warehouse(company, "MAIN")
    backup = make_warehouse(company, "BACKUP")
    closed = make_warehouse(company, "CLOSED")
    mug = make_product(company, "MUG", price="12.50")
    coffee = make_product(company, "COFFEE", price="7.05")
    inactive = make_product(company, "OLD")
    bundle = make_bundle(company, [(mug, 1), (coffee, 2)], sku="GIFT", price="25.00")
    other_warehouse = make_warehouse(foreign, "F-MAIN")
    other_product = make_product(foreign, "F-MUG")
    put_stock(mug, main, 6)
    put_stock(coffee, main, 5)
    put_stock(mug, backup, 2)  # coffee has no level in backup
    put_stock(inactive, main, 10)
    put_stock(mug, closed, 10)
    put_stock(other_product, other_warehouse, 10)
    StockLevel.objects.create(company=company, product=bundle, warehouse=backup, quantity=50)
    inactive.is_active = False
    inactive.save()
    closed.is_active = False
    closed.save()
    products = {
        "mug": mug.id,
        "coffee": coffee.id,
        "inactive": inactive.id,
        "bundle": bundle.id,
        "foreign": other_product.id,
        "missing": 10**9,
        "zero": 0,
        "text": str(mug.id),
    }
    warehouses = {
        "main": main.id,
        "backup": backup.id,
        "closed": closed.id,
        "foreign": other_warehouse.id,
        "missing": 10**9,
        "text": str(main.id),
    }
    clients = {"staff": tenant.staff, "viewer": tenant.viewer}
    fast_sales: list = []
    fast_path = sales._sell_plain_level

    def spy(*args, **kwargs):
        result = fast_path(*args, **kwargs)
        if result is not None:
            fast_sales.append(result)
        return result

    monkeypatch.setattr(sales, "_sell_plain_level", spy)
    return products, warehouses, clients, fast_sales


def body_of(call: SaleCall, products: dict, warehouses: dict) -> dict:
    body = {
        "product_id": products[call.product],
        "warehouse_id": warehouses[call.warehouse],
        "quantity": call.quantity,
    }
    body.update(call.extra)
    return body


class Renumber:
    """Ids written during a run, replaced by their rank: the two runs of a sequence write
    the same rows, under ids that may differ (a rolled-back sequence is not rewound)."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, int], str] = {}

    def __call__(self, kind: str, value: int) -> str:
        return self.seen.setdefault((kind, value), f"{kind}#{len(self.seen) + 1}")


TIMES = {"sold_at", "created_at", "updated_at"}


def normalised_body(body, ids: Renumber, first_ids: dict[str, int]):
    """The response body without times, with the ids of rows written during the run
    renumbered (error bodies hold no such id)."""
    if not isinstance(body, dict) or "error" in body:
        return body
    ledger = [
        {
            **{k: v for k, v in entry.items() if k not in TIMES | {"id", "reference_id"}},
            "id": ids("ledger", entry["id"]),
            "reference_id": ids("sale", entry["reference_id"]),
        }
        for entry in body["ledger_entries"]
    ]
    sale = {k: v for k, v in body.items() if k not in TIMES | {"id", "ledger_entries"}}
    assert body["id"] >= first_ids["sale"]
    return {**sale, "id": ids("sale", body["id"]), "ledger_entries": ledger}


def run(calls: list[SaleCall], world, *, fast_path: bool) -> dict:
    """Send ``calls`` in order with the fast path on or off (``SALE_FAST_PATH``, the switch
    ``sales.sell`` reads), inside a savepoint that is rolled back; return what a user could
    observe."""
    products, warehouses, clients, fast_sales = world
    cache.clear()  # throttle counters: each run starts from the same ones
    fast_sales_before = len(fast_sales)
    with override_settings(SALE_FAST_PATH=fast_path), transaction.atomic():
        first_ids = {
            "sale": (Sale.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1,
            "ledger": (
                LedgerEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
            )
            + 1,
        }
        ids = Renumber()
        answers = []
        for call in calls:
            headers = {"HTTP_IDEMPOTENCY_KEY": call.key} if call.key else {}
            response = clients[call.caller].post(
                "/api/sales", body_of(call, products, warehouses), format="json", **headers
            )
            answers.append(
                (
                    response.status_code,
                    response.get("Idempotent-Replayed"),
                    normalised_body(response.json(), ids, first_ids),
                )
            )
        observed = {
            "answers": answers,
            "levels": sorted(
                StockLevel.objects.values_list("product_id", "warehouse_id", "quantity")
            ),
            "sales": [
                (ids("sale", row[0]), *row[1:])
                for row in Sale.objects.filter(id__gte=first_ids["sale"])
                .order_by("id")
                .values_list(
                    "id",
                    "company_id",
                    "product_id",
                    "warehouse_id",
                    "quantity",
                    "unit_price",
                    "created_by_id",
                )
            ],
            "ledger": [
                (ids("ledger", row[0]), ids("sale", row[1]), *row[2:])
                for row in LedgerEntry.objects.filter(id__gte=first_ids["ledger"])
                .order_by("id")
                .values_list(
                    "id",
                    "reference_id",
                    "company_id",
                    "stock_level_id",
                    "product_id",
                    "warehouse_id",
                    "change",
                    "quantity_after",
                    "reason",
                    "reference_type",
                    "actor_id",
                )
            ],
        }
        transaction.set_rollback(True)
    observed["fast_path_sales"] = len(fast_sales) - fast_sales_before
    return observed


def test_the_fast_and_the_complete_path_answer_every_sale_alike(world):
    fast_path_sales = []

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(calls=st.lists(sale_calls(), min_size=1, max_size=4))
    def both_paths_agree(calls):
        fast = run(calls, world, fast_path=True)
        complete = run(calls, world, fast_path=False)
        assert complete["fast_path_sales"] == 0
        fast_path_sales.append(fast.pop("fast_path_sales"))
        complete.pop("fast_path_sales")
        assert fast == complete

    both_paths_agree()
    # The comparison is not vacuous: the fast path did record sales.
    assert sum(fast_path_sales) >= 10
