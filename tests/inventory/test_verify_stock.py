"""verify_stock: passes on data written by the services, fails with a report on each kind of
broken invariant (data broken with raw SQL, as a bug or a manual edit would)."""

from __future__ import annotations

from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from stockflow.inventory.models import LedgerEntry, StockLevel
from stockflow.inventory.movements import adjust_stock, receive_stock, transfer_stock
from stockflow.inventory.sales import record_sale
from tests.factories import make_warehouse, put_stock, without_same_company_keys

LEVELS = StockLevel._meta.db_table
LEDGER = LedgerEntry._meta.db_table


def verify() -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("verify_stock", stdout=out)
    except CommandError as exc:
        return False, out.getvalue() + str(exc)
    return True, out.getvalue()


def execute(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@contextmanager
def without_check_constraints():
    """Let raw SQL write rows the CHECK constraints refuse (rolled back with the test)."""
    if connection.vendor == "sqlite":
        execute("PRAGMA ignore_check_constraints = ON")
        try:
            yield
        finally:
            execute("PRAGMA ignore_check_constraints = OFF")
    else:
        # Deferred foreign-key checks must run before the table can be altered.
        execute("SET CONSTRAINTS ALL IMMEDIATE")
        execute(f"ALTER TABLE {LEVELS} DROP CONSTRAINT stock_level_quantity_gte_0")
        execute(f"ALTER TABLE {LEDGER} DROP CONSTRAINT ledger_quantity_after_gte_0")
        yield


@pytest.fixture
def history(shop, tenant_a):
    staff = tenant_a.users["staff"]
    receive_stock(product=shop.mug, warehouse=shop.backup, quantity=7, actor=staff)
    record_sale(product=shop.gift_box, warehouse=shop.main, quantity=3, actor=staff)
    record_sale(product=shop.mug, warehouse=shop.main, quantity=4, actor=staff)
    transfer_stock(product=shop.mug, from_warehouse=shop.main, to_warehouse=shop.backup, quantity=9)
    adjust_stock(product=shop.coffee, warehouse=shop.main, reason="count", counted_quantity=30)
    adjust_stock(product=shop.mug, warehouse=shop.backup, reason="damage", change=-1)
    put_stock(shop.coffee, make_warehouse(shop.company), 0)  # a level without any entry
    return shop


def test_passes_on_good_data(history):
    ok, report = verify()
    assert ok, report
    assert "All stock invariants hold." in report
    assert report.count("[ok]") == 6


def test_passes_on_an_empty_database(db):
    assert verify()[0]


def _level(product, warehouse) -> StockLevel:
    return StockLevel.objects.get(product=product, warehouse=warehouse)


def test_fails_when_a_quantity_differs_from_its_ledger_sum(history):
    level = _level(history.mug, history.main)
    execute(f"UPDATE {LEVELS} SET quantity = quantity + 1 WHERE id = %s", [level.id])

    ok, report = verify()

    assert not ok
    assert "[FAIL] ledger_sum" in report
    assert f'"stock_level_id": {level.id}' in report
    assert "1 stock invariant(s) broken: ledger_sum." in report


def test_fails_when_the_ledger_chain_is_broken(history):
    # Two entries of one level swap their quantity_after: the sum still matches, the chain not.
    level = _level(history.mug, history.backup)
    first, second = LedgerEntry.objects.filter(stock_level=level).order_by("id")[:2]
    execute(
        f"UPDATE {LEDGER} SET quantity_after = %s WHERE id = %s", [second.quantity_after, first.id]
    )
    execute(
        f"UPDATE {LEDGER} SET quantity_after = %s WHERE id = %s", [first.quantity_after, second.id]
    )

    ok, report = verify()

    assert not ok
    assert "[FAIL] ledger_chain" in report
    assert "[ok] ledger_sum" in report
    assert f'"ledger_entry_id": {first.id}' in report


def test_fails_on_negative_stock(history):
    level = _level(history.coffee, history.main)
    with without_check_constraints():
        # Consistent with its ledger (so only the sign is wrong): a level driven below zero.
        execute(f"UPDATE {LEVELS} SET quantity = quantity - 31 WHERE id = %s", [level.id])
        last = LedgerEntry.objects.filter(stock_level=level).order_by("-id").first()
        execute(
            f"INSERT INTO {LEDGER} (company_id, stock_level_id, product_id, warehouse_id, change,"
            " quantity_after, reason, adjustment_reason, reference_type, reference_id, note,"
            " created_at) SELECT company_id, stock_level_id, product_id, warehouse_id, -31,"
            f" quantity_after - 31, 'adjustment', 'loss', reference_type, reference_id, '', created_at"
            f" FROM {LEDGER} WHERE id = %s",
            [last.id],
        )
        ok, report = verify()

    assert not ok
    assert "[FAIL] non_negative" in report
    assert "[ok] ledger_sum" in report and "[ok] ledger_chain" in report


def test_fails_when_a_level_is_in_another_company_than_its_product(history, other_shop):
    level = _level(history.mug, history.main)
    with without_same_company_keys(LEVELS, LEDGER, "inventory_stockevent"):
        execute(
            f"UPDATE {LEVELS} SET company_id = %s WHERE id = %s", [other_shop.company.id, level.id]
        )

    ok, report = verify()

    assert not ok
    assert "[FAIL] level_company" in report
    assert "[FAIL] ledger_company" in report  # its entries no longer match it either


def test_fails_when_a_ledger_entry_is_in_another_company(history, other_shop):
    entry = LedgerEntry.objects.filter(product=history.coffee).first()
    with without_same_company_keys(LEDGER):
        execute(
            f"UPDATE {LEDGER} SET company_id = %s WHERE id = %s", [other_shop.company.id, entry.id]
        )

    ok, report = verify()

    assert not ok
    assert "[FAIL] ledger_company" in report
    assert "[ok] level_company" in report


def test_fails_when_a_ledger_entry_names_another_product_than_its_level(history):
    entry = LedgerEntry.objects.filter(product=history.coffee).first()
    execute(f"UPDATE {LEDGER} SET product_id = %s WHERE id = %s", [history.mug.id, entry.id])
    assert "[FAIL] ledger_company" in verify()[1]


def test_fails_when_a_bundle_holds_stock(history):
    execute(
        f"INSERT INTO {LEVELS} (company_id, product_id, warehouse_id, quantity, updated_at)"
        " VALUES (%s, %s, %s, 0, CURRENT_TIMESTAMP)",
        [history.company.id, history.gift_box.id, history.main.id],
    )
    ok, report = verify()
    assert not ok
    assert "[FAIL] level_company" in report


def test_fails_when_a_level_carries_another_threshold_than_its_product(history):
    wrong = _level(history.mug, history.main)  # the mug's type says 20
    missing = _level(history.coffee, history.main)  # its own 60
    execute(f"UPDATE {LEVELS} SET low_stock_threshold = 21 WHERE id = %s", [wrong.id])
    execute(f"UPDATE {LEVELS} SET low_stock_threshold = NULL WHERE id = %s", [missing.id])

    ok, report = verify()

    assert not ok
    assert "[FAIL] threshold" in report
    assert "2 violation(s)" in report
    assert f'"stock_level_id": {wrong.id}' in report
    assert f'"stock_level_id": {missing.id}' in report
    assert "1 stock invariant(s) broken: threshold." in report


def test_fails_when_a_level_keeps_a_threshold_its_product_no_longer_has(history):
    # A product edited around the services: its levels still carry the old threshold.
    execute("UPDATE catalog_product SET low_stock_threshold = 5 WHERE id = %s", [history.mug.id])

    ok, report = verify()

    assert not ok
    assert "[FAIL] threshold" in report
    assert f'"product_id": {history.mug.id}' in report


def test_exit_status_is_non_zero(history):
    execute(f"UPDATE {LEVELS} SET quantity = quantity + 1")
    with pytest.raises(CommandError) as raised:
        call_command("verify_stock", stdout=StringIO())
    assert raised.value.returncode != 0
