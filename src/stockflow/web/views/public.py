"""The pages the account emails link to, and sign-up: accepting an invitation, resetting a
forgotten password, creating an account and a company. Each runs the API's serializers and
services (``backend``), behind the API's throttle of these requests."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View
from rest_framework.exceptions import APIException

from stockflow.web import backend
from stockflow.web.forms import NON_FIELD, Form, Input

SESSION_BACKEND = "django.contrib.auth.backends.ModelBackend"
# The link's hidden values: an error on them is about the link, shown above the form.
LINK_ERRORS = {"token": NON_FIELD, "uid": NON_FIELD}


def password_input(name: str = "password", label: str = "Password") -> Input:
    return Input(name, label, type="password", required=True)


class PublicFormPage(View):
    """A page outside any company with one form; ``submit`` runs it (raising the API's
    errors) and returns the answer to a success."""

    title = ""
    intro = ""
    submit_label = ""

    def inputs(self) -> list[Input]:
        raise NotImplementedError

    def initial(self) -> dict:
        return {}

    def extra(self) -> dict:
        return {}

    def render_form(self, form: Form, status: int = 200):
        context = {"title": self.title, "intro": self.intro, "form": form}
        context["submit"] = self.submit_label
        return render(
            self.request, "web/public_form.html", {**context, **self.extra()}, status=status
        )

    def get(self, request):
        return self.render_form(Form(self.inputs(), initial=self.initial(), aliases=LINK_ERRORS))

    def post(self, request):
        form = Form(self.inputs(), data=request.POST, aliases=LINK_ERRORS)
        allowed, wait = backend.account_attempt_allowed(request)
        if not allowed:
            form.add_error(None, f"Too many attempts. Try again in {math.ceil(wait or 1)} seconds.")
            return self.render_form(form, status=429)
        try:
            return self.submit(form)
        except APIException as exc:
            form.add_errors(exc)
            return self.render_form(form, status=400)

    def submit(self, form: Form):
        raise NotImplementedError


class AcceptInvitationView(PublicFormPage):
    """The invitation email's link: a signed-in user joins the company; anyone else chooses
    a username and password for a new account (with the invited email) and is signed in."""

    title = "Accept the invitation"
    submit_label = "Accept"

    def inputs(self) -> list[Input]:
        inputs = [Input("token", "Token", type="hidden")]
        if not self.request.user.is_authenticated:
            inputs += [Input("username", "Username", required=True), password_input()]
        return inputs

    def initial(self) -> dict:
        return {"token": self.request.GET.get("token", "")}

    def extra(self) -> dict:
        if self.request.user.is_authenticated:
            intro = f"You join the company as {self.request.user.get_username()}."
            return {"intro": intro, "submit": "Join the company"}
        login_url = reverse("web:login") + "?" + urlencode({"next": self.request.get_full_path()})
        return {
            "intro": "Choose a username and a password for your new account.",
            "login_url": login_url,
        }

    def submit(self, form: Form):
        user = self.request.user if self.request.user.is_authenticated else None
        membership = backend.accept_invitation(self.request.POST, user=user)
        if user is None:
            login(self.request, membership.user, backend=SESSION_BACKEND)
        messages.success(self.request, f"You joined {membership.company.name}.")
        return redirect("web:dashboard", company_id=membership.company_id)


class SignUpView(PublicFormPage):
    """A new account and a new company owned by it (only when ``STOCKFLOW_SIGNUP`` is on)."""

    title = "Sign up"
    intro = "Create an account and your company."
    submit_label = "Sign up"

    def dispatch(self, request, *args, **kwargs):
        if not backend.signup_enabled():
            raise Http404("Sign-up is turned off.")
        return super().dispatch(request, *args, **kwargs)

    def inputs(self) -> list[Input]:
        return [
            Input("username", "Username", required=True),
            Input("email", "Email", type="email", required=True),
            password_input(),
            Input("company_name", "Company name", required=True),
        ]

    def submit(self, form: Form):
        membership = backend.sign_up(self.request.POST)
        login(self.request, membership.user, backend=SESSION_BACKEND)
        messages.success(self.request, f"Welcome to StockFlow: {membership.company.name} is ready.")
        return redirect("web:dashboard", company_id=membership.company_id)


RESET_SENT = "If an account uses this email address, a link to reset its password is on its way."


class PasswordResetRequestView(PublicFormPage):
    """The same answer whether or not an account uses the address."""

    title = "Forgot your password?"
    intro = "We email a link to choose a new password."
    submit_label = "Email me a link"

    def inputs(self) -> list[Input]:
        return [Input("email", "Email", type="email", required=True)]

    def submit(self, form: Form):
        backend.request_password_reset(self.request.POST)
        return render(
            self.request, "web/public_message.html", {"title": self.title, "text": RESET_SENT}
        )


class PasswordResetConfirmView(PublicFormPage):
    """The reset email's link: choose a new password, then log in with it."""

    title = "Choose a new password"
    submit_label = "Set password"

    def inputs(self) -> list[Input]:
        return [
            Input("uid", "Account", type="hidden"),
            Input("token", "Token", type="hidden"),
            password_input("new_password", "New password"),
        ]

    def initial(self) -> dict:
        return {name: self.request.GET.get(name, "") for name in ("uid", "token")}

    def submit(self, form: Form):
        backend.reset_password(self.request.POST)
        messages.success(self.request, "Your password was changed; log in with it.")
        return redirect("web:login")
