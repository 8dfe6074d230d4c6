"""Tenant isolation: the one mechanism every tenant view goes through.

Auditing isolation means reading this file:

* ``TenantScope`` knows the caller's memberships (loaded with the API token, in the same
  statement, or by one query per request for a session login) and answers which companies the
  caller may act on with a given role; ``filter`` applies it to a queryset, ``sql_condition``
  to a raw SQL statement.
* ``TenantViewSet`` and ``TenantAPIView`` are the only base classes for tenant views.
  Their ``get_queryset`` filters by the caller's companies before anything else runs, so an
  object of another company is answered 404, exactly like a missing one. The role needed for
  the action (``read_role`` for safe methods, ``write_role`` otherwise, ``action_roles`` to
  override per action) is checked on the object's company: a member without that role gets
  403, a non-member never sees the object.
* ``TenantRelatedField`` resolves ids in request bodies within the caller's companies, so an
  id of another tenant is indistinguishable from an id that does not exist.

* ``TenantPageMixin`` is the same rule for the web pages (``stockflow.web``): the company
  named by the page's URL must be one of the caller's (else 404), the role is checked per
  method (else 403), and objects are read through ``scoped``/``scoped_object``, which filter
  by that company.

``tests/security`` checks that every API view derives from these classes.

Below the views, every statement names the company of each tenant table it reads or writes,
and every join of two tenant tables equates their ``company_id``: services, selectors and
``stockflow.locking`` take the company as an argument, raw SQL writes the predicate, and the
ORM adds it to joins, related objects and saves (``tenancy.keys``: ``TenantForeignKey``,
``TenantModel``). ``tests/statements`` records every statement the suite issues on
PostgreSQL and fails a test whose statements do not (exceptions: ``tests/statements/allowed.py``).
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as PagePermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from rest_framework import exceptions, serializers, viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.views import APIView

from stockflow.tenancy import dbcontext
from stockflow.tenancy.models import ROLE_RANK, Membership, Role


class TenantScope:
    """The caller's companies and role in each, loaded once per request.

    ``roles`` ({company id: role}) may be given when they were read already in this request:
    token authentication loads them with the token (``ApiTokenAuthentication``)."""

    def __init__(self, user, roles: dict[int, str] | None = None) -> None:
        self.user = user
        self._roles = roles
        if roles is not None:
            dbcontext.admit(roles)

    @classmethod
    def of(cls, request: Request) -> TenantScope:
        scope = getattr(request, "_tenant_scope", None)
        if scope is None or scope.user is not request.user:
            roles = getattr(getattr(request, "auth", None), "member_roles", None)
            scope = cls(request.user, roles)
            request._tenant_scope = scope
        return scope

    @property
    def roles(self) -> dict[int, str]:
        if self._roles is None:
            if self.user is None or not self.user.is_authenticated:
                self._roles = {}
            else:
                with dbcontext.platform():
                    self._roles = dict(
                        Membership.objects.filter(user=self.user).values_list("company_id", "role")
                    )
            # The database shows the request these companies' rows, and no other.
            dbcontext.admit(self._roles)
        return self._roles

    def reload(self) -> None:
        """Read the memberships again on next use: the request itself changed them."""
        self._roles = None

    def role_in(self, company_id: int) -> str | None:
        return self.roles.get(company_id)

    def can(self, company_id: int, min_role: str = Role.VIEWER) -> bool:
        role = self.role_in(company_id)
        return role is not None and ROLE_RANK[role] >= ROLE_RANK[min_role]

    def company_ids(self, min_role: str = Role.VIEWER) -> list[int]:
        return sorted(cid for cid in self.roles if self.can(cid, min_role))

    def require(self, company_id: int | None, min_role: str = Role.VIEWER) -> None:
        """404 if the caller is not a member of the company, 403 if the role is too low."""
        if company_id is None or self.role_in(company_id) is None:
            raise exceptions.NotFound()
        if not self.can(company_id, min_role):
            raise exceptions.PermissionDenied(
                f"Your role in this company does not allow this action (needs {min_role})."
            )

    def filter(self, queryset: QuerySet, field: str = "company_id", min_role: str = Role.VIEWER):
        return queryset.filter(**{f"{field}__in": self.company_ids(min_role)})

    def sql_condition(
        self, column: str, min_role: str = Role.VIEWER, *, array: bool = False
    ) -> tuple[str, list]:
        """``filter`` for raw SQL: the condition ``column IN (%s, …)`` over the companies
        where the caller has ``min_role`` (those of ``company_ids``), and its parameters. With
        no such company, a condition that no row meets. ``column`` is SQL text written by
        the caller (never user input). ``array`` (PostgreSQL): ``column = ANY(%s)`` with the
        list as one parameter, one text whatever the number of companies (a statement
        prepared once serves every caller)."""
        company_ids = self.company_ids(min_role)
        if not company_ids:
            return "1 = 0", []
        if array:
            return f"{column} = ANY(%s)", [company_ids]
        return f"{column} IN ({', '.join(['%s'] * len(company_ids))})", company_ids


def company_id_of(obj: Model, field: str) -> int | None:
    value = obj
    for part in field.split("__"):
        value = getattr(value, part, None)
    return value


class TenantMixin:
    """Shared by ``TenantViewSet`` and ``TenantAPIView``: the scope and the role check."""

    #: path from the model to the company id (``company_id`` or ``id`` for Company itself)
    tenant_field = "company_id"
    read_role: str = Role.VIEWER
    write_role: str = Role.ADMIN
    #: per-action override of the role, e.g. {"sell": Role.STAFF}
    action_roles: dict[str, str] = {}

    @property
    def tenant(self) -> TenantScope:
        return TenantScope.of(self.request)

    def required_role(self) -> str:
        action = getattr(self, "action", None)
        if action in self.action_roles:
            return self.action_roles[action]
        return self.read_role if self.request.method in SAFE_METHODS else self.write_role

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        context["tenant"] = self.tenant
        context["required_role"] = self.required_role()
        return context

    def url_company(self, kwarg: str = "company_pk", role: str | None = None) -> int:
        """The company named by the URL (``/companies/{id}/…``), once the caller is checked
        in it: 404 if they are not a member (like a company that does not exist; an id
        beyond any integer column never reaches the database), 403 if their role is below
        ``role`` (default: the role the request needs)."""
        company_id = int(self.kwargs[kwarg])
        self.tenant.require(company_id, role or self.required_role())
        return company_id

    def get_tenant_object(self, queryset: QuerySet, **lookup) -> Model:
        """The object of ``queryset`` matching ``lookup``, for a view that is not a viewset,
        with the rules of ``TenantViewSet``: 404 when it does not exist or belongs to another
        company, 403 when the caller's role in its company is below the one the request
        needs."""
        obj = self.tenant.filter(queryset, self.tenant_field).filter(**lookup).first()
        if obj is None:
            raise exceptions.NotFound()
        self.tenant.require(company_id_of(obj, self.tenant_field), self.required_role())
        return obj


class TenantViewSet(TenantMixin, viewsets.GenericViewSet):
    """Base class of every tenant viewset. Do not override ``get_queryset``: override
    ``refine_queryset`` to add select_related, annotations or filters."""

    lookup_value_regex = r"\d+"

    def refine_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset

    def get_queryset(self) -> QuerySet:
        queryset = self.tenant.filter(self.queryset.all(), self.tenant_field)
        return self.refine_queryset(queryset)

    def check_object_permissions(self, request, obj) -> None:
        super().check_object_permissions(request, obj)
        self.tenant.require(company_id_of(obj, self.tenant_field), self.required_role())

    def perform_create(self, serializer) -> None:
        company_id = serializer.validated_data.get("company", None)
        company_id = getattr(company_id, "pk", company_id)
        self.tenant.require(company_id, self.required_role())
        serializer.save()


class TenantAPIView(TenantMixin, APIView):
    """Base class of every tenant view that is not a viewset (reports, stock operations).
    Such views check the company their URL names with ``url_company``, read one object with
    ``get_tenant_object``, or resolve ids in the body through ``TenantRelatedField``."""

    def get_serializer_context(self) -> dict:
        return {
            "request": self.request,
            "view": self,
            "format": self.format_kwarg,
            "tenant": self.tenant,
            "required_role": self.required_role(),
        }


class TenantRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key in a request body, resolved only within the caller's companies.

    ``not_found="404"`` answers an unknown or foreign id with 404 (used for the object
    that decides the tenant of a create, e.g. ``warehouse_id`` of POST /api/products);
    otherwise it is a 400 on the field. ``role`` defaults to the role the view requires,
    so a create can only reference companies where the caller may write.
    """

    default_error_messages = {
        "does_not_exist": "Not found: {pk_value}.",
        "incorrect_type": "Incorrect type. Expected an integer id, received {data_type}.",
    }

    def __init__(
        self,
        *,
        tenant_field: str = "company_id",
        role: str | None = None,
        not_found: str = "400",
        **kwargs,
    ) -> None:
        self.tenant_field = tenant_field
        self.role = role
        self.not_found = not_found
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        tenant: TenantScope = self.context["tenant"]
        role = self.role or self.context.get("required_role", Role.VIEWER)
        return tenant.filter(super().get_queryset(), self.tenant_field, min_role=role)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            pk = int(data)
        except ValueError:
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            return self.get_queryset().get(pk=pk)
        except ObjectDoesNotExist:
            if self.not_found == "404":
                raise exceptions.NotFound(f"{self.field_name} {pk} not found.") from None
            self.fail("does_not_exist", pk_value=pk)


class TenantPageMixin:
    """Base of every web page of a company (a Django class-based view whose URL carries
    ``company_id``).

    ``dispatch`` sends an anonymous caller to the login page, loads the caller's memberships
    once (with the company names, for the company switcher) into the request's
    ``TenantScope``, and then answers 404 if the caller is not a member of the URL's company,
    exactly like a company that does not exist, and 403 (Django's ``PermissionDenied``) if
    the role is below ``read_role`` for GET/HEAD or ``write_role`` for any other method.
    Views read through ``scoped(queryset)``, which keeps the rows of the page's company, and
    ``scoped_object(queryset, pk=...)``, which is 404 for another company's object."""

    read_role: str = Role.VIEWER
    write_role: str = Role.ADMIN

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        with dbcontext.platform():
            self.memberships = list(
                Membership.objects.filter(user=request.user)
                .select_related("company")
                .order_by("company__name", "company_id")
            )
        self.tenant = TenantScope(request.user, {m.company_id: m.role for m in self.memberships})
        request._tenant_scope = self.tenant
        self.company_id = int(kwargs["company_id"])
        self.role = self.tenant.role_in(self.company_id)
        if self.role is None:
            raise Http404("No such company.")
        needed = self.read_role if request.method in SAFE_METHODS else self.write_role
        if not self.tenant.can(self.company_id, needed):
            raise PagePermissionDenied(
                f"Your role in this company does not allow this action (needs {needed})."
            )
        self.company = next(m.company for m in self.memberships if m.company_id == self.company_id)
        return super().dispatch(request, *args, **kwargs)

    def can(self, min_role: str) -> bool:
        return self.tenant.can(self.company_id, min_role)

    def scoped(self, queryset: QuerySet, field: str = "company_id") -> QuerySet:
        return queryset.filter(**{field: self.company_id})

    def scoped_object(self, queryset: QuerySet, field: str = "company_id", **lookup) -> Model:
        return get_object_or_404(self.scoped(queryset, field), **lookup)
