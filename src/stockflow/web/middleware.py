"""Error pages of the web app: outside /api/, a 403 or 404 is the app's own page.

Django renders ``handler403``/``handler404`` (``views.errors``) when ``DEBUG`` is off; with
``DEBUG`` on it shows its technical 404 page instead, and an unknown URL never reaches a view.
This middleware replaces any 403/404 answer outside /api/ that is not already an app page, so
that a person sees the same page in development and production. /api/ keeps its JSON errors
(``api.middleware.ApiErrorMiddleware``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from stockflow.api.middleware import is_api_request
from stockflow.web.views.errors import error_page


class WebErrorPageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code in (403, 404)
            and not is_api_request(request)
            and not getattr(response, "is_app_page", False)
        ):
            return error_page(request, response.status_code)
        return response
