from django.urls import path

from stockflow.api.routers import Router
from stockflow.tenancy import views

router = Router()
router.register("auth/tokens", views.MyTokenViewSet, basename="token")
router.register("companies", views.CompanyViewSet, basename="company")
router.register(r"companies/(?P<company_pk>\d+)/members", views.MemberViewSet, basename="member")

urlpatterns = [
    path("auth/token", views.ObtainTokenView.as_view(), name="obtain-token"),
    path("me", views.MeView.as_view(), name="me"),
    *router.urls,
]
