from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "stockflow.accounts"
    label = "accounts"
    verbose_name = "Invitations, sign-up and passwords"
