"""Warehouses, suppliers and product types: list, create, edit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from rest_framework.exceptions import APIException

from stockflow.catalog.models import ProductType, Supplier, Warehouse
from stockflow.tenancy.models import Role
from stockflow.web import backend, selectors
from stockflow.web.forms import Form, Input
from stockflow.web.views.base import CompanyPage, page_number


@dataclass(frozen=True)
class Resource:
    model: type
    title: str
    singular: str
    rows: Callable
    columns: list[tuple[str, str]]
    inputs: Callable[[], list[Input]]


RESOURCES = {
    "warehouses": Resource(
        Warehouse,
        "Warehouses",
        "warehouse",
        selectors.warehouses,
        [("code", "Code"), ("name", "Name"), ("address", "Address"), ("is_active", "Active")],
        lambda: [
            Input("code", "Code", required=True, autofocus=True, help="Letters, digits, . _ - /"),
            Input("name", "Name", required=True),
            Input("address", "Address", type="textarea"),
            Input("is_active", "Active", type="checkbox", value=True),
        ],
    ),
    "suppliers": Resource(
        Supplier,
        "Suppliers",
        "supplier",
        selectors.suppliers,
        [("name", "Name"), ("contact_email", "Email"), ("phone", "Phone")],
        lambda: [
            Input("name", "Name", required=True, autofocus=True),
            Input("contact_email", "Contact email", type="email"),
            Input("phone", "Phone"),
        ],
    ),
    "product-types": Resource(
        ProductType,
        "Product types",
        "product type",
        selectors.product_types,
        [("name", "Name"), ("low_stock_threshold", "Low-stock threshold")],
        lambda: [
            Input("name", "Name", required=True, autofocus=True),
            Input(
                "low_stock_threshold",
                "Low-stock threshold",
                type="number",
                min="0",
                help="Products of this type without their own threshold use this one.",
            ),
        ],
    ),
}


def resource_of(kind: str) -> Resource:
    if kind not in RESOURCES:
        raise Http404("No such list.")
    return RESOURCES[kind]


class ResourceListView(CompanyPage):
    template_name = "web/resource_list.html"

    def get(self, request, company_id: int, kind: str):
        resource = resource_of(kind)
        self.title, self.section = resource.title, kind
        page = selectors.page_of(resource.rows(self.company_id), page_number(request))
        rows = [
            (item, [getattr(item, name) for name, _ in resource.columns])
            for item in page.object_list
        ]
        return self.render({"resource": resource, "kind": kind, "rows": rows, "page": page})


class ResourceEditView(CompanyPage):
    """Create (no ``pk``) or edit one warehouse, supplier or product type."""

    template_name = "web/form_page.html"
    read_role = Role.ADMIN

    def setup_resource(self, kind: str, pk: int | None):
        self.resource = resource_of(kind)
        self.kind = self.section = kind
        self.instance = None
        if pk is not None:
            self.instance = self.scoped_object(self.resource.rows(self.company_id), pk=pk)
        self.title = (
            f"Edit {self.resource.singular}" if self.instance else f"New {self.resource.singular}"
        )

    def form(self, data=None) -> Form:
        initial = None
        if self.instance is not None:
            initial = {
                item.name: ""
                if getattr(self.instance, item.name) is None
                else getattr(self.instance, item.name)
                for item in self.resource.inputs()
            }
        return Form(self.resource.inputs(), data=data, initial=initial)

    def get(self, request, company_id: int, kind: str, pk: int | None = None):
        self.setup_resource(kind, pk)
        return self.render({"form": self.form(), "submit": "Save"})

    def post(self, request, company_id: int, kind: str, pk: int | None = None):
        self.setup_resource(kind, pk)
        form = self.form(request.POST)
        try:
            backend.save_resource(self.caller(), self.resource.model, request.POST, self.instance)
        except APIException as exc:
            form.add_errors(exc)
            return self.render({"form": form, "submit": "Save"}, status=400)
        messages.success(request, f"{self.resource.singular.capitalize()} saved.")
        return redirect("web:resources", company_id=self.company_id, kind=kind)
