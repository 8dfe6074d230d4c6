"""StockFlow's own settings, with a URL configuration that adds the bare floor view."""

from stockflow.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor.urls"
