import hmac

from django.conf import settings
from django.http import Http404, HttpResponse

from stockflow.ops import metrics


def metrics_view(request):
    """Prometheus text format; ``Authorization: Bearer <STOCKFLOW_METRICS_TOKEN>``. Without a
    configured token the route does not exist (404)."""
    expected = settings.STOCKFLOW_METRICS_TOKEN
    if not expected:
        raise Http404
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        response = HttpResponse("unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)
