"""Products: search, detail (stock, bundle availability, suppliers, sales chart, ledger),
create and edit."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from rest_framework.exceptions import APIException

from stockflow.tenancy.models import Role
from stockflow.web import backend, charts, selectors
from stockflow.web.forms import Form, Input, form_data, warehouse_choices
from stockflow.web.views.base import CompanyPage, page_number

PRODUCT_SORTS = {
    "sku": ("SKU", "sku"),
    "name": ("Name", "name"),
    "price": ("Price, lowest first", "price"),
    "-price": ("Price, highest first", "-price"),
    "-created": ("Newest first", "-created_at"),
}
LEDGER_PAGE_SIZE = 20


class ProductListView(CompanyPage):
    template_name = "web/products.html"
    title = "Products"
    section = "products"

    def get(self, request, company_id: int):
        search = backend.product_search(request.GET, selectors.products(self.company_id))
        sort = request.GET.get("sort", "sku")
        if sort not in PRODUCT_SORTS:
            sort = "sku"
        queryset = search.qs if search.is_valid() else selectors.products(self.company_id).none()
        page = selectors.page_of(
            backend.products_for_display(queryset.order_by(PRODUCT_SORTS[sort][1], "id")),
            page_number(request),
        )
        products = list(page.object_list)
        availability = backend.bundle_availability(
            [p.pk for p in products if p.is_bundle], company_id=self.company_id
        )
        rows = [
            {
                "product": product,
                "stock": sum(entry["available"] for entry in availability[product.pk])
                if product.is_bundle
                else sum(level.quantity for level in product.stock_levels.all()),
            }
            for product in products
        ]
        context = {
            "rows": rows,
            "page": page,
            "errors": search.errors,
            "q": request.GET.get("q", ""),
            "product_type_id": request.GET.get("product_type_id", ""),
            "is_active": request.GET.get("is_active", ""),
            "sort": sort,
            "sorts": [(key, label) for key, (label, _) in PRODUCT_SORTS.items()],
        }
        if request.htmx:
            return self.render(context, template="web/_product_results.html")
        context["product_types"] = selectors.product_types(self.company_id)
        return self.render(context)


class ProductDetailView(CompanyPage):
    template_name = "web/product_detail.html"
    section = "products"

    def get(self, request, company_id: int, product_id: int):
        product = self.scoped_object(selectors.products(self.company_id), pk=product_id)
        stock = backend.product_stock(product)
        series = selectors.units_sold_per_day(
            self.company_id, now=timezone.now(), product_id=product.pk
        )
        ledger = selectors.page_of(
            selectors.ledger(self.company_id, product.pk), page_number(request), LEDGER_PAGE_SIZE
        )
        return self.render(
            {
                "title": f"{product.sku} {product.name}",
                "product": product,
                "stock": stock,
                "suppliers": selectors.product_suppliers(self.company_id, product.pk),
                "components": selectors.bundle_components(self.company_id, product.pk)
                if product.is_bundle
                else [],
                "chart": charts.daily_bars(series),
                "ledger": ledger,
            }
        )


def product_inputs(types, warehouses, *, create: bool) -> list[Input]:
    inputs = [
        Input("name", "Name", required=True, autofocus=True),
        Input("sku", "SKU", required=True, help="Unique across the platform."),
        Input("price", "Price", type="number", step="0.01", min="0", required=True),
        Input(
            "product_type_id",
            "Product type",
            type="select",
            choices=[("", "— none —"), *[(t.id, t.name) for t in types]],
        ),
        Input(
            "low_stock_threshold",
            "Low-stock threshold",
            type="number",
            min="0",
            help="Leave empty to use the product type's threshold.",
        ),
        Input("description", "Description", type="textarea"),
    ]
    if create:
        inputs += [
            Input(
                "warehouse_id",
                "Warehouse of the opening stock",
                type="select",
                required=True,
                choices=warehouse_choices(warehouses),
            ),
            Input("initial_quantity", "Opening stock (units)", type="number", min="0", value="0"),
        ]
    else:
        inputs.append(Input("is_active", "Active", type="checkbox"))
    return inputs


class ProductCreateView(CompanyPage):
    template_name = "web/form_page.html"
    title = "New product"
    section = "products"
    read_role = Role.ADMIN

    def form(self, data=None) -> Form:
        inputs = product_inputs(
            selectors.product_types(self.company_id),
            selectors.active_warehouses(self.company_id),
            create=True,
        )
        return Form(inputs, data=data, idempotent=True)

    def get(self, request, company_id: int):
        return self.render({"form": self.form(), "submit": "Create product"})

    def post(self, request, company_id: int):
        form = self.form(request.POST)
        try:
            product_id = backend.create_product(
                self.caller(),
                request.POST,
                key=form.idempotency_key,
                body=form_data(request.POST),
                path=request.path,
            )
        except APIException as exc:
            form.add_errors(exc)
            return self.render({"form": form, "submit": "Create product"}, status=400)
        messages.success(request, "Product created.")
        return redirect("web:product", company_id=self.company_id, product_id=product_id)


class ProductEditView(CompanyPage):
    template_name = "web/form_page.html"
    section = "products"
    read_role = Role.ADMIN

    def setup_product(self, product_id: int):
        self.product = self.scoped_object(selectors.products(self.company_id), pk=product_id)
        self.title = f"Edit {self.product.sku}"

    def form(self, data=None) -> Form:
        product = self.product
        initial = {
            "name": product.name,
            "sku": product.sku,
            "price": product.price,
            "product_type_id": product.product_type_id or "",
            "low_stock_threshold": ""
            if product.low_stock_threshold is None
            else product.low_stock_threshold,
            "description": product.description,
            "is_active": product.is_active,
        }
        inputs = product_inputs(selectors.product_types(self.company_id), [], create=False)
        return Form(inputs, data=data, initial=initial)

    def get(self, request, company_id: int, product_id: int):
        self.setup_product(product_id)
        return self.render({"form": self.form(), "submit": "Save"})

    def post(self, request, company_id: int, product_id: int):
        self.setup_product(product_id)
        form = self.form(request.POST)
        try:
            backend.update_product(self.caller(), self.product, request.POST)
        except APIException as exc:
            form.add_errors(exc)
            return self.render({"form": form, "submit": "Save"}, status=400)
        messages.success(request, "Product saved.")
        return redirect("web:product", company_id=self.company_id, product_id=self.product.pk)
