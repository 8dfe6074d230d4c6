"""Every request runs in a row-level security context (``tenancy.dbcontext``)."""

from __future__ import annotations

from django.urls import reverse

from stockflow.tenancy import dbcontext


class TenantDatabaseMiddleware:
    """On PostgreSQL with ``STOCKFLOW_RLS``, each transaction of the request sees only the
    caller's companies: none until the caller is known (``TenantScope`` admits them), none
    for an anonymous caller. The admin site, the platform staff's tool across companies
    (it lets only staff in), runs as maintenance. A streamed body is produced in the same
    context as its view."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.admin_prefix = reverse("admin:index")

    def __call__(self, request):
        if not dbcontext.enabled():
            return self.get_response(request)
        admin = request.path.startswith(self.admin_prefix)
        with dbcontext.maintenance() if admin else dbcontext.tenant():
            response = self.get_response(request)
            if response.streaming:
                response.streaming_content = dbcontext.continued(response.streaming_content)
        return response
