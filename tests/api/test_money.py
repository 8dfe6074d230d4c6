"""Money inputs: one field (``api.fields.MoneyField``) for a product's price, a sale's unit
price and a supplier's unit cost, with one set of accepted forms; the OpenAPI schema says
exactly which (a number by value, a string by pattern), checked on generated input."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from fractions import Fraction

import pytest
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework import serializers

from stockflow.api.fields import MoneyField
from stockflow.catalog import services as catalog
from stockflow.catalog.models import Product, ProductSupplier
from stockflow.catalog.serializers import (
    ProductCreateSerializer,
    ProductSerializer,
    ProductSupplierSerializer,
)
from stockflow.inventory import catalog_stock
from stockflow.inventory.models import Sale
from stockflow.inventory.serializers import SaleInput
from tests.factories import assert_error

# Every accepted form, with the amount it means (a price: 10 digits, then 2 decimals).
ACCEPTED = [
    ("19.99", Decimal("19.99")),  # JSON number
    ("7", Decimal("7.00")),
    ("0", Decimal("0.00")),
    ("-0", Decimal("0.00")),  # a JSON number's value: zero
    ("1e2", Decimal("100.00")),  # JSON number with an exponent
    ("1.5E+1", Decimal("15.00")),
    ("1990e-2", Decimal("19.90")),
    ("19.990", Decimal("19.99")),  # digits past the scale that are zeros
    ("19.99" + "0" * 50, Decimal("19.99")),
    ("9999999999.99", Decimal("9999999999.99")),  # the largest
    ('"19.99"', Decimal("19.99")),  # string of plain decimal digits
    ('"19.9"', Decimal("19.90")),
    ('"0"', Decimal("0.00")),
    ('"0.5"', Decimal("0.50")),
    ('"19.990"', Decimal("19.99")),
    ('"9999999999.99"', Decimal("9999999999.99")),
]
# Every refused form (each is 400 on the field; unit costs keep 4 decimal places).
REFUSED = [
    "-0.01",  # negative
    "19.99001",  # a digit past the scale (2 or 4 places) that is not zero: never rounded
    "0.00001",
    "1e-5",
    "10000000000",  # too large
    "1e10",
    "1e400",
    "true",
    "[1]",
    '{"amount": 1}',
    '"-0"',  # no sign in a string
    '"-1"',
    '"+1"',
    '"1e2"',  # no exponent in a string
    '"1E2"',
    '"1_000"',  # no underscores
    '" 19.99"',  # no spaces
    '"19.99 "',
    '"19.99\\n"',
    '"1."',  # no bare point
    '".5"',
    '"007"',  # no leading zeros
    '"00.5"',
    '"19,99"',
    '"0x10"',
    '"NaN"',
    '"Infinity"',
    '"\u0661\u0662"',  # digits other than ASCII 0-9
    '""',
    '"19.99001"',
    '"10000000000"',
]


def shop(tenant):
    company = tenant.company
    warehouse = catalog.create_warehouse(company=company, name="Main", code="MAIN")
    product = catalog_stock.create_product(
        company_id=company.pk,
        name="Mug",
        sku="MUG-1",
        price=Decimal("12.50"),
        warehouse=warehouse,
        initial_quantity=100,
    )
    supplier = catalog.create_supplier(company=company, name="Supplier")
    return warehouse, product, supplier


def post_text(client, url: str, text: str):
    return client.post(url, data=text, content_type="application/json")


def money_bodies(warehouse, product, supplier, amount: str) -> dict[str, tuple[str, str]]:
    """For each money input: its URL and a body with the amount written as given."""
    return {
        "price": (
            "/api/products",
            f'{{"name": "Pen", "sku": "PEN-1", "price": {amount}, '
            f'"warehouse_id": {warehouse.pk}, "initial_quantity": 1}}',
        ),
        "unit_price": (
            "/api/sales",
            f'{{"product_id": {product.pk}, "warehouse_id": {warehouse.pk}, "quantity": 1, '
            f'"unit_price": {amount}}}',
        ),
        "unit_cost": (
            "/api/product-suppliers",
            f'{{"product_id": {product.pk}, "supplier_id": {supplier.pk}, "unit_cost": {amount}}}',
        ),
    }


def stored(field: str) -> Decimal:
    if field == "price":
        return Product.objects.exclude(sku="MUG-1").get().price
    if field == "unit_price":
        return Sale.objects.get().unit_price
    return ProductSupplier.objects.get().unit_cost


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["price", "unit_price", "unit_cost"])
@pytest.mark.parametrize(("amount", "expected"), ACCEPTED)
def test_every_money_input_accepts_each_documented_form(tenant_a, field, amount, expected):
    url, text = money_bodies(*shop(tenant_a), amount)[field]

    response = post_text(tenant_a.admin, url, text)

    assert response.status_code == 201, response.content
    assert stored(field) == expected
    returned = response.json()[field]
    assert Decimal(returned) == expected and "." in returned


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["price", "unit_price", "unit_cost"])
@pytest.mark.parametrize("amount", REFUSED)
def test_every_money_input_refuses_each_other_form(tenant_a, field, amount):
    url, text = money_bodies(*shop(tenant_a), amount)[field]
    before = (Product.objects.count(), Sale.objects.count(), ProductSupplier.objects.count())

    response = post_text(tenant_a.admin, url, text)

    error = assert_error(response, 400, "validation_error")
    assert set(error["fields"]) == {field}, error
    after = (Product.objects.count(), Sale.objects.count(), ProductSupplier.objects.count())
    assert after == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ('"12.345"', "no more than 2 decimal places"),
        ("12.345", "no more than 2 decimal places"),
        ('"12345678901"', "no more than 10 digits before the decimal point"),
    ],
)
def test_a_well_formed_amount_out_of_precision_says_why(tenant_a, amount, reason):
    """A string or number of plain digits that is too precise or too large is refused with
    the reason, not with the generic "valid amount" message: a person can fix it."""
    url, text = money_bodies(*shop(tenant_a), amount)["price"]

    error = assert_error(post_text(tenant_a.admin, url, text), 400, "validation_error")

    assert reason in error["fields"]["price"][0]


@pytest.mark.django_db
def test_a_megabyte_of_trailing_zeros_is_read_in_linear_time(tenant_a):
    """Stripping the zeros past the scale one digit at a time would be quadratic: about 10^11
    steps for this body, which would never finish."""
    url, text = money_bodies(*shop(tenant_a), "1." + "0" * 500_000)["unit_price"]
    response = post_text(tenant_a.admin, url, text)
    assert response.status_code == 201, response.content[:300]
    assert Sale.objects.get().unit_price == Decimal("1.00")


# --- the schema says exactly what the server accepts ----------------------------------------


def request_schema(component: str, field: str) -> dict:
    spec = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(spec["components"]["schemas"][component]["properties"][field]))


def branches(schema: dict) -> tuple[dict, dict]:
    number = next(s for s in schema["oneOf"] if s["type"] == "number")
    string = next(s for s in schema["oneOf"] if s["type"] == "string")
    return number, string


def server_accepts(field: MoneyField, data) -> bool:
    try:
        field.run_validation(data)
    except serializers.ValidationError:
        return False
    return True


def schema_string_matches(string_schema: dict, text: str) -> bool:
    # ECMA-262 semantics of an anchored pattern: no match before a trailing newline (which
    # Python's ``$`` would allow with ``search``), hence ``fullmatch``; the pattern uses [0-9],
    # never \d, so ASCII digits mean the same in both.
    assert "\\d" not in string_schema["pattern"]
    return re.fullmatch(string_schema["pattern"], text) is not None


def schema_number_matches(number_schema: dict, value: Decimal) -> bool:
    """JSON Schema's numeric keywords, evaluated exactly on the number's decimal value."""
    exact = Fraction(value)
    return (
        Fraction(str(number_schema["minimum"])) <= exact <= Fraction(str(number_schema["maximum"]))
        and (exact / Fraction(str(number_schema["multipleOf"]))).denominator == 1
    )


# Strings made of the characters that money spellings are made of, and some others.
MONEY_ALPHABET = st.sampled_from("0123456789" * 4 + ".-+eE_ ,\n\u0663x")
MONEY_STRINGS = st.one_of(
    st.text(MONEY_ALPHABET, max_size=16),
    st.from_regex(r"\A[+-]?[0-9]{0,12}(\.[0-9]{0,6})?([eE][+-]?[0-9]{1,3})?\Z"),
    st.text(max_size=8),
)
HYPOTHESIS = hypothesis_settings(
    max_examples=400,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


# Each money input: its request component in the schema, its field, its serializer.
MONEY_INPUTS = [
    ("ProductCreateRequest", "price", ProductCreateSerializer),
    ("PatchedProductRequest", "price", ProductSerializer),
    ("SaleInputRequest", "unit_price", SaleInput),
    ("ProductSupplierRequest", "unit_cost", ProductSupplierSerializer),
]


def schema_and_field(component: str, name: str, serializer_class) -> tuple[dict, MoneyField]:
    field = serializer_class().fields[name]
    assert isinstance(field, MoneyField)
    return branches(request_schema(component, name)), field


@pytest.mark.parametrize(("component", "name", "serializer_class"), MONEY_INPUTS)
def test_a_string_matches_the_schema_iff_the_server_accepts_it(component, name, serializer_class):
    (_, string_schema), field = schema_and_field(component, name, serializer_class)

    @HYPOTHESIS
    @given(text=MONEY_STRINGS)
    @example(text="1e2")
    @example(text="-0")
    @example(text="19.990")
    @example(text="9999999999.99")
    @example(text="10000000000")
    @example(text="1\n")
    def check(text):
        assert schema_string_matches(string_schema, text) == server_accepts(field, text), text

    check()


@pytest.mark.parametrize(("component", "name", "serializer_class"), MONEY_INPUTS)
def test_a_json_number_matches_the_schema_iff_the_server_accepts_it(
    component, name, serializer_class
):
    (number_schema, _), field = schema_and_field(component, name, serializer_class)

    @HYPOTHESIS
    @given(
        value=st.one_of(
            *(
                st.decimals(-(10**12), 10**12, places=places, allow_nan=False)
                for places in range(7)
            ),
            st.integers(min_value=-(10**12), max_value=10**12),
        )
    )
    @example(value=Decimal("9999999999.99"))
    @example(value=Decimal("9999999999.995"))
    @example(value=Decimal("1E+2"))
    @example(value=Decimal("-0.00"))
    @example(value=Decimal("1E+400"))
    @example(value=Decimal("1E-400"))
    @example(value=Decimal("1.5" + "0" * 100))
    def check(value):
        value = Decimal(value)
        assert schema_number_matches(number_schema, value) == server_accepts(field, value), value

    check()


def test_the_schema_bounds_come_from_the_column():
    number, string = branches(request_schema("ProductCreateRequest", "price"))
    assert (number["minimum"], number["maximum"], number["multipleOf"]) == (0, 9999999999.99, 0.01)
    assert string["pattern"] == r"^(?:0|[1-9][0-9]{0,9})(?:\.[0-9]{1,2}0*)?$"
    number, _ = branches(request_schema("ProductSupplierRequest", "unit_cost"))
    assert (number["maximum"], number["multipleOf"]) == (9999999999.9999, 0.0001)
