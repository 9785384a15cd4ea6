"""Browser pages of the suppliers app."""

from django.urls import path

from . import views

app_name = "suppliers"

urlpatterns = [
    path("suppliers/", views.supplier_list, name="list"),
    path("suppliers/new/", views.supplier_create, name="create"),
    path("suppliers/<int:pk>/", views.supplier_detail, name="detail"),
    path("suppliers/<int:pk>/edit/", views.supplier_edit, name="edit"),
    path("suppliers/<int:pk>/ndas/new/", views.nda_create, name="nda-create"),
    path("suppliers/<int:pk>/disclosures/new/", views.disclosure_create, name="disclosure-create"),
    path("assets/new/", views.asset_create, name="asset-create"),
]
