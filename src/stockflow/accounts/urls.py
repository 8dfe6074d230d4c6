from django.urls import path

from stockflow.accounts import views
from stockflow.api.routers import Router

router = Router()
router.register(
    r"companies/(?P<company_pk>\d+)/invitations", views.InvitationViewSet, basename="invitation"
)

urlpatterns = [
    path("invitations/accept", views.AcceptInvitationView.as_view(), name="accept-invitation"),
    path("signup", views.SignUpView.as_view(), name="signup"),
    path("password-reset", views.PasswordResetRequestView.as_view(), name="password-reset"),
    path(
        "password-reset/confirm",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("me/password", views.PasswordChangeView.as_view(), name="password-change"),
    *router.urls,
]
