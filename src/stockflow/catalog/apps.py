from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "stockflow.catalog"
    label = "catalog"
    verbose_name = "Catalog: warehouses, products, suppliers"
