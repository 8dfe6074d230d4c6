from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "stockflow.ops"
    label = "ops"
    verbose_name = "Operations: health, heartbeats, metrics, logs"
