from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

api_patterns = [
    path("", include("stockflow.tenancy.urls")),
    path("", include("stockflow.catalog.urls")),
    path("", include("stockflow.inventory.urls")),
    path("", include("stockflow.alerts.urls")),
    path("", include("stockflow.purchasing.urls")),
    path("", include("stockflow.notifications.urls")),
    path("", include("stockflow.dataio.urls")),
    path("", include("stockflow.accounts.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

urlpatterns = [
    path("", include("stockflow.ops.urls")),
    path("admin/", admin.site.urls),
    path("api-auth/", include("rest_framework.urls")),
    path("api/", include(api_patterns)),
    # The web app for people; its error pages answer outside /api/.
    path("", include("stockflow.web.urls")),
]

handler400 = "stockflow.web.views.errors.bad_request"
handler403 = "stockflow.web.views.errors.permission_denied"
handler404 = "stockflow.web.views.errors.page_not_found"
handler500 = "stockflow.web.views.errors.server_error"
