"""The one API router: every resource of DESIGN section 6 under /api/v1/."""

from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from breaches.api import views as breaches_views
from documents import views as documents_views
from notifications.api import views as notifications_views
from suppliers.api import views as suppliers_views
from tracing import api as tracing_views

router = DefaultRouter()
router.register("suppliers", suppliers_views.SupplierViewSet, basename="supplier")
router.register("contacts", suppliers_views.ContactViewSet, basename="contact")
router.register("ndas", suppliers_views.NDAViewSet, basename="nda")
router.register("assets", suppliers_views.AssetViewSet, basename="asset")
router.register("disclosures", suppliers_views.DisclosureViewSet, basename="disclosure")
router.register("incidents", breaches_views.IncidentViewSet, basename="incident")
router.register("evidence", breaches_views.EvidenceViewSet, basename="evidence")
router.register("penalties", breaches_views.PenaltyViewSet, basename="penalty")
router.register("rectification-plans", breaches_views.PlanViewSet, basename="rectification-plan")
router.register(
    "rectification-actions", breaches_views.ActionViewSet, basename="rectification-action"
)
router.register("reminders", breaches_views.ReminderViewSet, basename="reminder")
router.register("penalty-reviews", breaches_views.PenaltyReviewViewSet, basename="penalty-review")
router.register("users", suppliers_views.UserViewSet, basename="user")
router.register("notifications", notifications_views.NotificationViewSet, basename="notification")
router.register("webhooks", notifications_views.WebhookViewSet, basename="webhook")

urlpatterns = [
    path("auth/token/", suppliers_views.AuthTokenView.as_view(), name="api-token"),
    path(
        "reports/coverage-gaps/",
        breaches_views.CoverageGapsView.as_view(),
        name="report-coverage-gaps",
    ),
    path("reports/summary/", breaches_views.SummaryView.as_view(), name="report-summary"),
    path(
        "incidents/<int:pk>/dossier.pdf",
        documents_views.IncidentDossierView.as_view(),
        name="incident-dossier",
    ),
    path(
        "penalties/<int:pk>/notice.pdf",
        documents_views.PenaltyNoticeView.as_view(),
        name="penalty-notice",
    ),
    # Leak tracing (DESIGN section 10); ids of at most 18 digits (a larger one is a 404).
    re_path(
        r"^assets/(?P<pk>[0-9]{1,18})/files/$",
        tracing_views.AssetFilesView.as_view(),
        name="asset-files",
    ),
    re_path(
        r"^assets/(?P<pk>[0-9]{1,18})/files/(?P<file_id>[0-9]{1,18})/download/$",
        tracing_views.MasterFileDownloadView.as_view(),
        name="asset-file-download",
    ),
    re_path(
        r"^disclosures/(?P<pk>[0-9]{1,18})/copies/$",
        tracing_views.DisclosureCopiesView.as_view(),
        name="disclosure-copies",
    ),
    re_path(
        r"^disclosures/(?P<pk>[0-9]{1,18})/copies/(?P<copy_id>[0-9]{1,18})/download/$",
        tracing_views.CopyDownloadView.as_view(),
        name="disclosure-copy-download",
    ),
    re_path(
        r"^disclosures/(?P<pk>[0-9]{1,18})/downloads/$",
        tracing_views.DisclosureDownloadsView.as_view(),
        name="disclosure-downloads",
    ),
    path("traces/", tracing_views.TraceListView.as_view(), name="trace-list"),
    re_path(
        r"^traces/(?P<pk>[0-9]{1,18})/$",
        tracing_views.TraceDetailView.as_view(),
        name="trace-detail",
    ),
    *router.urls,
]
