"""Webhook tables' keys within a company: one delivery per company, endpoint and event,
and every reference between tenant rows inside one company (``tenancy.dbschema``). Not
atomic: indexes are built ``CONCURRENTLY`` on PostgreSQL."""

from django.db import migrations, models

from stockflow.tenancy.dbschema import RekeyUnique, SameCompanyForeignKeys


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inventory", "0009_keys_within_company"),
        ("notifications", "0002_notification_preferences"),
    ]

    operations = [
        RekeyUnique(
            "notifications_webhookdelivery",
            "webhook_delivery_one_per_event",
            ["endpoint_id", "event_id"],
            condition="event_id IS NOT NULL",
            old_is_index=True,
            state_operations=[
                migrations.RemoveConstraint(
                    model_name="webhookdelivery", name="webhook_delivery_one_per_event"
                ),
                migrations.AddConstraint(
                    model_name="webhookdelivery",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("event__isnull", False)),
                        fields=("company", "endpoint", "event"),
                        name="webhook_delivery_one_per_event",
                    ),
                ),
            ],
        ),
        SameCompanyForeignKeys(
            [
                ("notifications_webhookdelivery", "endpoint_id", "notifications_webhookendpoint"),
                ("notifications_webhookdelivery", "event_id", "inventory_stockevent"),
                ("notifications_deliveryattempt", "delivery_id", "notifications_webhookdelivery"),
                ("notifications_dispatchedevent", "event_id", "inventory_stockevent"),
            ]
        ),
    ]
