from stockflow.api.routers import Router
from stockflow.catalog import views

router = Router()
router.register("warehouses", views.WarehouseViewSet, basename="warehouse")
router.register("product-types", views.ProductTypeViewSet, basename="product-type")
router.register("products", views.ProductViewSet, basename="product")
router.register("suppliers", views.SupplierViewSet, basename="supplier")
router.register("product-suppliers", views.ProductSupplierViewSet, basename="product-supplier")
router.register("bundle-components", views.BundleComponentViewSet, basename="bundle-component")

urlpatterns = router.urls
