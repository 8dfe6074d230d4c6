"""With REDIS_URL the web app's cache is the shared one too: what one process summed for a
chart, another reads (tests/ops/test_shared_throttle.py: the rate limits)."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.core.cache.backends.redis import RedisCache
from django.utils import timezone

from stockflow.inventory.models import Sale
from stockflow.inventory.sales import record_sale
from stockflow.web import selectors
from tests.ops.servers import redis_server

pytestmark = pytest.mark.django_db


def test_the_web_chart_sum_is_kept_in_redis_for_every_process(shop, settings):
    with redis_server() as url:
        config = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"shared-cache-test-{secrets.token_hex(4)}",
        }
        settings.CACHES = {"default": config}
        record_sale(product=shop.mug, warehouse=shop.main, quantity=3)
        now = timezone.now()
        Sale.objects.update(created_at=now - timedelta(hours=1))  # settled: summed and kept
        selectors.units_sold_per_day(shop.company.pk, now=now, days=10)
        # Another process: its own connection to the same Redis finds the sum.
        other = RedisCache(url, {"KEY_PREFIX": config["KEY_PREFIX"]})
        key = f"web:units-per-day:{shop.company.pk}:all:{(now - timedelta(days=9)).date()}"
        settled_id, totals = other.get(key)
        assert settled_id == Sale.objects.latest("id").id and sum(totals.values()) == 3
        other.delete(key)
