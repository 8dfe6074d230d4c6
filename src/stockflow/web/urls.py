from django.urls import path

from stockflow.web.views import (
    account,
    catalog,
    imports,
    products,
    public,
    purchasing,
    reports,
    settings,
    stock,
    webhooks,
)

app_name = "web"

company = "c/<int:company_id>/"

urlpatterns = [
    path("", account.home, name="home"),
    path("login/", account.LoginView.as_view(), name="login"),
    path("logout/", account.LogoutView.as_view(), name="logout"),
    path("password/", account.PasswordChangeView.as_view(), name="password_change"),
    path("switch/", account.switch_company, name="switch_company"),
    # The paths the account emails link to (accounts.emails), without a trailing slash.
    path("invitations/accept", public.AcceptInvitationView.as_view(), name="accept_invitation"),
    path("password-reset", public.PasswordResetRequestView.as_view(), name="password_reset"),
    path(
        "password-reset/confirm",
        public.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("signup", public.SignUpView.as_view(), name="signup"),
    path(company, reports.DashboardView.as_view(), name="dashboard"),
    path(company + "low-stock/", reports.LowStockView.as_view(), name="low_stock"),
    path(company + "products/", products.ProductListView.as_view(), name="products"),
    path(company + "products/new/", products.ProductCreateView.as_view(), name="product_new"),
    path(
        company + "products/<int:product_id>/",
        products.ProductDetailView.as_view(),
        name="product",
    ),
    path(
        company + "products/<int:product_id>/edit/",
        products.ProductEditView.as_view(),
        name="product_edit",
    ),
    path(
        company + "stock/<slug:operation>/",
        stock.StockOperationView.as_view(),
        name="stock_operation",
    ),
    path(company + "purchase-orders/", purchasing.OrderListView.as_view(), name="purchase_orders"),
    path(
        company + "purchase-orders/new/",
        purchasing.OrderFormView.as_view(),
        name="purchase_order_new",
    ),
    path(
        company + "purchase-orders/<int:order_id>/",
        purchasing.OrderPage.as_view(),
        name="purchase_order",
    ),
    path(
        company + "purchase-orders/<int:order_id>/edit/",
        purchasing.OrderFormView.as_view(),
        name="purchase_order_edit",
    ),
    path(
        company + "purchase-orders/<int:order_id>/receive/",
        purchasing.OrderReceiveView.as_view(),
        name="purchase_order_receive",
    ),
    path(
        company + "purchase-orders/<int:order_id>/print/",
        purchasing.OrderDocumentView.as_view(),
        name="purchase_order_print",
    ),
    path(
        company + "purchase-orders/<int:order_id>/<slug:action>/",
        purchasing.OrderActionView.as_view(),
        name="purchase_order_action",
    ),
    path(company + "data/", imports.ImportExportView.as_view(), name="imports"),
    path(
        company + "data/imports/<int:job_id>/",
        imports.ImportJobView.as_view(),
        name="import_job",
    ),
    path(company + "settings/members/", settings.MembersView.as_view(), name="members"),
    path(company + "settings/tokens/", settings.TokensView.as_view(), name="tokens"),
    path(
        company + "settings/notifications/",
        settings.NotificationPreferencesView.as_view(),
        name="notification_preferences",
    ),
    path(company + "settings/webhooks/", webhooks.WebhooksView.as_view(), name="webhooks"),
    path(
        company + "settings/webhooks/<int:webhook_id>/",
        webhooks.WebhookView.as_view(),
        name="webhook",
    ),
    path(
        company + "settings/invitations/",
        settings.InvitationsView.as_view(),
        name="invitations",
    ),
    path(
        company + "<slug:kind>/",
        catalog.ResourceListView.as_view(),
        name="resources",
    ),
    path(
        company + "<slug:kind>/new/",
        catalog.ResourceEditView.as_view(),
        name="resource_new",
    ),
    path(
        company + "<slug:kind>/<int:pk>/edit/",
        catalog.ResourceEditView.as_view(),
        name="resource_edit",
    ),
]
