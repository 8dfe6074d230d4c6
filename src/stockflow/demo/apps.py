from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "stockflow.demo"
    label = "demo"
    verbose_name = "Demo data"
