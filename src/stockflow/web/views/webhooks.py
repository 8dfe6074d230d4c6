"""Settings → Webhooks (owners and admins): endpoints, their signing secret (shown once, on
the page that answers a create or a rotation), test pings, and deliveries with attempts."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from rest_framework.exceptions import APIException

from stockflow.tenancy.models import Role
from stockflow.web import backend, selectors
from stockflow.web.forms import Form, Input
from stockflow.web.views.base import CompanyPage, posted_id

DELIVERIES_SHOWN = 20


def webhook_inputs() -> list[Input]:
    return [
        Input("url", "URL", type="url", required=True, help="Receives a signed POST per event."),
        Input("description", "Description", type="textarea"),
        Input("is_active", "Active", type="checkbox", value=True),
    ]


def event_choices(form_data, selected: list[str] | None) -> list[dict]:
    chosen = form_data.getlist("events") if form_data is not None else (selected or [])
    return [
        {"value": value, "id": f"id_events_{n}", "checked": value in chosen}
        for n, value in enumerate(backend.WEBHOOK_EVENT_TYPES)
    ]


class WebhookPage(CompanyPage):
    read_role = Role.ADMIN
    write_role = Role.ADMIN
    section = "webhooks"


class WebhooksView(WebhookPage):
    template_name = "web/webhooks.html"
    title = "Webhooks"

    def page(self, form: Form | None = None, status: int = 200, secret: str = ""):
        return self.render(
            {
                "webhooks": list(selectors.webhooks(self.company_id)),
                "form": form or Form(webhook_inputs()),
                "events": event_choices(self.request.POST if form is not None else None, ["*"]),
                "secret": secret,
            },
            status=status,
        )

    def get(self, request, company_id: int):
        return self.page()

    def post(self, request, company_id: int):
        form = Form(webhook_inputs(), data=request.POST)
        try:
            endpoint = backend.create_webhook(self.caller(), request.POST)
        except APIException as exc:
            form.add_errors(exc)
            return self.page(form, status=400)
        messages.success(request, f"Webhook {endpoint.url} was created.")
        return self.page(secret=endpoint.secret)


class WebhookView(WebhookPage):
    """One endpoint: edit, rotate its secret, ping, delete; its deliveries and a retry."""

    template_name = "web/webhook.html"
    title = "Webhook"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.endpoint = None

    def load(self, webhook_id: int):
        self.endpoint = self.scoped_object(selectors.webhooks(self.company_id), pk=webhook_id)

    def page(self, form: Form | None = None, status: int = 200, secret: str = ""):
        endpoint = self.endpoint
        initial = {
            "url": endpoint.url,
            "description": endpoint.description,
            "is_active": endpoint.is_active,
        }
        return self.render(
            {
                "endpoint": endpoint,
                "form": form or Form(webhook_inputs(), initial=initial),
                "events": event_choices(
                    self.request.POST if form is not None else None, endpoint.events
                ),
                "deliveries": backend.webhook_deliveries(endpoint, DELIVERIES_SHOWN),
                "secret": secret,
            },
            status=status,
        )

    def get(self, request, company_id: int, webhook_id: int):
        self.load(webhook_id)
        return self.page()

    def post(self, request, company_id: int, webhook_id: int):
        self.load(webhook_id)
        endpoint = self.endpoint
        action = request.POST.get("action")
        if action == "delete":
            backend.delete_webhook(endpoint)
            messages.success(request, f"Webhook {endpoint.url} was deleted.")
            return redirect("web:webhooks", company_id=self.company_id)
        if action == "rotate":
            self.endpoint = backend.rotate_webhook_secret(endpoint)
            return self.page(secret=self.endpoint.secret)
        if action == "ping":
            backend.ping_webhook(endpoint)
            messages.success(request, "A test event (webhook.ping) is on its way.")
        elif action == "retry":
            delivery = self.scoped_object(
                selectors.webhook_deliveries(self.company_id, endpoint.pk),
                pk=posted_id(request, "delivery_id"),
            )
            backend.retry_delivery(delivery)
            messages.success(request, f"Delivery {delivery.message_id} is sent again.")
        else:
            form = Form(webhook_inputs(), data=request.POST)
            try:
                backend.update_webhook(self.caller(), endpoint, request.POST)
            except APIException as exc:
                form.add_errors(exc)
                return self.page(form, status=400)
            messages.success(request, "The webhook was saved.")
        return redirect("web:webhook", company_id=self.company_id, webhook_id=endpoint.pk)
