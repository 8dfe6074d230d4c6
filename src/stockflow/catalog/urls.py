from stockflow.api.routers import Router
from stockflow.catalog import views

# Warehouses, product types and products change stock levels too: inventory/urls.py.
router = Router()
router.register("suppliers", views.SupplierViewSet, basename="supplier")
router.register("product-suppliers", views.ProductSupplierViewSet, basename="product-supplier")
router.register("bundle-components", views.BundleComponentViewSet, basename="bundle-component")

urlpatterns = router.urls
