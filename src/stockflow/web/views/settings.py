"""Settings: the company's members (owners manage roles) and the user's API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from rest_framework.exceptions import APIException

from stockflow.tenancy.models import Role
from stockflow.web import backend, selectors
from stockflow.web.forms import Form, Input
from stockflow.web.views.base import CompanyPage, posted_id


def member_inputs() -> list[Input]:
    return [
        Input("username", "Username", required=True),
        Input("role", "Role", type="select", required=True, choices=list(Role.choices)),
    ]


class MembersView(CompanyPage):
    """Any member sees the list; only owners add, change and remove (as the API allows)."""

    template_name = "web/members.html"
    title = "Members"
    section = "members"
    write_role = Role.OWNER

    def page(self, form: Form | None = None, status: int = 200):
        return self.render(
            {
                "members": list(selectors.members(self.company_id)),
                "roles": list(Role.choices),
                "form": form or Form(member_inputs(), initial={"role": Role.STAFF}),
            },
            status=status,
        )

    def get(self, request, company_id: int):
        return self.page()

    def post(self, request, company_id: int):
        action = request.POST.get("action")
        form = Form(member_inputs(), data=request.POST)
        try:
            if action == "add":
                backend.add_member(self.company, request.POST)
                messages.success(request, "Member added.")
            else:
                membership = self.scoped_object(
                    selectors.members(self.company_id), pk=posted_id(request, "member_id")
                )
                if action == "remove":
                    backend.remove_member(membership)
                    messages.success(request, f"{membership.user.username} was removed.")
                else:
                    backend.change_member_role(membership, request.POST)
                    messages.success(request, f"{membership.user.username}'s role was changed.")
        except APIException as exc:
            form.add_errors(exc)
            return self.page(form, status=400)
        return redirect("web:members", company_id=self.company_id)


def token_inputs() -> list[Input]:
    return [
        Input("name", "Name", help="What the token is for."),
        Input(
            "expires_in_days",
            "Expires in (days)",
            type="number",
            min="1",
            help="Leave empty for a token that does not expire.",
        ),
    ]


class TokensView(CompanyPage):
    """The user's own API tokens (they act in all the user's companies). A new token is
    shown once, on the page that answers its creation."""

    template_name = "web/tokens.html"
    title = "API tokens"
    section = "tokens"
    write_role = Role.VIEWER

    def page(self, form: Form | None = None, new_token: str = "", status: int = 200):
        return self.render(
            {
                "tokens": list(selectors.tokens(self.request.user)),
                "form": form or Form(token_inputs()),
                "new_token": new_token,
            },
            status=status,
        )

    def get(self, request, company_id: int):
        return self.page()

    def post(self, request, company_id: int):
        if request.POST.get("action") == "revoke":
            token = get_object_or_404(
                selectors.tokens(request.user), pk=posted_id(request, "token_id")
            )
            backend.revoke_token(token)
            messages.success(request, f"Token {token.prefix}… was revoked.")
            return redirect("web:tokens", company_id=self.company_id)
        form = Form(token_inputs(), data=request.POST)
        try:
            _, clear = backend.issue_token(request.user, request.POST)
        except APIException as exc:
            form.add_errors(exc)
            return self.page(form, status=400)
        return self.page(new_token=clear)
