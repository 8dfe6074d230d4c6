"""Ledger entries are inserted, never updated or deleted: model, queryset and admin."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from stockflow.inventory.models import AppendOnlyError, LedgerEntry, Sale, StockLevel, StockMovement


def test_model_refuses_update_and_delete(shop):
    entry = LedgerEntry.objects.filter(product=shop.mug).get()
    written = entry.note
    entry.note = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).update(change=1)
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.bulk_update([entry], ["note"])
    stored = LedgerEntry.objects.get(pk=entry.pk)
    assert (stored.note, stored.change) == (written, 100)


@pytest.mark.parametrize("model", [LedgerEntry, StockLevel, Sale, StockMovement])
def test_admin_is_read_only(admin_user, model):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    model_admin = admin.site._registry[model]
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_admin_ledger_pages_render(admin_client, shop):
    entry = LedgerEntry.objects.first()
    assert admin_client.get("/admin/inventory/ledgerentry/").status_code == 200
    assert admin_client.get(f"/admin/inventory/ledgerentry/{entry.pk}/change/").status_code == 200
    response = admin_client.post(
        f"/admin/inventory/ledgerentry/{entry.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()
