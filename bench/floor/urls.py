from django.urls import path

from bench.floor.views import floor_sale
from stockflow.urls import urlpatterns as stockflow_urlpatterns

urlpatterns = [
    path("bench/floor/sale", floor_sale, name="bench-floor-sale"),
    *stockflow_urlpatterns,
]
