from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "stockflow.notifications"
    label = "notifications"
    verbose_name = "Notifications: webhooks, email, the worker"

    def ready(self) -> None:
        from stockflow.notifications.queue import record_queue_metrics
        from stockflow.ops import metrics

        metrics.on_scrape(record_queue_metrics)
