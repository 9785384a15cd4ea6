"""URL map: browser pages, the admin, the REST API under /api/v1/ and /healthz."""

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from breaches.views import LoginView, dashboard
from suppliers import account_views, people_views
from suppliers.api.tokens import TokenDetailView, TokenListView

from .health import healthz
from .views import LogoutView, PasswordResetConfirmView, PasswordResetView, not_found

handler404 = not_found

# Swagger UI's page carries one small inline <style> (its script is served as a file by
# the split view); the page allows exactly that style by hash, nothing else inline.
SWAGGER_STYLE_HASH = "'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"
api_docs = csp_update({"style-src": [SWAGGER_STYLE_HASH]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

admin.site.site_header = _("Breach tracker administration")
admin.site.site_title = _("Breach tracker admin")

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", api_docs, name="api-docs"),
    # The caller's own API tokens (auth routes; the rest of the API is in config.api).
    path("api/v1/auth/tokens/", TokenListView.as_view(), name="api-tokens"),
    path("api/v1/auth/tokens/<int:pk>/", TokenDetailView.as_view(), name="api-token-detail"),
    path("api/v1/", include("config.api")),
]

# Browser UI: sign-in, the dashboard and the pages of both apps (every page needs login).
urlpatterns += [
    # The language switch (every page's header or footer): Django's set_language, which
    # for a signed-in person also keeps the choice as its language.
    path("i18n/setlang/", people_views.set_language, name="set_language"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    # Forgotten password: Django's views, with the site's templates, a plain-text mail and
    # a limit on how many mails an address may cause (config.views.PasswordResetView).
    path(
        "accounts/password-reset/",
        PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/verify/", account_views.verify, name="mfa-verify"),
    path("accounts/enrol/", account_views.enrol, name="mfa-enrol"),
    path("account/security/", account_views.security, name="account-security"),
    path(
        "account/security/recovery-codes/",
        account_views.recovery_codes,
        name="account-recovery-codes",
    ),
    path(
        "account/security/second-factor/remove/",
        account_views.remove_second_factor,
        name="account-mfa-remove",
    ),
    path(
        "account/security/tokens/<int:pk>/revoke/",
        account_views.revoke_token,
        name="account-token-revoke",
    ),
    path("", dashboard, name="dashboard"),
    path("", include("documents.urls")),
    path("", include("suppliers.urls")),
    path("", include("breaches.urls")),
    path("", include("notifications.urls")),
    path("", include("tracing.urls")),
]
