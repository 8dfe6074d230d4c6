from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "stockflow.inventory"
    label = "inventory"
    verbose_name = "Inventory: stock levels, ledger, sales"
