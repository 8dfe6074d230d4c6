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


def invitation_inputs() -> list[Input]:
    return [
        Input("action", "Action", type="hidden", value="invite"),
        Input("email", "Email", type="email", required=True),
        Input("role", "Role", type="select", required=True, choices=list(Role.choices)),
    ]


class InvitationsView(CompanyPage):
    """Owners and admins invite by email with a role (no higher than their own, as the API
    rules), and resend or revoke the invitations not yet accepted."""

    template_name = "web/invitations.html"
    title = "Invitations"
    section = "invitations"
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def page(self, form: Form | None = None, status: int = 200):
        return self.render(
            {
                "invitations": list(selectors.open_invitations(self.company_id)),
                "form": form or Form(invitation_inputs(), initial={"role": Role.STAFF}),
            },
            status=status,
        )

    def get(self, request, company_id: int):
        return self.page()

    def post(self, request, company_id: int):
        action = request.POST.get("action")
        form = Form(invitation_inputs(), data=request.POST)
        try:
            if action == "invite":
                invitation = backend.invite(self.caller(), request.POST)
                messages.success(request, f"An invitation was emailed to {invitation.email}.")
            else:
                invitation = self.scoped_object(
                    selectors.open_invitations(self.company_id),
                    pk=posted_id(request, "invitation_id"),
                )
                if action == "revoke":
                    backend.revoke_invitation(invitation)
                    messages.success(request, f"The invitation of {invitation.email} was revoked.")
                else:
                    backend.resend_invitation(invitation)
                    messages.success(request, f"A new link was emailed to {invitation.email}.")
        except APIException as exc:
            form.add_errors(exc)
            return self.page(form, status=400)
        return redirect("web:invitations", company_id=self.company_id)


def preference_inputs() -> list[Input]:
    return [
        Input("immediate", "Email me new low-stock and out-of-stock alerts", type="checkbox"),
        Input(
            "immediate_every_minutes",
            "At most one alert email every (minutes)",
            type="number",
            min="1",
            required=True,
            help="Alerts arriving meanwhile are batched into the next email.",
        ),
        Input("daily_digest", "Email me the low-stock report every day", type="checkbox"),
        Input("digest_hour", "Hour of the daily report", type="number", min="0", required=True),
    ]


class NotificationPreferencesView(CompanyPage):
    """Every member's own email preferences in this company (the API's serializer and
    service); nobody sees or changes another member's."""

    template_name = "web/notification_preferences.html"
    title = "Notifications"
    section = "notifications"
    write_role = Role.VIEWER

    def page(self, form: Form | None = None, status: int = 200):
        current = backend.notification_preferences(self.company, self.request.user)
        return self.render(
            {"form": form or Form(preference_inputs(), initial=current), "current": current},
            status=status,
        )

    def get(self, request, company_id: int):
        return self.page()

    def post(self, request, company_id: int):
        form = Form(preference_inputs(), data=request.POST)
        try:
            backend.save_notification_preferences(self.caller(), request.POST)
        except APIException as exc:
            form.add_errors(exc)
            return self.page(form, status=400)
        messages.success(request, "Your notification preferences were saved.")
        return redirect("web:notification_preferences", company_id=self.company_id)
