"""The app's error pages (404, 403, 500 and a refused CSRF check), never a traceback."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "Your role in this company does not allow this action."),
    404: ("Page not found", "There is nothing here, or it belongs to another company."),
    500: ("Something went wrong", "The error was logged. Please try again in a moment."),
}


def error_page(request: HttpRequest, status: int, message: str | None = None) -> HttpResponse:
    title, default = MESSAGES.get(status, MESSAGES[500])
    context = {"status": status, "title": title, "message": message or default}
    # The 500 page renders without the request context: whatever failed may fail again.
    html = render_to_string("web/error.html", context, request=request if status != 500 else None)
    response = HttpResponse(html, status=status)
    response.is_app_page = True
    return response


def page_not_found(request, exception=None):
    return error_page(request, 404)


def permission_denied(request, exception=None):
    return error_page(request, 403)


def bad_request(request, exception=None):
    return error_page(request, 400)


def server_error(request):
    return error_page(request, 500)


def csrf_failure(request, reason=""):
    return error_page(
        request,
        403,
        "The form had expired or came from another site. Go back, reload the page and "
        "submit it again.",
    )
