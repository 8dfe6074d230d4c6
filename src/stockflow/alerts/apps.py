from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "stockflow.alerts"
    label = "alerts"
    verbose_name = "Low-stock alerts"
