"""Webhook endpoints and their deliveries: owners and admins only (others 403)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from stockflow.api.pagination import NewestFirstCursorPagination
from stockflow.notifications import services
from stockflow.notifications.models import (
    NotificationPreference,
    WebhookDelivery,
    WebhookEndpoint,
)
from stockflow.notifications.selectors import deliveries_with_attempts, preference_of
from stockflow.notifications.serializers import (
    NotificationPreferenceSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointInput,
    WebhookEndpointSerializer,
    WebhookEndpointWithSecretSerializer,
)
from stockflow.tenancy.models import Role
from stockflow.tenancy.scoping import TenantAPIView, TenantViewSet


class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Endpoints that receive the company's events, signed per Standard Webhooks. The
    signing secret is in the answer of the create and of ``rotate-secret`` only."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    read_role = Role.ADMIN
    write_role = Role.ADMIN
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def refine_queryset(self, queryset):
        if self.action == "list":
            companies = self.tenant.company_ids(Role.ADMIN)
            if not companies and self.tenant.company_ids():
                raise exceptions.PermissionDenied("Webhooks are managed by owners and admins.")
            queryset = queryset.filter(company_id__in=companies)
        return queryset.order_by("id")

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        services.delete_endpoint(instance)

    @extend_schema(
        request=WebhookEndpointInput, responses={201: WebhookEndpointWithSecretSerializer}
    )
    def create(self, request):
        data = WebhookEndpointInput(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        company = values.pop("company")
        self.tenant.require(company.pk, self.required_role())
        endpoint = services.create_endpoint(company_id=company.pk, actor=request.user, **values)
        body = WebhookEndpointWithSecretSerializer(endpoint).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=WebhookEndpointInput, responses={200: WebhookEndpointSerializer})
    def partial_update(self, request, pk=None):
        endpoint = self.get_object()
        data = WebhookEndpointInput(
            data=request.data, partial=True, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        endpoint = services.update_endpoint(endpoint, **data.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(request=None, responses={200: WebhookEndpointWithSecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new secret (shown once); the previous one keeps signing beside it for 24 hours."""
        endpoint = services.rotate_secret(self.get_object())
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        """Send a ``webhook.ping`` test event to the endpoint (through the worker)."""
        delivery = services.send_ping(self.get_object())
        delivery = deliveries_with_attempts(WebhookDelivery.objects, [delivery.company_id]).get(
            pk=delivery.pk
        )
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: WebhookDeliverySerializer(many=True)})
    @action(
        detail=True,
        methods=["get"],
        pagination_class=NewestFirstCursorPagination,
        serializer_class=WebhookDeliverySerializer,
    )
    def deliveries(self, request, pk=None):
        """The endpoint's deliveries, newest first, each with every attempt."""
        endpoint = self.get_object()
        queryset = deliveries_with_attempts(
            WebhookDelivery.objects.filter(endpoint=endpoint), [endpoint.company_id]
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookDeliveryViewSet(mixins.RetrieveModelMixin, TenantViewSet):
    """One delivery and its attempts; ``retry`` sends it again now."""

    queryset = WebhookDelivery.objects.all()
    serializer_class = WebhookDeliverySerializer
    read_role = Role.ADMIN
    write_role = Role.ADMIN

    def refine_queryset(self, queryset):
        return deliveries_with_attempts(queryset, self.tenant.company_ids())

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        delivery = services.retry_delivery(self.get_object())
        delivery = self.get_queryset().get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class NotificationPreferencesView(TenantAPIView):
    """The caller's own email preferences in one company (any member)."""

    read_role = Role.VIEWER
    write_role = Role.VIEWER

    def _current(self, company_id: int) -> NotificationPreference:
        self.tenant.require(company_id, self.required_role())
        return preference_of(company_id, self.request.user)

    @extend_schema(
        operation_id="notification_preferences_read",
        parameters=[OpenApiParameter("company_id", int, OpenApiParameter.PATH)],
        responses={
            200: NotificationPreferenceSerializer,
            404: OpenApiResponse(description="No such company among the caller's companies."),
        },
        tags=["notifications"],
    )
    def get(self, request, company_id: str):
        preference = self._current(int(company_id))
        return Response(NotificationPreferenceSerializer(preference).data)

    @extend_schema(
        operation_id="notification_preferences_write",
        parameters=[OpenApiParameter("company_id", int, OpenApiParameter.PATH)],
        request=NotificationPreferenceSerializer,
        responses={
            200: NotificationPreferenceSerializer,
            400: OpenApiResponse(description="A field is invalid (see error.fields)."),
            404: OpenApiResponse(description="No such company among the caller's companies."),
        },
        tags=["notifications"],
    )
    def put(self, request, company_id: str):
        self._current(int(company_id))
        data = NotificationPreferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preference = services.save_preferences(
            company_id=int(company_id), user=request.user, **data.validated_data
        )
        preference = NotificationPreference.objects.select_related("company").get(
            pk=preference.pk, company_id=preference.company_id
        )
        return Response(NotificationPreferenceSerializer(preference).data)
