"""Journeys through the web app in a real browser: the distribution's Chromium driven by
Playwright, against pytest-django's live server.

Chromium comes from the system packages (``apt-get install chromium``); browsers are not
downloaded. Without it these tests are skipped, except under ``CI=true`` where they fail.
Each journey saves a full-page screenshot in ``var/screenshots/``.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect, sync_playwright

from stockflow.catalog.models import Product, Warehouse
from stockflow.dataio.models import ImportJob
from stockflow.demo.management.commands.demo import DEMO_PASSWORD, DEMO_USERNAME
from stockflow.inventory.models import LedgerEntry, ReferenceType, Sale
from stockflow.purchasing.models import PurchaseOrder, PurchaseOrderStatus
from stockflow.tenancy.models import Company, Membership, Role
from stockflow.web import selectors
from tests.factories import PASSWORD, mug_shop
from tests.notifications.receiver import run_worker_once

CHROMIUM = Path(os.environ.get("STOCKFLOW_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM}: apt-get install -y chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API keeps an event loop in this thread while it runs; the ORM
        # calls made between two browser steps (fixtures, checks) are plain synchronous
        # calls. Set for this module only: deployment checks refuse the variable.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/c/\d+/$"))


def test_journey_1_log_in_and_see_the_dashboard(page):
    call_command("demo", "--port", "8000", stdout=io.StringIO())
    company = Company.objects.order_by("id").first()
    counts = selectors.dashboard_counts(company.pk)

    log_in(page, DEMO_USERNAME, DEMO_PASSWORD)

    assert page.url.endswith(f"/c/{company.pk}/")
    assert page.get_by_role("heading", level=1).inner_text() == company.name
    assert page.locator('[data-count="products"]').inner_text() == str(counts.products)
    assert page.locator('[data-count="warehouses"]').inner_text() == str(counts.warehouses)
    assert page.locator('[data-count="below-threshold"]').inner_text() == str(
        counts.below_threshold
    )
    assert counts.products >= 60 and counts.warehouses == 3
    chart = page.locator("#sales-chart svg")
    assert chart.locator("rect").count() == 90
    assert "units sold in 90 days" in page.locator("#sales-chart figcaption").inner_text()
    assert page.locator("section[aria-labelledby=alerts-heading] tbody tr").count() == 10
    screenshot(page, "journey-1-dashboard")

    # The chart of one warehouse comes in place (htmx): the rest of the page stays.
    caption = page.locator("#sales-chart figcaption")
    everywhere = caption.inner_text()
    page.get_by_label("Warehouse").select_option(label="EAST — East Depot")
    expect(caption).not_to_have_text(everywhere)
    assert page.locator("#sales-chart svg rect").count() == 90
    assert page.url.endswith(f"/c/{company.pk}/")


def test_journey_2_create_a_product_with_opening_stock(page, tenant_a):
    shop = mug_shop(tenant_a)
    log_in(page, tenant_a.users[Role.ADMIN].username)

    page.get_by_role("link", name="Products").click()
    page.get_by_role("button", name="New product").click()
    page.get_by_label("Name").fill("Travel Mug")
    page.get_by_label("SKU").fill("TRAVEL-001")
    page.get_by_label("Price").fill("19.99")
    page.get_by_label("Product type").select_option(label="Mugs")
    page.get_by_label("Warehouse of the opening stock").select_option(label="EAST — East Depot")
    page.get_by_label("Opening stock (units)").fill("25")
    page.get_by_role("button", name="Create product").click()

    product = Product.objects.get(sku="TRAVEL-001")
    page.wait_for_url(f"**/products/{product.pk}/")
    assert page.get_by_text("Product created.").is_visible()

    page.get_by_role("link", name="Products").click()
    page.get_by_label("Name or SKU").fill("travel")
    page.wait_for_url(re.compile(r"q=travel"))
    results = page.locator("#product-results tbody tr")
    results.first.wait_for()
    assert results.count() == 1 and "TRAVEL-001" in results.first.inner_text()
    results.first.get_by_role("link", name="TRAVEL-001").click()

    page.wait_for_url(f"**/products/{product.pk}/")
    assert page.locator('tr[data-warehouse="EAST"] td.num').inner_text() == "25"
    assert page.locator('tr[data-warehouse="MAIN"] td.num').inner_text() == "0"
    initial = page.locator('tr[data-reason="initial"]')
    assert initial.count() == 1
    assert "Initial stock" in initial.inner_text() and "+25" in initial.inner_text()
    assert tenant_a.users[Role.ADMIN].username in initial.inner_text()
    assert shop.main.pk
    screenshot(page, "journey-2-product")


def test_journey_3_sales_cross_the_threshold_into_low_stock(page, tenant_a):
    shop = mug_shop(tenant_a)
    alpine = shop.products[1]  # 25 in MAIN, threshold 10 (its type's)
    log_in(page, tenant_a.users[Role.STAFF].username)

    for _ in range(2):
        page.goto(f"/c/{shop.company.pk}/products/{alpine.pk}/")
        page.get_by_role("button", name="Record sale").click()
        assert page.get_by_label("Product SKU").input_value() == alpine.sku
        page.get_by_label("Warehouse").select_option(label="MAIN — Main Warehouse")
        page.get_by_label("Quantity (units)").fill("8")
        page.get_by_role("button", name="Record sale").click()
        page.wait_for_url(f"**/products/{alpine.pk}/")
        assert page.get_by_text("Sale recorded.").is_visible()
    assert Sale.objects.filter(product=alpine).count() == 2

    page.get_by_role("link", name="Low stock").click()
    assert page.locator('[data-total="alerts"]').inner_text() == "1"
    row = page.locator("tbody tr").first
    cells = [cell.inner_text().strip() for cell in row.locator("td").all()]
    # 9 left of 25 after 16 sold in the 30-day window: 0.5333 a day, 16 days left; no
    # primary supplier, equal lead times (7 d): the cheaper one; reorder up to the threshold
    # plus lead time and cover: ceil(10 + (7 + 30) × 16 / 30 − 9) = 21.
    assert cells == [
        alpine.sku,
        "Alpine Mug",
        "Main Warehouse",
        "9",
        "10",
        "0.5333",
        "16",
        "21",
        "Budget Pots (7 d)",
    ]
    screenshot(page, "journey-3-low-stock")


def test_journey_4_a_low_stock_alert_drafted_ordered_and_received_in_two_parts(page, tenant_a):
    shop = mug_shop(tenant_a, sales_days=16)  # Alpine: 25 − 16 sold = 9 in MAIN, threshold 10
    alpine = shop.products[1]
    log_in(page, tenant_a.users[Role.ADMIN].username)

    page.get_by_role("link", name="Low stock").click()
    assert page.locator('[data-total="alerts"]').inner_text() == "1"
    page.get_by_label(f"Order {alpine.sku} for Main Warehouse").check()
    page.get_by_role("button", name="Create draft orders").click()
    expect(page.get_by_text("1 draft order created")).to_be_visible()
    page.get_by_role("link", name="PO-000001").click()

    order = PurchaseOrder.objects.get()
    line = order.lines.get()
    page.wait_for_url(f"**/purchase-orders/{order.pk}/")
    # The suggestion: up to the threshold plus lead time (7 d) and cover (30 d) of sales of
    # 16 in 30 days: ceil(10 + 37 × 16 / 30 − 9) = 21, from the cheaper supplier at 5.00.
    assert (line.product_id, line.quantity_ordered) == (alpine.pk, 21)
    assert page.locator('[data-total="order"]').inner_text() == "105.00"
    page.get_by_role("button", name="Place the order").click()
    expect(page.get_by_text("Order placed.")).to_be_visible()

    received = page.get_by_label(f"Units of {alpine.sku} received now")
    for units, status in ((12, "partially_received"), (9, "received")):
        received.fill(str(units))
        page.get_by_role("button", name="Record receipt").click()
        expect(page.get_by_text("Receipt recorded.")).to_be_visible()
        expect(page.locator("hgroup [data-status]")).to_have_attribute("data-status", status)
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.RECEIVED
    screenshot(page, "journey-4-purchase-order")

    page.get_by_role("link", name="Low stock").click()
    assert page.locator('[data-total="alerts"]').inner_text() == "0"
    page.goto(f"/c/{shop.company.pk}/products/{alpine.pk}/")
    assert page.locator('tr[data-warehouse="MAIN"] td.num').inner_text() == "30"
    receipts = page.locator('tr[data-reason="receipt"]')
    assert receipts.count() == 2
    assert [row.locator("td.num").first.inner_text() for row in receipts.all()] == ["+9", "+12"]
    assert (
        LedgerEntry.objects.filter(
            reference_type=ReferenceType.PURCHASE_ORDER, reference_id=order.pk
        ).count()
        == 2
    )


def test_journey_5_import_products_fix_the_bad_row_dry_run_clean_and_apply(
    page, tenant_a, tmp_path
):
    mug_shop(tenant_a)
    log_in(page, tenant_a.users[Role.ADMIN].username)
    status = page.locator("#import-status [data-status]")

    def upload(content: str) -> None:
        path = tmp_path / "teaware.csv"
        path.write_text(content)
        page.get_by_role("link", name="Import/export").click()
        page.get_by_label("What the file holds").select_option(label="Products with opening stock")
        page.get_by_label(re.compile(r"^File")).set_input_files(str(path))
        page.get_by_role("button", name="Upload").click()
        page.wait_for_url(re.compile(r"/data/imports/\d+/$"))
        expect(status).to_have_attribute("data-status", "validating")
        # The worker runs the queued check; the status below follows without a reload.
        page.evaluate("window.stillTheSamePage = true")
        run_worker_once()

    upload("sku,name,price,stock:MAIN\nTEA-1,Teapot,19.90,5\nTEA-2,Tea Cup,-3,12\n")
    expect(status).to_have_attribute("data-status", "invalid")
    assert page.evaluate("window.stillTheSamePage") is True
    errors = page.locator("table.import-errors tbody tr")
    assert errors.count() == 1
    cells = [cell.inner_text() for cell in errors.first.locator("td").all()]
    assert cells[:3] == ["3", "price", "invalid_amount"]
    assert page.get_by_role("button", name="Apply the import").count() == 0
    screenshot(page, "journey-5-dry-run-errors")

    upload("sku,name,price,stock:MAIN\nTEA-1,Teapot,19.90,5\nTEA-2,Tea Cup,3.00,12\n")
    expect(status).to_have_attribute("data-status", "valid")
    assert page.locator('[data-count="create"]').inner_text() == "2"
    assert page.locator('[data-count="error"]').inner_text() == "0"
    page.get_by_role("button", name="Apply the import").click()
    expect(status).to_have_attribute("data-status", "applying")
    page.evaluate("window.stillTheSamePage = true")
    run_worker_once()
    expect(status).to_have_attribute("data-status", "applied")
    assert page.evaluate("window.stillTheSamePage") is True
    assert ImportJob.objects.filter(status="applied").count() == 1

    page.get_by_role("link", name="Products").click()
    page.get_by_label("Name or SKU").fill("TEA-")
    page.wait_for_url(re.compile(r"q=TEA-"))
    results = page.locator("#product-results tbody tr")
    expect(results).to_have_count(2)
    assert [row.locator("td").nth(1).inner_text() for row in results.all()] == [
        "Teapot",
        "Tea Cup",
    ]
    assert Product.objects.get(sku="TEA-2").stock_levels.get().quantity == 12
    screenshot(page, "journey-5-imported-products")


def test_journey_6_a_viewer_has_no_write_buttons_and_a_forged_post_is_refused(page, tenant_a):
    shop = mug_shop(tenant_a)
    log_in(page, tenant_a.users[Role.VIEWER].username)

    page.goto(f"/c/{shop.company.pk}/products/{shop.mug.pk}/")
    assert page.get_by_role("heading", name="Harbor Mug").is_visible()
    for name in ("Record sale", "Receive", "Adjust", "Transfer", "Edit"):
        for role in ("link", "button"):
            assert page.get_by_role(role, name=name, exact=True).count() == 0
    assert page.get_by_role("link", name="Stock", exact=True).count() == 0
    page.goto(f"/c/{shop.company.pk}/products/")
    assert page.get_by_role("button", name="New product").count() == 0
    screenshot(page, "journey-6-viewer")

    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.context.request.post(
        f"/c/{shop.company.pk}/stock/sell/",
        form={"product_sku": shop.mug.sku, "warehouse_id": str(shop.main.pk), "quantity": "1"},
        headers={"X-CSRFToken": csrf, "Referer": page.url},
    )
    assert response.status == 403
    assert "Not allowed" in response.text()
    assert Sale.objects.filter(product=shop.mug).count() == 0


def test_journey_7_another_companys_url_is_the_404_page(page, tenant_a, tenant_b):
    other = mug_shop(tenant_b)
    log_in(page, tenant_a.users[Role.OWNER].username)

    for url in (
        f"/c/{tenant_b.company.pk}/",
        f"/c/{tenant_a.company.pk}/products/{other.mug.pk}/",
        f"/c/{tenant_a.company.pk}/warehouses/{other.main.pk}/edit/",
    ):
        response = page.goto(url)
        assert response.status == 404
        assert page.get_by_role("heading", name="Page not found").is_visible()
        assert "Harbor Mug" not in page.content()
    screenshot(page, "journey-7-not-found")
    assert Warehouse.objects.filter(company=tenant_b.company).count() == 2


def test_journey_8_an_owner_invites_and_the_invited_person_joins_from_the_email(
    page, browser, live_server, tenant_a
):
    log_in(page, tenant_a.users[Role.OWNER].username)
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Invitations").click()
    page.get_by_label("Email").fill("new.colleague@example.com")
    page.get_by_label("Role").select_option(label="Staff")
    page.get_by_role("button", name="Send invitation").click()
    assert page.get_by_text("An invitation was emailed to new.colleague@example.com.").is_visible()
    assert page.locator("tbody tr", has_text="new.colleague@example.com").count() == 1
    screenshot(page, "journey-8-invitations")

    run_worker_once()  # the worker sends the invitation
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    path = link[link.index("/invitations/accept") :]
    context = browser.new_context(base_url=live_server.url)
    invited = context.new_page()
    invited.set_default_timeout(15_000)
    invited.goto(path)
    invited.get_by_label("Username").fill("colleague")
    invited.get_by_label("Password").fill("plum tree 4 orchard!")
    invited.get_by_role("button", name="Accept").click()
    invited.wait_for_url(f"**/c/{tenant_a.company.pk}/")
    assert invited.get_by_text(f"You joined {tenant_a.company.name}.").is_visible()
    screenshot(invited, "journey-8-joined")
    context.close()
    membership = Membership.objects.get(user__username="colleague")
    assert membership.company_id == tenant_a.company.pk and membership.role == Role.STAFF
