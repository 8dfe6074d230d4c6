from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "stockflow.alerts"
    label = "alerts"
    verbose_name = "Low-stock alerts"

    def ready(self) -> None:
        from stockflow.alerts.figures import stock_event_figures
        from stockflow.inventory import events

        # Stock events carry the report's figures; inventory cannot import the report.
        events.provide_alert_figures(stock_event_figures)
