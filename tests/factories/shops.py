"""``Shop``: one company's data, built through the shared builders.

``Shop(tenant)`` starts empty and its methods add rows one at a time (the low-stock rules are
written that way). ``stocked_shop`` adds the standard stock most tests start from, and with
``history=True`` a little of everything else a company owns, written by the real services.
``mug_shop`` is the company the web app's pages and browser journeys show."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from stockflow.accounts.models import Invitation
from stockflow.api.models import IdempotencyKey
from stockflow.catalog.models import (
    BundleComponent,
    Product,
    ProductSupplier,
    ProductType,
    Supplier,
    Warehouse,
)
from stockflow.dataio import services as imports
from stockflow.dataio.models import ImportJob
from stockflow.inventory import movements, sales
from stockflow.inventory.models import LedgerEntry, Sale, StockEvent, StockLevel, StockMovement
from stockflow.notifications import services as notifications
from stockflow.notifications.models import WebhookDelivery, WebhookEndpoint
from stockflow.purchasing import services as purchasing
from stockflow.purchasing.models import PurchaseOrder, PurchaseOrderLine
from stockflow.tenancy.models import ApiToken, Company, Membership, Role
from tests.factories.catalog import (
    add_component,
    link_supplier,
    make_bundle,
    make_product,
    make_product_type,
    make_supplier,
    make_warehouse,
)
from tests.factories.sequence import next_number
from tests.factories.stock import past_sale, put_stock
from tests.factories.tenants import Tenant, make_invitation


class Shop:
    """One company's data. Text fields of the rows ``stocked_shop`` writes carry ``marker``,
    so that a response can be searched for a leak of them."""

    # The standard stock (stocked_shop): two warehouses; a mug of the Kitchen type
    # (threshold 20), 100 in MAIN; coffee (its own threshold 60), 50 in MAIN; a gift box
    # bundle of 1 mug (``line``) and 2 coffee; nothing in BACKUP.
    main: Warehouse
    backup: Warehouse
    kind: ProductType
    mug: Product
    coffee: Product
    gift_box: Product
    line: BundleComponent
    # The web app's company (mug_shop) also has a second warehouse and its three mugs.
    east: Warehouse
    products: list[Product]
    # Its history (stocked_shop(history=True)): the mug's primary supplier, a receipt of 5
    # mugs, a transfer of 3 to BACKUP, a coffee bag lost, 2 mugs and a gift box sold, the 3
    # mugs of BACKUP sold (its stock.out ``event``), a webhook endpoint that answers to every
    # event and its ping delivery, an idempotency key, a pending invitation.
    mug_supplier: Supplier
    link: ProductSupplier
    receipt: StockMovement
    transfer: StockMovement
    mug_sale: Sale
    level: StockLevel  # the mug's in MAIN
    ledger_entry: LedgerEntry  # the latest
    event: StockEvent
    webhook: WebhookEndpoint
    delivery: WebhookDelivery
    idempotency_key: IdempotencyKey
    invitation: Invitation
    import_job: ImportJob  # a validated stock count import (its one row refused)
    # Purchase orders of the mug and the coffee from the mug's supplier to MAIN: ``order``
    # ordered and partly received, ``draft`` a draft.
    order: PurchaseOrder
    draft: PurchaseOrder

    def __init__(self, tenant: Tenant, marker: str = "") -> None:
        self.tenant = tenant
        self.marker = marker

    def order_line(self, order: PurchaseOrder | None = None) -> PurchaseOrderLine:
        return (order or self.order).lines.order_by("id").first()

    def new_order(self, status: str = "draft") -> PurchaseOrder:
        """A fresh order of the mug and the coffee, in ``status`` (draft, ordered or
        partially_received)."""
        return new_order(self.mug_supplier, self.main, self.mug, self.coffee, status)

    @property
    def company(self) -> Company:
        return self.tenant.company

    def membership(self, role: str) -> Membership:
        return Membership.objects.get(company=self.company, user=self.tenant.users[role])

    def token(self, role: str) -> ApiToken:
        return ApiToken.objects.filter(user=self.tenant.users[role]).latest("id")

    # --- rows one at a time ----------------------------------------------------------------

    def warehouse(self, name: str = "Main", *, active: bool = True) -> Warehouse:
        return make_warehouse(self.company, name=name, is_active=active)

    def product_type(self, name: str = "Goods", threshold: int | None = None) -> ProductType:
        return make_product_type(
            self.company, f"{name} {next_number()}", low_stock_threshold=threshold
        )

    def product(
        self,
        name: str = "Widget",
        *,
        threshold: int | None = None,
        product_type: ProductType | None = None,
        bundle: bool = False,
        active: bool = True,
    ) -> Product:
        """A product stocked nowhere yet (``stock`` puts it in warehouses), or a bundle."""
        return make_product(
            self.company,
            name=name,
            low_stock_threshold=threshold,
            product_type=product_type,
            is_bundle=bundle,
            is_active=active,
        )

    def stock(self, product: Product, warehouse: Warehouse, quantity: int) -> StockLevel:
        return put_stock(product, warehouse, quantity)

    def sale(
        self,
        product: Product,
        warehouse: Warehouse,
        quantity: int,
        *,
        days_ago: float = 1,
        at: datetime | None = None,
    ) -> Sale:
        """A past sale: a row of the sales history, the stock untouched (``past_sale``)."""
        return past_sale(product, warehouse, quantity, days_ago=days_ago, at=at)

    def supplier(self, name: str = "Supplier", email: str = "") -> Supplier:
        return make_supplier(
            self.company, name, contact_email=email or f"s{next_number()}@example.com"
        )

    def supply(
        self,
        product: Product,
        supplier: Supplier,
        *,
        lead_time_days: int = 7,
        unit_cost: str | None = "1.00",
        primary: bool = False,
    ) -> ProductSupplier:
        return link_supplier(
            product,
            supplier,
            lead_time_days=lead_time_days,
            unit_cost=unit_cost,
            is_primary=primary,
        )

    def component(self, bundle: Product, component: Product, quantity: int) -> BundleComponent:
        return add_component(bundle, component, quantity)


def new_order(supplier, warehouse, mug, coffee, status: str = "draft") -> PurchaseOrder:
    """An order of 10 mugs and 5 coffee bags through the purchasing services, taken to
    ``status`` (draft, ordered, partially_received: 4 mugs received)."""
    order = purchasing.create_order(
        supplier=supplier,
        warehouse=warehouse,
        lines=[
            purchasing.LineInput(mug, 10, Decimal("1.2500")),
            purchasing.LineInput(coffee, 5, Decimal("3.0000")),
        ],
        notes="standing order",
    )
    if status != "draft":
        order = purchasing.place_order(order)
    if status == "partially_received":
        line = order.lines.order_by("id").first()
        order = purchasing.receive_order(order, [purchasing.ReceiptLine(line.pk, 4)])
    return order


def stocked_shop(
    tenant: Tenant, marker: str = "", *, kind_threshold: int = 20, history: bool = False
) -> Shop:
    """The standard stock of ``Shop`` in the tenant's company (SKUs ``MUG``, ``COFFEE``,
    ``GIFT``, prefixed ``{marker}-``: SKUs are unique across companies)."""
    shop = Shop(tenant, marker)
    company = tenant.company
    prefix = f"{marker}-" if marker else ""

    def named(text: str) -> str:
        return f"{marker} {text}" if marker else text.capitalize()

    shop.main = make_warehouse(
        company, "MAIN", name=named("main"), address=f"1 {marker} street" if marker else ""
    )
    shop.backup = make_warehouse(company, "BACKUP", name=named("backup"))
    shop.kind = make_product_type(company, named("kitchen"), low_stock_threshold=kind_threshold)
    description = named("description") if marker else ""
    shop.mug = make_product(
        company,
        f"{prefix}MUG",
        name=named("mug"),
        price="12.50",
        description=description,
        product_type=shop.kind,
        warehouse=shop.main,
        quantity=100,
    )
    shop.coffee = make_product(
        company,
        f"{prefix}COFFEE",
        name=named("coffee"),
        price="7.00",
        description=description,
        low_stock_threshold=60,
        warehouse=shop.main,
        quantity=50,
    )
    shop.gift_box = make_bundle(
        company, f"{prefix}GIFT", name=named("gift box"), price="25.00", description=description
    )
    shop.line = add_component(shop.gift_box, shop.mug, 1)
    add_component(shop.gift_box, shop.coffee, 2)
    if history:
        _add_history(shop, prefix, named)
    return shop


def _add_history(shop: Shop, prefix: str, named) -> None:
    owner = shop.tenant.users[Role.OWNER]
    shop.mug_supplier = make_supplier(
        shop.company,
        named("supplies"),
        contact_email=f"{shop.marker.lower() or 'orders'}@example.com",
    )
    shop.link = link_supplier(
        shop.mug, shop.mug_supplier, supplier_sku=f"{prefix}S1", is_primary=True
    )
    shop.receipt = movements.receive_stock(
        product=shop.mug, warehouse=shop.main, quantity=5, actor=owner, note=named("receipt")
    ).document
    shop.transfer = movements.transfer_stock(
        product=shop.mug,
        from_warehouse=shop.main,
        to_warehouse=shop.backup,
        quantity=3,
        actor=owner,
    ).document
    movements.adjust_stock(
        product=shop.coffee, warehouse=shop.main, reason="damage", change=-1, actor=owner
    )
    shop.mug_sale = sales.record_sale(
        product=shop.mug, warehouse=shop.main, quantity=2, actor=owner
    ).document
    sales.record_sale(product=shop.gift_box, warehouse=shop.main, quantity=1, actor=owner)
    # The backup warehouse's mugs sell out: a stock.out event.
    sales.record_sale(product=shop.mug, warehouse=shop.backup, quantity=3, actor=owner)
    shop.webhook = notifications.create_endpoint(
        company_id=shop.company.pk,
        url=f"http://127.0.0.1:9/{shop.marker or 'shop'}/hooks",
        events=["*"],
        description=named("receiver"),
    )
    shop.delivery = notifications.send_ping(shop.webhook)
    shop.idempotency_key = IdempotencyKey.objects.create(
        company=shop.company,
        key=f"{prefix}key",
        fingerprint="0" * 64,
        status_code=201,
        response_body="{}",
    )
    shop.level = StockLevel.objects.get(product=shop.mug, warehouse=shop.main)
    shop.ledger_entry = LedgerEntry.objects.filter(company=shop.company).latest("id")
    shop.event = StockEvent.objects.get(company=shop.company, stock_level__isnull=False)
    shop.invitation = make_invitation(
        shop.company, email=f"invitee.{shop.marker or next_number()}@example.com"
    )
    job, _ = imports.create_job(
        company_id=shop.company.pk,
        kind="stock_counts",
        content=f"sku,warehouse,counted_quantity\n{prefix}NONE,MAIN,1\n".encode(),
        file_name=named("counts") + ".csv",
        dry_run=True,
        actor=None,
    )
    shop.import_job = imports.validate_job(job.company_id, job.pk)
    shop.order = new_order(
        shop.mug_supplier, shop.main, shop.mug, shop.coffee, "partially_received"
    )
    shop.draft = new_order(shop.mug_supplier, shop.main, shop.mug, shop.coffee)


def mug_shop(tenant: Tenant, *, sales_days: int = 0, prefix: str = "") -> Shop:
    """The web app's company: warehouses MAIN and EAST, a Mugs type (threshold 10), three
    mugs in MAIN (``products``: Harbor 40, Alpine 25, Velvet 0; ``mug`` is Harbor), suppliers
    with costs (``mug_supplier`` is Harbor's primary at 4.00 and Alpine's at 6.00; a cheaper
    non-primary one supplies both; Velvet has no cost), and with ``sales_days`` one sale a day
    of Harbor and of Alpine in MAIN over the last days, made through the sale service."""
    shop = Shop(tenant)
    company = tenant.company
    prefix = prefix or f"C{company.pk}"
    shop.main = make_warehouse(company, "MAIN", name="Main Warehouse")
    shop.east = make_warehouse(company, "EAST", name="East Depot")
    shop.kind = make_product_type(company, "Mugs", low_stock_threshold=10)
    shop.mug_supplier = make_supplier(
        company, "Ceramica Ltd", contact_email="orders@ceramica.example"
    )
    cheap = make_supplier(company, "Budget Pots")
    shop.products = [
        make_product(
            company,
            f"{prefix}-MUG-{index}",
            name=name,
            price="12.50",
            product_type=shop.kind,
            warehouse=shop.main,
            quantity=quantity,
        )
        for index, (name, quantity) in enumerate(
            [("Harbor Mug", 40), ("Alpine Mug", 25), ("Velvet Mug", 0)], start=1
        )
    ]
    shop.mug, alpine = shop.products[:2]
    link_supplier(shop.mug, shop.mug_supplier, unit_cost="4.00", is_primary=True)
    link_supplier(shop.mug, cheap, unit_cost="3.00")
    link_supplier(alpine, shop.mug_supplier, unit_cost="6.00")
    link_supplier(alpine, cheap, unit_cost="5.00")
    now = timezone.now()
    for day in range(sales_days):
        for product in (shop.mug, alpine):
            sales.record_sale(
                product=product,
                warehouse=shop.main,
                quantity=1,
                sold_at=now - timedelta(days=day, hours=1),
            )
    return shop
