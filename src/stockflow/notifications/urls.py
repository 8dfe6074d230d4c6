from stockflow.api.routers import Router
from stockflow.notifications import views

router = Router()
router.register("webhooks", views.WebhookEndpointViewSet, basename="webhook")
router.register("webhook-deliveries", views.WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = [*router.urls]
