"""Browser pages of the suppliers app."""

from django.urls import path

from . import people_views, register_views, views

app_name = "suppliers"

urlpatterns = [
    path("suppliers/", views.supplier_list, name="list"),
    path("suppliers/new/", views.supplier_create, name="create"),
    path("suppliers/<int:pk>/", views.supplier_detail, name="detail"),
    path("suppliers/<int:pk>/edit/", views.supplier_edit, name="edit"),
    path("suppliers/<int:pk>/ndas/new/", views.nda_create, name="nda-create"),
    path("suppliers/<int:pk>/disclosures/new/", views.disclosure_create, name="disclosure-create"),
    path("assets/new/", views.asset_create, name="asset-create"),
    # Registers
    path("contacts/", register_views.contact_list, name="contact-list"),
    path("contacts/new/", register_views.contact_create, name="contact-create"),
    path("contacts/<int:pk>/edit/", register_views.contact_edit, name="contact-edit"),
    path("contacts/<int:pk>/delete/", register_views.contact_delete, name="contact-delete"),
    path("ndas/", register_views.nda_list, name="nda-list"),
    path("ndas/new/", register_views.nda_new, name="nda-new"),
    path("ndas/<int:pk>/", register_views.nda_detail, name="nda-detail"),
    path("ndas/<int:pk>/edit/", register_views.nda_edit, name="nda-edit"),
    path("ndas/<int:pk>/terminate/", register_views.nda_terminate, name="nda-terminate"),
    path("ndas/<int:pk>/document/", register_views.nda_document, name="nda-document"),
    path("assets/", register_views.asset_list, name="asset-list"),
    path("assets/<int:pk>/", register_views.asset_detail, name="asset-detail"),
    path("assets/<int:pk>/edit/", register_views.asset_edit, name="asset-edit"),
    path("disclosures/", register_views.disclosure_list, name="disclosure-list"),
    path("disclosures/<int:pk>/", register_views.disclosure_detail, name="disclosure-detail"),
    path("disclosures/<int:pk>/edit/", register_views.disclosure_edit, name="disclosure-edit"),
    path(
        "disclosures/<int:pk>/revoke/", register_views.disclosure_revoke, name="disclosure-revoke"
    ),
    # Accounts of supplier users (and, for admins, staff)
    path("users/", people_views.user_list, name="user-list"),
    path("users/new/", people_views.user_invite, name="user-invite"),
    path("users/<int:pk>/", people_views.user_detail, name="user-detail"),
    path("users/<int:pk>/reset/", people_views.user_reset, name="user-reset"),
    path("users/<int:pk>/active/", people_views.user_set_active, name="user-active"),
    path("account/settings/", people_views.my_settings, name="my-settings"),
]
