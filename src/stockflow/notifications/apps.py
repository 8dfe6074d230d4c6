from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "stockflow.notifications"
    label = "notifications"
    verbose_name = "Notifications: webhooks, email, the worker"
