"""Django admin for the suppliers app. Every write goes through the service functions
(tier and cycle rules, normalisation, permission checks), never a bare `save()`; a
refusal from a service comes back as an error message and changes nothing."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from config.exceptions import Conflict

from . import services
from .choices import Role
from .models import NDA, ApiToken, ConfidentialAsset, Contact, Disclosure, Supplier, User

SERVICE_ERRORS = (ValidationError, Conflict, PermissionDenied)


def error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(
                f"{'' if field == '__all__' else field + ': '}{' '.join(msgs)}"
                for field, msgs in exc.message_dict.items()
            )
        return " ".join(exc.messages)
    if isinstance(exc, Conflict):
        return exc.message
    return str(exc) or gettext("You may not do this.")


def refused(reason: str) -> str:
    return gettext("Refused: %(reason)s") % {"reason": reason}


def copy_saved(target, saved) -> None:
    """Make the admin's unsaved instance the row the service wrote (pk, derived fields),
    so that inlines, the log entry and the redirect use it."""
    for field in saved._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False
    target._state.db = saved._state.db


def changed_fields(form, allowed: set[str]) -> dict:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in allowed}


class ServiceAdminMixin:
    """Admin pages whose writes call services. A service refusal raised while saving
    rolls the whole form back (the admin's change view is atomic) and is shown as an
    error message instead of a server error."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except SERVICE_ERRORS as exc:
            if request.method != "POST":
                raise
            self.message_user(request, refused(error_text(exc)), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        # delete_model calls the service's delete (history checks); a refusal rolls back.
        try:
            return super().delete_view(request, object_id, extra_context)
        except SERVICE_ERRORS as exc:
            if request.method != "POST":
                raise
            self.message_user(request, refused(error_text(exc)), messages.ERROR)
            return HttpResponseRedirect("../change/")

    def get_actions(self, request):
        # Bulk delete would skip the services' checks (history, plan state).
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def run_service_action(self, request, queryset, call, done: str) -> None:
        """Apply `call(obj)` to each selected object, each in its own transaction (the
        service's), and report what succeeded and what was refused and why."""
        succeeded, refusals = 0, []
        for obj in queryset:
            try:
                call(obj)
            except SERVICE_ERRORS as exc:
                refusals.append(f"{obj}: {error_text(exc)}")
            else:
                succeeded += 1
        if succeeded:
            self.message_user(
                request,
                gettext("%(done)s: %(count)s.") % {"done": done, "count": succeeded},
                messages.SUCCESS,
            )
        for line in refusals:
            self.message_user(request, refused(line), messages.ERROR)


class HistoryAdmin(ServiceAdminMixin, SimpleHistoryAdmin):
    """Change history is for reading: reverting to an old version would bypass the
    services (and could bring back an old status), so it is disabled."""

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied(_("Reverting to an old version is disabled."))
        return super().history_form_view(request, object_id, version_id, extra_context)


# --- Suppliers -------------------------------------------------------------------------


class SupplierAdminForm(forms.ModelForm):
    class Meta:
        model = Supplier
        fields = ["name", "local_name", "country", "parent"]

    def clean_country(self):
        # Normalised before the ISO 3166 check, as supplier_create does.
        return (self.cleaned_data.get("country") or "").strip().upper()

    def clean(self):
        cleaned = super().clean()
        if "parent" in cleaned:
            # The same rule supplier_create/update apply (and the database trigger
            # enforces): no loop in the parent chain, no chain deeper than MAX_TIER.
            try:
                services.supplier_parent_tier(self.instance, cleaned.get("parent"))
            except ValidationError as exc:
                self.add_error("parent", exc.message_dict.get("parent", exc.messages))
        return cleaned


class NDAAdminForm(forms.ModelForm):
    class Meta:
        model = NDA
        fields = sorted(services.NDA_FIELDS)

    def clean_penalty_currency(self):
        # Normalised before the ISO 4217 check, as nda_create does.
        return (self.cleaned_data.get("penalty_currency") or "").strip().upper()


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["name", "email", "role", "receives_reminders", "language", "time_zone"]


class NDAInline(admin.TabularInline):
    model = NDA
    form = NDAAdminForm
    extra = 0
    fields = [
        "reference",
        "signed_on",
        "effective_from",
        "expires_on",
        "covers_subvendors",
        "flow_down_required",
        "penalty_amount",
        "penalty_currency",
        "rectification_days",
    ]
    show_change_link = True


class SubvendorInline(admin.TabularInline):
    model = Supplier
    fk_name = "parent"
    verbose_name = _("sub-vendor")
    verbose_name_plural = _("sub-vendors")
    fields = ["name", "country", "tier", "status"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Supplier)
class SupplierAdmin(HistoryAdmin):
    form = SupplierAdminForm
    list_display = ["name", "local_name", "country", "parent", "tier", "status", "created_at"]
    list_filter = ["status", "tier", "country"]
    search_fields = ["name", "local_name", "parent__name"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["tier", "status", "created_at", "updated_at"]
    fields = [
        "name",
        "local_name",
        "country",
        "parent",
        "tier",
        "status",
        "created_at",
        "updated_at",
    ]
    inlines = [ContactInline, NDAInline, SubvendorInline]
    date_hierarchy = "created_at"
    actions = ["suspend", "terminate", "reactivate"]

    def save_model(self, request, obj, form, change):
        # Tier and cycle rules live in the services, not in save().
        if change:
            fields = changed_fields(form, services.SUPPLIER_FIELDS)
            saved = services.supplier_update(actor=request.user, supplier=obj, **fields)
        else:
            saved = services.supplier_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                local_name=form.cleaned_data.get("local_name", ""),
                country=form.cleaned_data["country"],
                parent=form.cleaned_data.get("parent"),
            )
        copy_saved(obj, saved)

    def delete_model(self, request, obj):
        services.supplier_delete(actor=request.user, supplier=obj)

    def _set_status(self, request, queryset, status: str, done: str) -> None:
        self.run_service_action(
            request,
            queryset,
            lambda s: services.supplier_update(actor=request.user, supplier=s, status=status),
            done,
        )

    @admin.action(description=_("Suspend selected suppliers"))
    def suspend(self, request, queryset):
        self._set_status(request, queryset, "suspended", gettext("Suspended"))

    @admin.action(description=_("Terminate selected suppliers"))
    def terminate(self, request, queryset):
        self._set_status(request, queryset, "terminated", gettext("Terminated"))

    @admin.action(description=_("Reactivate selected suppliers"))
    def reactivate(self, request, queryset):
        self._set_status(request, queryset, "active", gettext("Reactivated"))


@admin.register(Contact)
class ContactAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["name", "email", "supplier", "role", "receives_reminders"]
    list_filter = ["role", "receives_reminders"]
    search_fields = ["name", "email", "supplier__name"]
    list_select_related = ["supplier"]
    autocomplete_fields = ["supplier"]

    def save_model(self, request, obj, form, change):
        if change:
            fields = changed_fields(form, services.CONTACT_FIELDS)
            saved = services.contact_update(actor=request.user, contact=obj, **fields)
        else:
            saved = services.contact_create(
                actor=request.user,
                **{k: form.cleaned_data[k] for k in services.CONTACT_FIELDS},
            )
        copy_saved(obj, saved)


@admin.register(NDA)
class NDAAdmin(HistoryAdmin):
    form = NDAAdminForm
    list_display = [
        "reference",
        "supplier",
        "effective_from",
        "expires_on",
        "status_today",
        "covers_subvendors",
        "flow_down_required",
        "penalty_amount",
        "penalty_currency",
        "rectification_days",
    ]
    list_filter = ["covers_subvendors", "flow_down_required", "penalty_currency"]
    search_fields = ["reference", "supplier__name"]
    list_select_related = ["supplier"]
    autocomplete_fields = ["supplier"]
    date_hierarchy = "effective_from"
    readonly_fields = [
        "status_today",
        "signed_document_name",
        "signed_document_sha256",
        "terminated_on",
        "termination_reason",
        "created_at",
        "updated_at",
    ]

    @admin.display(description=_("status"))
    def status_today(self, obj: NDA) -> str:
        return obj.status.label if obj.effective_from else "-"

    def save_model(self, request, obj, form, change):
        if change:
            fields = changed_fields(form, services.NDA_FIELDS)
            saved = services.nda_update(actor=request.user, nda=obj, **fields)
        else:
            saved = services.nda_create(
                actor=request.user,
                **{k: form.cleaned_data[k] for k in services.NDA_FIELDS if k in form.cleaned_data},
            )
        copy_saved(obj, saved)

    def delete_model(self, request, obj):
        services.nda_delete(actor=request.user, nda=obj)


@admin.register(ConfidentialAsset)
class ConfidentialAssetAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "project", "classification", "created_at"]
    list_filter = ["classification", "project"]
    search_fields = ["code", "name", "project"]

    def save_model(self, request, obj, form, change):
        if change:
            fields = changed_fields(form, services.ASSET_FIELDS)
            saved = services.asset_update(actor=request.user, asset=obj, **fields)
        else:
            saved = services.asset_create(
                actor=request.user,
                **{k: form.cleaned_data[k] for k in services.ASSET_FIELDS},
            )
        copy_saved(obj, saved)

    def delete_model(self, request, obj):
        services.asset_delete(actor=request.user, asset=obj)


DISCLOSURE_FIELDS = services.DISCLOSURE_FIELDS


@admin.register(Disclosure)
class DisclosureAdmin(HistoryAdmin):
    list_display = ["asset", "supplier", "nda", "disclosed_on", "version", "fingerprint"]
    list_filter = ["asset__classification", "asset__project"]
    search_fields = ["fingerprint", "asset__code", "supplier__name", "nda__reference"]
    list_select_related = ["asset", "supplier", "nda"]
    autocomplete_fields = ["asset", "supplier", "nda"]
    date_hierarchy = "disclosed_on"
    # Revoked on the disclosure's page (services.disclosure_revoke), with a reason.
    readonly_fields = [
        "fingerprint",
        "revoked_at",
        "revoked_by",
        "revocation_reason",
        "created_at",
    ]

    def save_model(self, request, obj, form, change):
        if change:
            fields = changed_fields(form, DISCLOSURE_FIELDS)
            saved = services.disclosure_update(actor=request.user, disclosure=obj, **fields)
        else:
            saved = services.disclosure_create(
                actor=request.user, **{k: form.cleaned_data[k] for k in DISCLOSURE_FIELDS}
            )
        copy_saved(obj, saved)


# --- Users -----------------------------------------------------------------------------


@admin.register(User)
class UserAdmin(ServiceAdminMixin, DjangoUserAdmin):
    list_display = ["username", "email", "role", "supplier", "is_active", "last_login"]
    list_filter = ["role", "is_active", "is_staff", "groups"]
    search_fields = ["username", "email", "first_name", "last_name", "supplier__name"]
    list_select_related = ["supplier"]
    autocomplete_fields = ["supplier"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Breach tracker"), {"fields": ("role", "supplier", "language", "time_zone")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Breach tracker"), {"fields": ("email", "role", "supplier")}),
    )

    def save_model(self, request, obj, form, change):
        if change:
            was_active = User.objects.filter(pk=obj.pk, is_active=True).exists()
            if "role" in form.changed_data:
                # As user_update does: only the admin role reaches the Django admin.
                obj.is_staff = obj.is_superuser = obj.role == Role.ADMIN
            super().save_model(request, obj, form, change)
            if was_active and not obj.is_active:
                # Deactivating ends the account's sessions and tokens, as user_update does.
                services.user_end_sessions(user=obj)
            return
        saved = services.user_create(
            actor=request.user,
            username=form.cleaned_data["username"],
            password=form.cleaned_data.get("password1") or None,
            role=form.cleaned_data["role"],
            email=form.cleaned_data.get("email", ""),
            supplier=form.cleaned_data.get("supplier"),
        )
        copy_saved(obj, saved)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens: listed, and revoked by deleting them. Keys exist only when issued (the
    table keeps their SHA-256), so a token is never added or changed here."""

    list_display = ["prefix", "user", "created_at", "expires_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "prefix"]
    readonly_fields = ["user", "prefix", "created_at", "expires_at", "last_used_at"]
    exclude = ["digest"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
