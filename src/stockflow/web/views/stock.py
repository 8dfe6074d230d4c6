"""Stock operations: receive, adjust, transfer, record a sale. Each form carries an
idempotency key made when the form is shown, so a double click or a resubmit records once."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from rest_framework.exceptions import APIException

from stockflow.inventory.models import AdjustmentReason
from stockflow.tenancy.models import Role
from stockflow.web import backend, selectors
from stockflow.web.forms import Form, Input, form_data, warehouse_choices
from stockflow.web.views.base import CompanyPage

UNKNOWN_SKU = "No product with this SKU in this company."

TITLES = {
    "receive": ("Receive stock", "Record receipt", "Receipt recorded."),
    "adjust": ("Adjust stock", "Record adjustment", "Adjustment recorded."),
    "transfer": ("Transfer stock", "Record transfer", "Transfer recorded."),
    "sell": ("Record a sale", "Record sale", "Sale recorded."),
}


def operation_inputs(operation: str, warehouses) -> list[Input]:
    choices = warehouse_choices(warehouses)
    product = Input("product_sku", "Product SKU", required=True, autofocus=True)
    note = Input("note", "Note", type="textarea")
    quantity = Input("quantity", "Quantity (units)", type="number", min="1", required=True)
    warehouse = Input("warehouse_id", "Warehouse", type="select", required=True, choices=choices)
    if operation == "receive":
        return [
            product,
            warehouse,
            quantity,
            Input("reference", "Reference", help="Delivery note or order number."),
            note,
        ]
    if operation == "adjust":
        return [
            product,
            warehouse,
            Input(
                "reason",
                "Reason",
                type="select",
                required=True,
                choices=list(AdjustmentReason.choices),
            ),
            Input("change", "Change (units, + or −)", type="number", help="Or give a count:"),
            Input("counted_quantity", "Counted quantity", type="number", min="0"),
            note,
        ]
    if operation == "transfer":
        return [
            product,
            Input(
                "from_warehouse_id", "From warehouse", type="select", required=True, choices=choices
            ),
            Input("to_warehouse_id", "To warehouse", type="select", required=True, choices=choices),
            quantity,
            note,
        ]
    return [
        product,
        warehouse,
        quantity,
        Input(
            "unit_price",
            "Unit price",
            type="number",
            step="0.01",
            min="0",
            help="Leave empty for the product's price.",
        ),
    ]


class StockOperationView(CompanyPage):
    template_name = "web/form_page.html"
    section = "stock"
    read_role = Role.STAFF
    write_role = Role.STAFF

    def setup_operation(self, operation: str) -> None:
        if operation not in TITLES:
            raise Http404("No such stock operation.")
        self.operation = operation
        self.title, self.submit, self.done = TITLES[operation]

    def form(self, data=None, initial=None) -> Form:
        inputs = operation_inputs(self.operation, selectors.active_warehouses(self.company_id))
        return Form(
            inputs,
            data=data,
            initial=initial,
            aliases={"product_id": "product_sku"},
            idempotent=True,
        )

    def get(self, request, company_id: int, operation: str):
        self.setup_operation(operation)
        initial = {"warehouse_id": self.request.GET.get("warehouse", "")}
        product_id = self.int_param("product")
        if product_id is not None:
            product = self.scoped_object(selectors.products(self.company_id), pk=product_id)
            initial["product_sku"] = product.sku
        return self.render({"form": self.form(initial=initial), "submit": self.submit})

    def post(self, request, company_id: int, operation: str):
        self.setup_operation(operation)
        form = self.form(request.POST)
        product_id = selectors.product_id_by_sku(
            self.company_id, request.POST.get("product_sku", "")
        )
        if product_id is None:
            form.add_error("product_sku", UNKNOWN_SKU)
            return self.render({"form": form, "submit": self.submit}, status=400)
        data = request.POST.copy()
        data["product_id"] = str(product_id)
        for blank in ("change", "counted_quantity", "unit_price"):
            if data.get(blank, None) == "":
                del data[blank]
        try:
            result, replayed = backend.run_stock_operation(
                self.caller(),
                operation,
                data,
                key=form.idempotency_key,
                body=form_data(request.POST),
                path=request.path,
            )
        except APIException as exc:
            form.add_errors(exc)
            return self.render({"form": form, "submit": self.submit}, status=400)
        if replayed:
            messages.info(request, "This form was already submitted: it was recorded once.")
        else:
            messages.success(request, self.done)
        return redirect("web:product", company_id=self.company_id, product_id=result["product_id"])
