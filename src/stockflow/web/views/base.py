"""What every company page shares: the tenant scope (``TenantPageMixin``), the header's
company switcher and the role flags the templates use to hide what a role cannot do."""

from __future__ import annotations

from django.shortcuts import render
from django.views import View

from stockflow.tenancy.models import Role
from stockflow.tenancy.scoping import TenantPageMixin
from stockflow.web.backend import Caller


def page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", 1)))
    except ValueError:
        return 1


def posted_id(request, name: str) -> int:
    """An id sent by a form; 0 (which matches nothing: a 404) when it is not a number."""
    try:
        return int(request.POST.get(name, ""))
    except ValueError:
        return 0


# The pages under the header's "Settings" link (their tabs: _settings_tabs.html).
SETTINGS_SECTIONS = ("members", "invitations", "webhooks", "notifications", "tokens")


class CompanyPage(TenantPageMixin, View):
    template_name = ""
    title = ""
    section = ""

    def render(self, context: dict | None = None, *, status: int = 200, template: str = ""):
        base = {
            "company": self.company,
            "memberships": self.memberships,
            "role": self.role,
            "can_move_stock": self.can(Role.STAFF),
            "can_edit": self.can(Role.ADMIN),
            "is_owner": self.can(Role.OWNER),
            "section": self.section,
            "settings_sections": SETTINGS_SECTIONS,
            "title": self.title,
            "view": self,
        }
        return render(
            self.request, template or self.template_name, {**base, **(context or {})}, status=status
        )

    def caller(self) -> Caller:
        return Caller(user=self.request.user, tenant=self.tenant, company_id=self.company_id)

    def int_param(self, name: str, allowed: set[int] | None = None) -> int | None:
        """An integer query parameter, None when absent, malformed or not among ``allowed``."""
        try:
            value = int(self.request.GET.get(name, ""))
        except ValueError:
            return None
        return value if allowed is None or value in allowed else None
