from django.contrib import admin
from django.db import connection
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView


def healthz(request):
    """Liveness and database check; no authentication."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


api_patterns = [
    path("", include("stockflow.tenancy.urls")),
    path("", include("stockflow.catalog.urls")),
    path("", include("stockflow.inventory.urls")),
    path("", include("stockflow.alerts.urls")),
    path("", include("stockflow.purchasing.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
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
