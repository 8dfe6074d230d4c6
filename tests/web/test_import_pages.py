"""Import and export pages: an upload validated by the API's serializer and checked in the
worker (the job's fragment is polled while it runs, and no longer once it has ended), its
errors paged, a valid import applied; the export links are the API's; roles (viewers import
nothing) and tenant isolation; a fixed number of queries per page."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from stockflow.catalog.models import Product
from stockflow.dataio import services
from stockflow.dataio.models import ImportJob, ImportStatus
from stockflow.dataio.urls import EXPORTS
from stockflow.tenancy.models import Role
from tests.factories.clients import logged_in
from tests.web.test_access import assert_app_error
from tests.web.test_forms import field_errors
from tests.web.test_pages import MAX_QUERIES, assert_inputs_labelled

pytestmark = pytest.mark.django_db

PRODUCTS = "sku,name,price\nNEW-1,Teapot,19.90\nNEW-2,Saucer,-3\n"
FIXED = "sku,name,price\nNEW-1,Teapot,19.90\nNEW-2,Saucer,3.00\n"
COUNTS = "sku,warehouse,counted_quantity\n{sku},MAIN,7\n"
POLLING = 'hx-trigger="every 1s"'


def data_url(shop, suffix: str = "") -> str:
    return f"/c/{shop.company.pk}/data/{suffix}"


def job_url(shop, job) -> str:
    return data_url(shop, f"imports/{job.pk}/")


def upload(client, shop, kind: str, content: str, *, dry_run: bool = True, name="rows.csv"):
    file = SimpleUploadedFile(name, content.encode(), content_type="text/csv")
    body = {"kind": kind, "file": file, "dry_run": "true" if dry_run else "false"}
    return client.post(data_url(shop), body)


def test_dry_run_shows_the_rows_errors_then_a_clean_file_is_applied(shop, pages):
    client = pages[Role.ADMIN]
    response = upload(client, shop, "products", PRODUCTS, name="products.csv")
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job_url(shop, job)
    # While the worker has not run: the status fragment polls itself.
    html = client.get(job_url(shop, job)).content.decode()
    assert 'data-status="validating"' in html and POLLING in html
    services.validate_job(job.company_id, job.pk)
    fragment = client.get(job_url(shop, job), HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<section id="import-status"')
    assert POLLING not in fragment and 'data-status="invalid"' in fragment
    rows = re.findall(
        r"<tr><td class=\"num\">(\d+)</td><td>([^<]*)</td><td><code>([^<]*)</code></td>", fragment
    )
    assert rows == [("3", "price", "invalid_amount")]
    assert "Apply the import" not in fragment
    assert not Product.objects.filter(sku__startswith="NEW-").exists()

    response = upload(client, shop, "products", FIXED, name="products.csv")
    fixed = ImportJob.objects.exclude(pk=job.pk).get()
    services.validate_job(fixed.company_id, fixed.pk)
    html = client.get(job_url(shop, fixed)).content.decode()
    assert 'data-status="valid"' in html and 'data-count="create">2<' in html
    assert "Apply the import" in html
    response = client.post(job_url(shop, fixed))
    assert response.status_code == 302
    fixed.refresh_from_db()
    assert fixed.status == ImportStatus.APPLYING
    assert POLLING in client.get(job_url(shop, fixed)).content.decode()
    services.apply_job(fixed.company_id, fixed.pk)
    html = client.get(job_url(shop, fixed)).content.decode()
    assert 'data-status="applied"' in html and POLLING not in html
    assert set(Product.objects.filter(sku__startswith="NEW-").values_list("name", flat=True)) == {
        "Teapot",
        "Saucer",
    }


def test_the_same_file_again_opens_its_import(shop, pages):
    client = pages[Role.STAFF]
    content = COUNTS.format(sku=shop.mug.sku)
    first = upload(client, shop, "stock_counts", content)
    again = upload(client, shop, "stock_counts", content, name="again.csv")
    assert again["Location"] == first["Location"] and ImportJob.objects.count() == 1
    follow = client.get(again["Location"])
    assert follow.status_code == 200


def test_upload_errors_are_the_api_messages_and_write_nothing(shop, pages):
    client = pages[Role.ADMIN]
    response = client.post(data_url(shop), {"kind": "products", "dry_run": "true"})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "file") == ["No file was submitted."]
    response = client.post(data_url(shop), {"kind": "nonsense", "dry_run": "true"})
    assert field_errors(response.content.decode(), "kind") == ['"nonsense" is not a valid choice.']
    response = upload(client, shop, "products", "")
    assert response.status_code == 400 and "header" in unescape(response.content.decode())
    assert ImportJob.objects.count() == 0


def test_errors_are_paged(shop, pages):
    client = pages[Role.STAFF]
    rows = "".join(f"NOPE-{n},MAIN,1\n" for n in range(30))
    upload(client, shop, "stock_counts", "sku,warehouse,counted_quantity\n" + rows)
    job = ImportJob.objects.get()
    services.validate_job(job.company_id, job.pk)
    first = client.get(job_url(shop, job)).content.decode()
    second = client.get(job_url(shop, job) + "?page=2").content.decode()
    assert first.count("<code>unknown_product</code>") == 25
    assert second.count("<code>unknown_product</code>") == 5
    assert "Page 1 of 2" in first and 'href="?page=2"' in first
    assert ">27</td><td>sku</td>" in second and ">26</td><td>sku</td>" not in second


def test_roles_viewers_import_nothing_and_staff_only_counts_and_sales(shop, pages):
    viewer, staff = pages[Role.VIEWER], pages[Role.STAFF]
    html = viewer.get(data_url(shop)).content.decode()
    assert "Upload" not in html and 'type="file"' not in html and "Recent imports" not in html
    assert_app_error(upload(viewer, shop, "stock_counts", COUNTS.format(sku=shop.mug.sku)), 403)
    assert_app_error(upload(staff, shop, "products", FIXED), 403)
    assert ImportJob.objects.count() == 0
    staff_page = staff.get(data_url(shop)).content.decode()
    kinds = re.findall(r'<option value="([a-z_]+)"', staff_page.split('id="id_kind"')[1])
    assert kinds[:2] == ["stock_counts", "sales"] and "products" not in kinds

    upload(pages[Role.ADMIN], shop, "products", FIXED)
    job = ImportJob.objects.get()
    services.validate_job(job.company_id, job.pk)
    assert_app_error(viewer.get(job_url(shop, job)), 403)
    assert "Apply the import" not in staff.get(job_url(shop, job)).content.decode()
    assert_app_error(staff.post(job_url(shop, job)), 403)
    assert_app_error(viewer.post(job_url(shop, job)), 403)
    job.refresh_from_db()
    assert job.status == ImportStatus.VALID


def test_another_companys_import_is_the_404_page(shop, other_shop, pages):
    upload(pages[Role.OWNER], shop, "products", FIXED)
    job = ImportJob.objects.get()
    services.validate_job(job.company_id, job.pk)
    owner_b = logged_in(other_shop.tenant.users[Role.OWNER])
    # Under its own company's URL (not theirs) and under theirs (not its company).
    assert_app_error(owner_b.get(job_url(shop, job)), 404)
    for method in (owner_b.get, owner_b.post):
        assert_app_error(method(f"/c/{other_shop.company.pk}/data/imports/{job.pk}/"), 404)
    job.refresh_from_db()
    assert job.status == ImportStatus.VALID


def test_every_export_is_linked_and_downloads_for_a_viewer(shop, pages):
    viewer = pages[Role.VIEWER]
    html = viewer.get(data_url(shop)).content.decode()
    names = [name for name, *_ in EXPORTS] + ["low_stock"]
    for name in names:
        assert f'data-export="{name}"' in html
    csv_link = re.search(r'href="([^"]+/exports/products\?format=csv)"', html).group(1)
    response = viewer.get(csv_link)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert {row[0] for row in table[1:]} == {p.sku for p in shop.products}
    ledger = re.search(r'<form method="get" action="([^"]+/exports/ledger)"', html).group(1)
    filtered = viewer.get(
        ledger, {"created_after": "2000-01-01", "warehouse_id": shop.east.pk, "format": "csv"}
    )
    assert filtered.status_code == 200
    assert len(list(csv.reader(io.StringIO(b"".join(filtered.streaming_content).decode())))) == 1


@pytest.mark.parametrize("role", [Role.OWNER, Role.STAFF, Role.VIEWER])
def test_pages_within_the_query_budget(role, shop, pages, django_assert_max_num_queries):
    upload(pages[Role.ADMIN], shop, "products", PRODUCTS)
    job = ImportJob.objects.get()
    services.validate_job(job.company_id, job.pk)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = pages[role].get(data_url(shop))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>" in html and "<main" in html and "<h1>Import and export</h1>" in html
    assert_inputs_labelled("import and export", html)
    if role == Role.VIEWER:
        return
    for url, headers in ((job_url(shop, job), {}), (job_url(shop, job), {"HTTP_HX_REQUEST": "1"})):
        with django_assert_max_num_queries(MAX_QUERIES):
            assert pages[role].get(url, **headers).status_code == 200
