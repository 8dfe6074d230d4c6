from django.apps import AppConfig


class DataIoConfig(AppConfig):
    name = "stockflow.dataio"
    label = "dataio"
    verbose_name = "Import and export"
