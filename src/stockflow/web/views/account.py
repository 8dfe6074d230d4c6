"""Login, logout, password change, the company switcher and the landing redirect."""

from __future__ import annotations

import math

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from stockflow.tenancy.models import Membership
from stockflow.tenancy.scoping import TenantScope
from stockflow.web import backend, services
from stockflow.web.models import UserPreference


class LoginView(auth_views.LoginView):
    """Django's session login, behind the API's login throttle."""

    template_name = "web/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "signup_enabled": backend.signup_enabled()}

    def post(self, request, *args, **kwargs):
        allowed, wait = backend.login_attempt_allowed(request)
        if not allowed:
            form = self.get_form()
            form.errors.clear()
            seconds = math.ceil(wait or 1)
            form.add_error(None, f"Too many login attempts. Try again in {seconds} seconds.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "web/password_change.html"
    success_url = reverse_lazy("web:home")

    def form_valid(self, form):
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)


@login_required
def home(request):
    """The remembered company's dashboard; else the company the user joined first."""
    company_ids = list(
        Membership.objects.filter(user=request.user)
        .order_by("id")
        .values_list("company_id", flat=True)
    )
    if not company_ids:
        return render(request, "web/no_company.html", {"title": "No company yet"})
    remembered = (
        UserPreference.objects.filter(user=request.user)
        .values_list("company_id", flat=True)
        .first()
    )
    company_id = remembered if remembered in company_ids else company_ids[0]
    return redirect("web:dashboard", company_id=company_id)


@login_required
@require_POST
def switch_company(request):
    try:
        company_id = int(request.POST.get("company_id", ""))
    except ValueError:
        raise Http404("No such company.") from None
    if TenantScope.of(request).role_in(company_id) is None:
        raise Http404("No such company.")
    services.remember_company(request.user, company_id)
    return redirect("web:dashboard", company_id=company_id)
