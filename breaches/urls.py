"""Browser pages of the breaches app. /incidents/<id>/ and /plans/<id>/ are linked from
the reminder emails: keep them stable."""

from django.urls import path

from . import views

app_name = "breaches"

urlpatterns = [
    path("incidents/", views.incident_list, name="incident-list"),
    path("incidents/new/", views.incident_create, name="incident-create"),
    path("incidents/liability-preview/", views.liability_preview, name="liability-preview"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident-detail"),
    path("incidents/<int:pk>/edit/", views.incident_edit, name="incident-edit"),
    path("incidents/<int:pk>/transition/", views.incident_transition, name="incident-transition"),
    path("incidents/<int:pk>/evidence/", views.incident_add_evidence, name="incident-evidence"),
    path(
        "incidents/<int:pk>/evidence/<int:evidence_pk>/download/",
        views.evidence_download,
        name="evidence-download",
    ),
    path("incidents/<int:pk>/liability/", views.incident_set_liability, name="incident-liability"),
    path("incidents/<int:pk>/notes/", views.incident_add_note, name="incident-note"),
    path(
        "incidents/<int:pk>/fingerprint/",
        views.incident_report_fingerprint,
        name="incident-fingerprint",
    ),
    path("penalties/", views.penalty_list, name="penalty-list"),
    path("penalties/<int:pk>/", views.penalty_detail, name="penalty-detail"),
    path("penalties/<int:pk>/transition/", views.penalty_transition, name="penalty-transition"),
    path("penalties/<int:pk>/edit/", views.penalty_edit, name="penalty-edit"),
    path(
        "penalties/<int:pk>/reviews/<int:review_pk>/",
        views.penalty_review_decide,
        name="penalty-review-decide",
    ),
    path("penalties/<int:pk>/payments/", views.penalty_record_payment, name="penalty-payment"),
    path("penalties/<int:pk>/acknowledge/", views.penalty_acknowledge, name="penalty-acknowledge"),
    path("plans/", views.plan_list, name="plan-list"),
    path("plans/<int:pk>/", views.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/summary/", views.plan_update_summary, name="plan-summary"),
    path("plans/<int:pk>/actions/", views.plan_add_action, name="plan-add-action"),
    path(
        "plans/<int:pk>/actions/<int:action_pk>/done/",
        views.action_complete,
        name="action-complete",
    ),
    path("plans/<int:pk>/actions/<int:action_pk>/edit/", views.action_edit, name="action-edit"),
    path(
        "plans/<int:pk>/actions/<int:action_pk>/delete/",
        views.action_delete,
        name="action-delete",
    ),
    path(
        "plans/<int:pk>/actions/<int:action_pk>/evidence/",
        views.action_add_evidence,
        name="action-evidence",
    ),
    path("plans/<int:pk>/transition/", views.plan_transition, name="plan-transition"),
    path("reminders/", views.reminder_list, name="reminder-list"),
    path("deadlines/", views.deadline_list, name="deadline-list"),
]
