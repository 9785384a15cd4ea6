"""The one API router: every resource of DESIGN section 6 under /api/v1/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from breaches.api import views as breaches_views
from documents import views as documents_views
from notifications.api import views as notifications_views
from suppliers.api import views as suppliers_views

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
    *router.urls,
]
