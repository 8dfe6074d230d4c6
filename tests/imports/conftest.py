from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from stockflow.catalog import services as catalog
from stockflow.catalog.models import Warehouse
from stockflow.dataio import services
from stockflow.dataio.models import ImportJob
from stockflow.inventory import catalog_stock
from tests.factories import Tenant, make_tenant


@dataclass
class Shop:
    tenant: Tenant
    main: Warehouse
    back: Warehouse

    @property
    def company(self):
        return self.tenant.company

    def product(self, sku: str, quantity: int = 0, **fields):
        fields.setdefault("name", sku.title())
        fields.setdefault("price", Decimal("5.00"))
        return catalog_stock.create_product(
            company_id=self.company.pk,
            sku=sku,
            warehouse=self.main,
            initial_quantity=quantity,
            **fields,
        )


def make_shop() -> Shop:
    tenant = make_tenant()
    main = catalog.create_warehouse(company=tenant.company, name="Main", code="MAIN")
    back = catalog.create_warehouse(company=tenant.company, name="Back", code="BACK")
    return Shop(tenant, main, back)


@pytest.fixture
def shop(db) -> Shop:
    return make_shop()


@pytest.fixture
def other_shop(db) -> Shop:
    return make_shop()


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
    services.validate_job(response.json()["id"])
    job = client.get(f"/api/imports/{response.json()['id']}")
    assert job.status_code == 200, job.content
    return job.json()


def applied(client, company_id: int, kind: str, content) -> dict:
    job = validated(client, company_id, kind, content)
    assert job["status"] == "valid", job["errors"]
    response = client.post(f"/api/imports/{job['id']}/apply")
    assert response.status_code == 202, response.content
    services.apply_job(job["id"])
    return client.get(f"/api/imports/{job['id']}").json()


def codes(job: dict) -> list[tuple[int, str, str]]:
    return [(e["row"], e["column"], e["code"]) for e in job["errors"]]


def verify_stock() -> None:
    call_command("verify_stock", stdout=StringIO())


__all__ = ["ImportJob"]
