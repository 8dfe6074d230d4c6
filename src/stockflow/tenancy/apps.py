from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "stockflow.tenancy"
    label = "tenancy"
    verbose_name = "Companies, members and API tokens"
