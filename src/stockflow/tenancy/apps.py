from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "stockflow.tenancy"
    label = "tenancy"
    verbose_name = "Companies, members and API tokens"

    def ready(self) -> None:
        from stockflow.tenancy import schema  # noqa: F401  (registers the OpenAPI auth scheme)
