"""The import endpoints: roles, tenant isolation, errors paged and as CSV, progress."""

from __future__ import annotations

import csv
import io

import pytest

from stockflow.dataio import services
from stockflow.dataio.models import ImportJob
from tests.factories import assert_error
from tests.factories.imports import upload, validated

pytestmark = pytest.mark.django_db

COUNTS = "sku,warehouse,counted_quantity\nNOPE,MAIN,1\n"
PRODUCTS = "sku,name,price\nA-1,A,1.00\n"


def test_roles(shop):
    t, pk = shop.tenant, shop.company.pk
    assert_error(upload(t.viewer, pk, "stock_counts", COUNTS), 403, "permission_denied")
    assert_error(upload(t.staff, pk, "products", PRODUCTS), 403, "permission_denied")
    assert upload(t.staff, pk, "stock_counts", COUNTS).status_code == 201
    assert upload(t.staff, pk, "sales", "sku,warehouse,quantity,sold_at\n").status_code == 201
    job = upload(t.admin, pk, "products", PRODUCTS).json()
    assert_error(t.viewer.get(f"/api/imports/{job['id']}"), 403, "permission_denied")
    services.validate_job(pk, job["id"])
    assert_error(t.staff.post(f"/api/imports/{job['id']}/apply"), 403, "permission_denied")
    assert t.admin.post(f"/api/imports/{job['id']}/apply").status_code == 202


def test_another_company_job_is_404(shop, other_shop):
    job = upload(shop.tenant.admin, shop.company.pk, "products", PRODUCTS).json()
    other = other_shop.tenant.owner
    for path in (f"/api/imports/{job['id']}", f"/api/imports/{job['id']}/errors"):
        assert_error(other.get(path), 404, "not_found")
    assert_error(other.post(f"/api/imports/{job['id']}/apply"), 404, "not_found")
    assert_error(upload(other, shop.company.pk, "products", PRODUCTS), 404, "not_found")


def test_errors_paged_and_as_csv(shop):
    rows = "".join(f"S-{n},MAIN,-1\n" for n in range(30))
    job = validated(
        shop.tenant.staff,
        shop.company.pk,
        "stock_counts",
        "sku,warehouse,counted_quantity\n" + rows,
    )
    assert job["counts"]["error"] == 60 and len(job["errors"]) == 20
    page = shop.tenant.staff.get(f"/api/imports/{job['id']}/errors", {"page_size": 50}).json()
    assert page["count"] == 60 and len(page["results"]) == 50
    response = shop.tenant.staff.get(f"/api/imports/{job['id']}/errors", {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["row", "column", "code", "message"]
    assert table[1][:3] == ["2", "sku", "unknown_product"]
    assert len(table) == 61


def test_progress_is_saved_every_five_percent(shop, monkeypatch):
    saved = []
    original = services._Progress.advance

    def advance(self, rows_done):
        original(self, rows_done)
        job = ImportJob.objects.get(company_id=self.job.company_id, pk=self.job.pk)
        saved.append(job.rows_done)

    monkeypatch.setattr(services, "CHUNK_ROWS", 10)
    monkeypatch.setattr(services._Progress, "advance", advance)
    rows = "".join(f"S-{n},MAIN,1\n" for n in range(200))
    validated(
        shop.tenant.staff,
        shop.company.pk,
        "stock_counts",
        "sku,warehouse,counted_quantity\n" + rows,
    )
    assert saved == list(range(10, 201, 10))


def test_dry_run_false_applies_a_valid_file(shop):
    job = validated(shop.tenant.admin, shop.company.pk, "products", PRODUCTS, dry_run=False)
    assert job["status"] == "applied" and job["dry_run"] is False


def test_the_task_runs_the_validation(shop):
    from stockflow.dataio.tasks import validate_import

    job = upload(shop.tenant.admin, shop.company.pk, "products", PRODUCTS).json()
    assert validate_import.call(shop.company.pk, job["id"]) == "valid"
    assert validate_import.call(shop.company.pk, job["id"]) is None  # already done: nothing happens
