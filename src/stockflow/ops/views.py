import hmac

from django.conf import settings
from django.http import Http404, HttpResponse

from stockflow.api.errors import ErrorCode, json_error
from stockflow.ops import metrics


def metrics_view(request):
    """Prometheus text format; ``Authorization: Bearer <STOCKFLOW_METRICS_TOKEN>``. Without a
    configured token the route does not exist (the 404 of an unknown address); a missing or
    wrong token is a 401 in the API's one error shape."""
    expected = settings.STOCKFLOW_METRICS_TOKEN
    if not expected:
        raise Http404
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        response = json_error(
            401,
            ErrorCode.NOT_AUTHENTICATED,
            "The metrics need Authorization: Bearer <STOCKFLOW_METRICS_TOKEN>.",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)
