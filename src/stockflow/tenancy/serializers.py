from __future__ import annotations

from datetime import timedelta
from zoneinfo import available_timezones

from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework import serializers

from stockflow.tenancy.models import ApiToken, Company, Membership, Role

User = get_user_model()


class ObtainTokenSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    # Used exactly as typed: a password may begin or end with a space.
    password = serializers.CharField(
        max_length=256, trim_whitespace=False, style={"input_type": "password"}
    )
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    expires_in_days = serializers.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        allow_null=True,
        help_text="Lifetime of the token in days; no expiry when omitted.",
    )

    def expires_at(self):
        days = self.validated_data.get("expires_in_days")
        return timezone.now() + timedelta(days=days) if days else None


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "revoked_at"]
        read_only_fields = fields


class IssuedTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class MembershipOfUserSerializer(serializers.ModelSerializer):
    company_id = serializers.IntegerField(read_only=True)
    company_name = serializers.CharField(source="company.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["company_id", "company_name", "role"]


class MeSerializer(serializers.ModelSerializer):
    memberships = MembershipOfUserSerializer(many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "memberships"]
        read_only_fields = fields


class CompanySerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Company
        fields = ["id", "name", "timezone", "created_at", "role"]
        read_only_fields = ["id", "created_at", "role"]
        extra_kwargs = {"timezone": {"help_text": 'IANA time zone, e.g. "Europe/Paris".'}}

    def get_role(self, company: Company) -> str | None:
        return self.context["tenant"].role_in(company.id)

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("This field may not be blank.")
        return value

    def validate_timezone(self, value: str) -> str:
        if value not in available_timezones():
            raise serializers.ValidationError('Not a known time zone (e.g. "Europe/Paris").')
        return value


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    user_id = serializers.IntegerField(read_only=True)
    company_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "company_id", "user_id", "username", "email", "role", "created_at"]
        read_only_fields = ["id", "company_id", "user_id", "username", "email", "created_at"]


class AddMemberSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)

    def validate_username(self, value: str):
        user = User.objects.filter(username=value, is_active=True).first()
        if user is None:
            raise serializers.ValidationError("No active user with this username.")
        return user
