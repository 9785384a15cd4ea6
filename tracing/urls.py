"""Browser actions of leak tracing (the panels live on the asset, disclosure, supplier and
incident pages)."""

from django.urls import path

from . import views

app_name = "tracing"

urlpatterns = [
    path("assets/<int:pk>/files/", views.master_add, name="master-add"),
    path(
        "assets/<int:pk>/files/<int:file_id>/download/",
        views.master_download,
        name="master-download",
    ),
    path(
        "disclosures/<int:pk>/copies/<int:copy_id>/download/",
        views.copy_download,
        name="copy-download",
    ),
    path("incidents/<int:pk>/traces/", views.trace_create, name="trace-create"),
]
