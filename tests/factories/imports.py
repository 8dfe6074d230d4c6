"""Imports as a test drives them: a company with MAIN and BACK warehouses, products stocked
in MAIN, and uploads validated and applied as the worker would."""

from __future__ import annotations

from io import StringIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from stockflow.dataio import services
from tests.factories.catalog import make_product, make_warehouse
from tests.factories.shops import Shop
from tests.factories.tenants import make_tenant


def import_shop() -> Shop:
    """A new company with the warehouses MAIN and BACK (``shop.main``, ``shop.back``)."""
    shop = Shop(make_tenant())
    shop.main = make_warehouse(shop.company, "MAIN", name="Main")
    shop.back = make_warehouse(shop.company, "BACK", name="Back")
    return shop


def stocked(shop: Shop, sku: str, quantity: int = 0, **fields):
    """A product of ``shop`` named after its SKU, with ``quantity`` units in MAIN."""
    fields.setdefault("name", sku.title())
    fields.setdefault("price", "5.00")
    return make_product(shop.company, sku, warehouse=shop.main, quantity=quantity, **fields)


def upload(client, company_id: int, kind: str, content, *, dry_run=True, name="rows.csv"):
    if isinstance(content, str):
        content = content.encode()
    file = SimpleUploadedFile(name, content, content_type="text/csv")
    return client.post(
        "/api/imports",
        {"company_id": company_id, "kind": kind, "file": file, "dry_run": dry_run},
        format="multipart",
    )


def validated(client, company_id: int, kind: str, content, **kwargs) -> dict:
    """Upload, run the validation as the worker would, and read the job back."""
    response = upload(client, company_id, kind, content, **kwargs)
    assert response.status_code == 201, response.content
    services.validate_job(company_id, response.json()["id"])
    job = client.get(f"/api/imports/{response.json()['id']}")
    assert job.status_code == 200, job.content
    return job.json()


def applied(client, company_id: int, kind: str, content) -> dict:
    job = validated(client, company_id, kind, content)
    assert job["status"] == "valid", job["errors"]
    response = client.post(f"/api/imports/{job['id']}/apply")
    assert response.status_code == 202, response.content
    services.apply_job(company_id, job["id"])
    return client.get(f"/api/imports/{job['id']}").json()


def codes(job: dict) -> list[tuple[int, str, str]]:
    return [(e["row"], e["column"], e["code"]) for e in job["errors"]]


def verify_stock() -> None:
    call_command("verify_stock", stdout=StringIO())
