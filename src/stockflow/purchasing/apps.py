from django.apps import AppConfig


class PurchasingConfig(AppConfig):
    name = "stockflow.purchasing"
    label = "purchasing"
    verbose_name = "Purchasing"

    def ready(self) -> None:
        # The stock reads below this layer (inventory, alerts) count what is on order
        # through the order book registered here (see inventory.incoming).
        from stockflow.inventory.incoming import OrderBook, register_order_book
        from stockflow.purchasing.models import (
            OPEN_STATUSES,
            PurchaseOrder,
            PurchaseOrderLine,
            PurchaseOrderStatus,
        )

        register_order_book(
            OrderBook(
                order_table=PurchaseOrder._meta.db_table,
                line_table=PurchaseOrderLine._meta.db_table,
                open_statuses=tuple(str(status) for status in OPEN_STATUSES),
                draft_status=str(PurchaseOrderStatus.DRAFT),
            )
        )
