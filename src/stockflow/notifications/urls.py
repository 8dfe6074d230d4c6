from django.urls import re_path

from stockflow.api.routers import Router
from stockflow.notifications import views

router = Router()
router.register("webhooks", views.WebhookEndpointViewSet, basename="webhook")
router.register("webhook-deliveries", views.WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = [
    re_path(
        r"^companies/(?P<company_id>\d+)/notification-preferences/?$",
        views.NotificationPreferencesView.as_view(),
        name="notification-preferences",
    ),
    *router.urls,
]
