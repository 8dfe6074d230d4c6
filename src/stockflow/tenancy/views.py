from __future__ import annotations

from django.contrib.auth import authenticate, get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.views import APIView

from stockflow.api.throttling import LoginRateThrottle
from stockflow.tenancy import services
from stockflow.tenancy.models import ApiToken, Company, Membership, Role
from stockflow.tenancy.scoping import TenantViewSet
from stockflow.tenancy.serializers import (
    AddMemberSerializer,
    ApiTokenSerializer,
    CompanySerializer,
    IssuedTokenSerializer,
    MemberSerializer,
    MeSerializer,
    ObtainTokenSerializer,
)


class ObtainTokenView(APIView):
    """Exchange a username and password for a new API token (shown once)."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [LoginRateThrottle]

    def get_authenticate_header(self, request):
        # A failed login is a 401 with a challenge, not DRF's 403 for views without auth.
        return 'Bearer realm="api"'

    @extend_schema(request=ObtainTokenSerializer, responses={201: IssuedTokenSerializer})
    def post(self, request):
        serializer = ObtainTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise AuthenticationFailed("Invalid username or password.")
        api_token, clear = services.issue_token(
            user=user, name=serializer.validated_data["name"], expires_at=serializer.expires_at()
        )
        api_token.token = clear
        return Response(IssuedTokenSerializer(api_token).data, status=status.HTTP_201_CREATED)


class MyTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The caller's own API tokens (account-scoped, not tenant-scoped). DELETE revokes."""

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.all()
    filterset_fields = []
    ordering_fields = ["id", "created_at"]

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user)

    def perform_destroy(self, instance: ApiToken) -> None:
        services.revoke_token(instance)


class MeView(APIView):
    """The authenticated user and their memberships."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        user = (
            get_user_model()
            .objects.prefetch_related("memberships__company")
            .get(pk=request.user.pk)
        )
        return Response(MeSerializer(user).data)


class CompanyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    TenantViewSet,
):
    """Companies the caller belongs to. Anyone may create one and becomes its owner."""

    queryset = Company.objects.all()
    serializer_class = CompanySerializer
    tenant_field = "id"
    ordering_fields = ["id", "name", "created_at"]
    ordering = ["id"]
    filterset_fields = []

    def perform_create(self, serializer) -> None:
        serializer.instance = services.create_company(
            name=serializer.validated_data["name"],
            owner=self.request.user,
            timezone=serializer.validated_data.get("timezone", "UTC"),
        )
        # The new membership is not in the scope loaded before the create.
        self.tenant.reload()


class MemberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Members of one company. Any member may read; only owners manage."""

    queryset = Membership.objects.select_related("user")
    serializer_class = MemberSerializer
    write_role = Role.OWNER
    ordering_fields = ["id", "created_at", "role"]
    ordering = ["id"]
    filterset_fields = ["role"]

    def refine_queryset(self, queryset):
        # Another company's member list is a 404, like a missing company.
        return queryset.filter(company_id=self.url_company("company_pk", Role.VIEWER))

    def get_serializer_class(self):
        return AddMemberSerializer if self.action == "create" else MemberSerializer

    @extend_schema(request=AddMemberSerializer, responses={201: MemberSerializer})
    def create(self, request, *args, **kwargs):
        company_id = self.url_company("company_pk")
        serializer = AddMemberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        company = get_object_or_404(Company, pk=company_id)
        membership = services.add_member(
            company=company,
            user=serializer.validated_data["username"],
            role=serializer.validated_data["role"],
        )
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer) -> None:
        serializer.instance = services.change_member_role(
            serializer.instance, serializer.validated_data.get("role", serializer.instance.role)
        )

    def perform_destroy(self, instance: Membership) -> None:
        services.remove_member(instance)
