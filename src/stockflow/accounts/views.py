from __future__ import annotations

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from stockflow.accounts import flows, services
from stockflow.accounts.models import Invitation
from stockflow.accounts.serializers import (
    AcceptedInvitationSerializer,
    AcceptInvitationSerializer,
    CreateInvitationSerializer,
    InvitationSerializer,
    MessageSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
    SignedUpSerializer,
    SignUpSerializer,
    check_password_strength,
)
from stockflow.api.errors import ApiError, ErrorCode
from stockflow.api.throttling import AccountRateThrottle
from stockflow.tenancy.models import Role
from stockflow.tenancy.scoping import TenantViewSet


class SignUpDisabled(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = ErrorCode.SIGNUP_DISABLED
    default_detail = "Sign-up is turned off on this service; ask for an invitation."


RESET_REQUESTED = (
    "If an account uses this email address, a link to reset its password is on its way."
)


class InvitationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Invitations of one company (owners and admins). POST emails a one-time link valid for
    7 days, with a role no higher than the inviter's; DELETE revokes; resend sends a new link."""

    queryset = Invitation.objects.select_related("invited_by")
    serializer_class = InvitationSerializer
    read_role = Role.ADMIN
    write_role = Role.ADMIN
    ordering_fields = ["id", "created_at", "expires_at"]
    ordering = ["id"]
    filterset_fields = ["role"]

    def refine_queryset(self, queryset):
        company_id = int(self.kwargs["company_pk"])
        self.tenant.require(company_id, self.required_role())
        return queryset.filter(company_id=company_id)

    def get_serializer_class(self):
        return CreateInvitationSerializer if self.action == "create" else InvitationSerializer

    @extend_schema(request=CreateInvitationSerializer, responses={201: InvitationSerializer})
    def create(self, request, *args, **kwargs):
        company_id = int(self.kwargs["company_pk"])
        self.tenant.require(company_id, self.required_role())
        invitation = flows.invite(
            request.data,
            company_id=company_id,
            invited_by=request.user,
            inviter_role=self.tenant.role_in(company_id),
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Invitation) -> None:
        services.revoke_invitation(instance)

    @extend_schema(request=None, responses={200: InvitationSerializer})
    @action(detail=True, methods=["post"])
    def resend(self, request, *args, **kwargs):
        invitation = services.resend_invitation(self.get_object())
        return Response(InvitationSerializer(invitation).data)


class AcceptInvitationView(APIView):
    """Accept an invitation with its token: a signed-in caller joins the company; anyone
    else gives a username and password and gets a new account with the invited email."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [AccountRateThrottle]

    @extend_schema(
        request=AcceptInvitationSerializer,
        responses={
            201: AcceptedInvitationSerializer,
            409: OpenApiResponse(description="already_member: the caller is a member already."),
        },
    )
    def post(self, request):
        user = request.user if request.user.is_authenticated else None
        membership = flows.accept_invitation(request.data, user=user)
        return Response(
            AcceptedInvitationSerializer(membership).data, status=status.HTTP_201_CREATED
        )


class SignUpView(APIView):
    """Create an account, a company, and its owner membership (``STOCKFLOW_SIGNUP=0`` turns
    this off). Then ``POST /api/auth/token`` gives a token."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [AccountRateThrottle]

    @extend_schema(
        request=SignUpSerializer,
        responses={
            201: SignedUpSerializer,
            403: OpenApiResponse(description="signup_disabled: sign-up is turned off."),
        },
    )
    def post(self, request):
        if not settings.STOCKFLOW_SIGNUP:
            raise SignUpDisabled()
        membership = flows.sign_up(request.data)
        return Response(SignedUpSerializer(membership).data, status=status.HTTP_201_CREATED)


class PasswordResetRequestView(APIView):
    """Ask for a password reset link by email. The answer is the same whether or not an
    account uses the address."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [AccountRateThrottle]

    @extend_schema(request=PasswordResetRequestSerializer, responses={202: MessageSerializer})
    def post(self, request):
        flows.request_password_reset(request.data)
        return Response({"detail": RESET_REQUESTED}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    """Set a new password with the uid and token of a reset link (valid once)."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [AccountRateThrottle]

    @extend_schema(request=PasswordResetConfirmSerializer, responses={204: None})
    def post(self, request):
        flows.reset_password(request.data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    """Change the caller's password; the current one is required."""

    throttle_classes = [AccountRateThrottle]

    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = request.user
        if not user.check_password(data["current_password"]):
            raise serializers.ValidationError({"current_password": ["Wrong password."]})
        check_password_strength(data["new_password"], field="new_password", user=user)
        services.set_password(user, data["new_password"])
        if isinstance(request.successful_authenticator, SessionAuthentication):
            # The browser's session stays signed in; every other session is signed out.
            update_session_auth_hash(request._request, user)
        return Response(status=status.HTTP_204_NO_CONTENT)
