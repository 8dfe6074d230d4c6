"""Purchase orders: the list (status, supplier and warehouse filters), a draft created and
edited line by line, placed, received line by line (partial quantities), cancelled or
closed, and its printable document. Each action is the API's service through ``backend``;
the page shows the buttons the order's status and the member's role allow."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from rest_framework.exceptions import APIException

from stockflow.tenancy.models import Role
from stockflow.web import backend, selectors
from stockflow.web.forms import Form, Input, form_data, warehouse_choices
from stockflow.web.views.base import CompanyPage, page_number
from stockflow.web.views.stock import UNKNOWN_SKU

HEADER_FIELDS = ("supplier_id", "warehouse_id", "expected_date", "notes")
# a line's inputs → the API's field they show the errors of
LINE_FIELDS = {"sku": "product_id", "quantity": "quantity", "unit_cost": "unit_cost"}
NEW_ORDER_ROWS = 5
MORE_ROWS = 5
MAX_ROWS = 500


def header_inputs(suppliers, warehouses) -> list[Input]:
    return [
        Input(
            "supplier_id",
            "Supplier",
            type="select",
            required=True,
            autofocus=True,
            choices=[("", "— choose —"), *[(s.id, s.name) for s in suppliers]],
        ),
        Input(
            "warehouse_id",
            "Deliver to",
            type="select",
            required=True,
            choices=warehouse_choices(warehouses),
        ),
        Input(
            "expected_date",
            "Expected on",
            type="date",
            help="Leave empty: placing the order sets today plus the supplier's lead time.",
        ),
        Input("notes", "Notes", type="textarea"),
    ]


def line_inputs(rows: int) -> list[Input]:
    inputs = []
    for row in range(rows):
        number = row + 1
        inputs += [
            Input(f"line-{row}-sku", f"Line {number}: product SKU"),
            Input(f"line-{row}-quantity", f"Line {number}: quantity", type="number", min="1"),
            Input(
                f"line-{row}-unit_cost",
                f"Line {number}: unit cost",
                type="number",
                step="any",
                min="0",
            ),
        ]
    return inputs


def sent_rows(post) -> int:
    """How many line rows a submitted form had."""
    rows = 0
    while f"line-{rows}-sku" in post:
        rows += 1
    return rows


class OrderListView(CompanyPage):
    template_name = "web/purchase_orders.html"
    title = "Purchase orders"
    section = "purchase_orders"

    def get(self, request, company_id: int):
        orders = selectors.purchase_orders(self.company_id)
        search = backend.order_search(request.GET, orders)
        queryset = search.qs if search.is_valid() else orders.none()
        page = selectors.page_of(backend.orders_with_lines(queryset), page_number(request))
        rows = [{"order": order, **backend.order_figures(order)} for order in page.object_list]
        return self.render(
            {
                "rows": rows,
                "page": page,
                "errors": search.errors,
                "statuses": backend.ORDER_STATUSES,
                "suppliers": selectors.suppliers(self.company_id),
                "warehouses": selectors.warehouses(self.company_id),
                "filters": {
                    name: request.GET.get(name, "")
                    for name in ("status", "supplier_id", "warehouse_id")
                },
            }
        )


class OrderFormView(CompanyPage):
    """Create a draft (no ``order_id``, once per form) or edit one: its header and all its
    lines, typed as SKU, quantity and unit cost (empty: the supplier's cost)."""

    template_name = "web/purchase_order_form.html"
    section = "purchase_orders"
    read_role = Role.ADMIN

    def setup_order(self, order_id: int | None) -> None:
        self.order = None
        self.title = "New purchase order"
        if order_id is not None:
            self.order = self.scoped_object(
                backend.orders_with_lines(selectors.purchase_orders(self.company_id)), pk=order_id
            )
            self.title = f"Edit {self.order.number}"

    def initial(self) -> dict:
        order = self.order
        values = {
            "supplier_id": order.supplier_id,
            "warehouse_id": order.warehouse_id,
            "expected_date": order.expected_date.isoformat() if order.expected_date else "",
            "notes": order.notes,
        }
        for row, line in enumerate(order.lines.all()):
            values[f"line-{row}-sku"] = line.product.sku
            values[f"line-{row}-quantity"] = line.quantity_ordered
            values[f"line-{row}-unit_cost"] = "" if line.unit_cost is None else line.unit_cost
        return values

    def form(self, data=None) -> Form:
        if data is not None:
            more = MORE_ROWS if data.get("action") == "more" else 0
            self.rows = min(MAX_ROWS, sent_rows(data) + more)
        elif self.order is not None:
            self.rows = min(MAX_ROWS, len(self.order.lines.all()) + 3)
        else:
            self.rows = NEW_ORDER_ROWS
        inputs = header_inputs(
            selectors.suppliers(self.company_id), selectors.active_warehouses(self.company_id)
        ) + line_inputs(self.rows)
        initial = self.initial() if self.order is not None and data is None else None
        return Form(inputs, data=data, initial=initial, idempotent=self.order is None)

    def page(self, form: Form, status: int = 200):
        return self.render(
            {
                "form": form,
                "header": [form[name] for name in HEADER_FIELDS],
                "rows": [
                    [form[f"line-{row}-{name}"] for name in LINE_FIELDS] for row in range(self.rows)
                ],
                "submit": "Save the draft" if self.order else "Create the draft",
            },
            status=status,
        )

    def order_data(self, form: Form, post) -> dict:
        """What the API's create or change reads, from the form; the lines' SKUs resolved in
        this company (an unknown one is an error on its input) and each line's errors
        aliased to its row's inputs."""
        cells = [
            {name: post.get(f"line-{row}-{name}", "").strip() for name in LINE_FIELDS}
            for row in range(self.rows)
        ]
        ids = selectors.product_ids_by_sku(self.company_id, [cell["sku"] for cell in cells])
        lines = []
        for row, cell in enumerate(cells):
            if not any(cell.values()):
                continue
            if cell["sku"] not in ids:
                form.add_error(f"line-{row}-sku", UNKNOWN_SKU)
                continue
            for name, api_name in LINE_FIELDS.items():
                form.aliases[f"lines.{len(lines)}.{api_name}"] = f"line-{row}-{name}"
            line = {"product_id": ids[cell["sku"]], "quantity": cell["quantity"]}
            if cell["unit_cost"]:
                line["unit_cost"] = cell["unit_cost"]
            lines.append(line)
        data = {
            "expected_date": post.get("expected_date") or None,
            "notes": post.get("notes", ""),
            "lines": lines,
        }
        for name in ("supplier_id", "warehouse_id"):
            if post.get(name):
                data[name] = post[name]
        return data

    def get(self, request, company_id: int, order_id: int | None = None):
        self.setup_order(order_id)
        return self.page(self.form())

    def post(self, request, company_id: int, order_id: int | None = None):
        self.setup_order(order_id)
        form = self.form(request.POST)
        if request.POST.get("action") == "more":
            return self.page(form)
        data = self.order_data(form, request.POST)
        if form.has_errors:
            return self.page(form, status=400)
        try:
            if self.order is None:
                order_id = backend.create_order(
                    self.caller(),
                    data,
                    key=form.idempotency_key,
                    body=form_data(request.POST),
                    path=request.path,
                )
            else:
                backend.update_order(self.caller(), self.order, data)
        except APIException as exc:
            form.add_errors(exc)
            return self.page(form, status=400)
        messages.success(request, "Draft saved." if self.order else "Draft created.")
        return redirect("web:purchase_order", company_id=self.company_id, order_id=order_id)


class OrderPage(CompanyPage):
    """One order: its lines with what remains to receive, the actions its status allows
    and the receipt form."""

    template_name = "web/purchase_order.html"
    section = "purchase_orders"

    def load(self, order_id: int) -> None:
        self.order = self.scoped_object(
            backend.orders_with_lines(selectors.purchase_orders(self.company_id)), pk=order_id
        )
        self.title = f"Purchase order {self.order.number}"

    def receive_form(self, data=None) -> Form:
        inputs = [
            Input(
                f"receive-{line.id}",
                f"Units of {line.product.sku} received now",
                type="number",
                min="0",
            )
            for line in self.order.lines.all()
        ]
        inputs.append(
            Input("note", "Note", help="On the ledger entries; the order's number if empty.")
        )
        return Form(inputs, data=data, idempotent=True)

    def page(self, receive_form: Form | None = None, errors=(), status: int = 200):
        form = receive_form or self.receive_form()
        figures = backend.order_figures(self.order)
        for row in figures["lines"]:
            row["receive"] = form[f"receive-{row['line'].id}"]
        actions = backend.order_actions(self.order)
        return self.render(
            {
                "order": self.order,
                **figures,
                "actions": actions,
                "receiving": "receive" in actions and self.can(Role.STAFF),
                "receive_form": form,
                "action_errors": errors,
            },
            status=status,
        )

    def get(self, request, company_id: int, order_id: int):
        self.load(order_id)
        return self.page()


class OrderReceiveView(OrderPage):
    """Receive units on some lines (each at most what remains), once per form; the form is
    on the order's page."""

    http_method_names = ["post"]
    write_role = Role.STAFF

    def post(self, request, company_id: int, order_id: int):
        self.load(order_id)
        form = self.receive_form(request.POST)
        lines = []
        for line in self.order.lines.all():
            quantity = request.POST.get(f"receive-{line.id}", "").strip()
            if quantity in ("", "0"):
                continue
            form.aliases[f"lines.{len(lines)}.quantity"] = f"receive-{line.id}"
            lines.append({"line_id": line.id, "quantity": quantity})
        if not lines:
            form.add_error(None, "Give the units received on at least one line.")
            return self.page(form, status=400)
        data = {"lines": lines, "note": request.POST.get("note", "")}
        try:
            _, replayed = backend.receive_order(
                self.caller(),
                self.order,
                data,
                key=form.idempotency_key,
                body=form_data(request.POST),
                path=request.path,
            )
        except backend.OverReceipt as exc:
            for over in exc.details["lines"]:
                form.add_error(
                    f"receive-{over['line_id']}",
                    f"{over['requested']} requested, {over['remaining']} left to receive.",
                )
            return self.page(form, status=400)
        except APIException as exc:
            form.add_errors(exc)
            return self.page(form, status=400)
        if replayed:
            messages.info(request, "This form was already submitted: it was recorded once.")
        else:
            messages.success(request, "Receipt recorded.")
        return redirect("web:purchase_order", company_id=self.company_id, order_id=order_id)


# action → (what it does, the message when done)
ORDER_ACTIONS = {
    "order": (
        lambda view: backend.place_order(view.caller(), view.order, view.request.POST),
        "Order placed.",
    ),
    "cancel": (lambda view: backend.cancel_order(view.order), "Order cancelled."),
    "close": (lambda view: backend.close_order(view.order), "Order closed: the rest is given up."),
}


class OrderActionView(OrderPage):
    """Place, cancel or close an order (owners and admins); the buttons are on the order's
    page."""

    http_method_names = ["post"]
    write_role = Role.ADMIN

    def post(self, request, company_id: int, order_id: int, action: str):
        if action not in ORDER_ACTIONS:
            raise Http404("No such action.")
        self.load(order_id)
        run, done = ORDER_ACTIONS[action]
        try:
            run(self)
        except APIException as exc:
            errors = Form([])
            errors.add_errors(exc)
            return self.page(errors=errors.non_field_errors, status=400)
        messages.success(request, done)
        return redirect("web:purchase_order", company_id=self.company_id, order_id=order_id)


class OrderDocumentView(CompanyPage):
    """The printable order, the document the supplier's email shows."""

    def get(self, request, company_id: int, order_id: int):
        orders = backend.orders_with_lines(selectors.purchase_orders(self.company_id))
        order = self.scoped_object(orders.select_related("company"), pk=order_id)
        return HttpResponse(backend.order_document_html(order))
