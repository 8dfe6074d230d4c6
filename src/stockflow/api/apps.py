from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "stockflow.api"
    label = "api"
    verbose_name = "API plumbing"
