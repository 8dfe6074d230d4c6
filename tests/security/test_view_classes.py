"""Every view under /api/ goes through the one tenant mechanism (tenancy/scoping.py), except a
short list of account and documentation views that hold no tenant data."""

from __future__ import annotations

from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated

from stockflow.accounts.views import (
    AcceptInvitationView,
    PasswordChangeView,
    PasswordResetConfirmView,
    PasswordResetRequestView,
    SignUpView,
)
from stockflow.tenancy.scoping import TenantAPIView, TenantViewSet
from stockflow.tenancy.views import MeView, MyTokenViewSet, ObtainTokenView
from tests.security.routes import api_routes

# Views that are not tenant views, and why they may not be.
NOT_TENANT_VIEWS = {
    ObtainTokenView: "exchanges the caller's own password for a token",
    MyTokenViewSet: "the caller's own tokens, filtered by user",
    MeView: "the caller's own account and memberships",
    AcceptInvitationView: "the token names the company; the caller joins it",
    SignUpView: "creates a new account and company",
    PasswordResetRequestView: "emails the owner of an address",
    PasswordResetConfirmView: "the link names the account",
    PasswordChangeView: "the caller's own password",
    SpectacularAPIView: "the OpenAPI schema: no data",
    SpectacularSwaggerView: "API documentation page: no data",
    SpectacularRedocView: "API documentation page: no data",
}
# Views reachable without authentication.
PUBLIC_VIEWS = {
    AcceptInvitationView,
    SignUpView,
    PasswordResetRequestView,
    PasswordResetConfirmView,
    ObtainTokenView,
    SpectacularAPIView,
    SpectacularSwaggerView,
    SpectacularRedocView,
}


def non_tenant_views(view_classes) -> set[type]:
    return {
        cls
        for cls in view_classes
        if not issubclass(cls, TenantViewSet | TenantAPIView) and cls not in NOT_TENANT_VIEWS
    }


def test_every_api_view_is_a_tenant_view_or_allowed():
    routes = api_routes()
    assert len(routes) > 30
    offenders = non_tenant_views(route.view_class for route in routes)
    assert not offenders, f"API views outside TenantViewSet/TenantAPIView: {offenders}"


def test_an_api_view_outside_the_mechanism_is_reported():
    from rest_framework.views import APIView

    class RogueView(APIView):
        pass

    assert non_tenant_views([RogueView, MeView, TenantAPIView]) == {RogueView}


def test_tenant_viewsets_keep_the_scoped_queryset():
    """A viewset that overrides get_queryset would bypass the company filter."""
    for route in api_routes():
        if issubclass(route.view_class, TenantViewSet):
            assert route.view_class.get_queryset is TenantViewSet.get_queryset, route.template
            assert (
                route.view_class.check_object_permissions is TenantViewSet.check_object_permissions
            ), route.template


def test_only_account_and_documentation_views_are_public():
    for route in api_routes():
        permissions = route.view_class.permission_classes
        if route.view_class in PUBLIC_VIEWS:
            continue
        assert any(issubclass(p, IsAuthenticated) for p in permissions), route.template
