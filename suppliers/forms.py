"""Browser forms of the suppliers app. They only parse and validate input; the services
in suppliers.services do the writing (and their ValidationErrors land on these fields)."""

from __future__ import annotations

import functools
from datetime import timedelta
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from config.formats import format_instant, written_in
from config.widgets import FastSelect, LookupSelect
from suppliers.choices import (
    DEFAULT_TIME_ZONE,
    Classification,
    ContactRole,
    Language,
    Role,
    SupplierStatus,
)
from suppliers.filtersets import ASSET_LOOKUP, SUPPLIER_LOOKUP
from suppliers.models import NDA, Contact, Disclosure, Supplier, User
from suppliers.pickers import country_choices, currency_choices
from suppliers.selectors import assets_visible_to, suppliers_visible_to

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# Pickers: "CN — China", sorted by name; app.js adds a filter box to a searchable select.
# The filter box's placeholder comes from the page (app.js reads it), in its language.
SEARCHABLE = {"data-searchable": "true", "data-search-placeholder": _("Type to filter…")}
# Pickers of rows a buyer has thousands of: the first of them, the rest searched as typed.
SUPPLIER_PICKER = LookupSelect(attrs=SEARCHABLE, lookup=SUPPLIER_LOOKUP)
ASSET_PICKER = LookupSelect(attrs=SEARCHABLE, lookup=ASSET_LOOKUP)
COUNTRY_CHOICES = country_choices()
CURRENCY_CHOICES = currency_choices()


class SupplierForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    local_name = forms.CharField(
        label=_("Local name"),
        max_length=200,
        required=False,
        help_text=_(
            "The registered name in the company's own language, e.g. 北京模塑科技有限公司."
        ),
    )
    country = forms.ChoiceField(
        label=_("Country"),
        choices=[("", "---------"), *COUNTRY_CHOICES],
        help_text=_("Type a code or a name to find it, e.g. CN or China."),
        widget=FastSelect(attrs=SEARCHABLE),
    )
    parent = forms.ModelChoiceField(
        label=_("Parent"),
        queryset=Supplier.objects.none(),
        required=False,
        empty_label=_("None (tier-1 supplier)"),
        help_text=_("The supplier that engaged this one."),
        widget=SUPPLIER_PICKER,
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=SupplierStatus.choices, initial=SupplierStatus.ACTIVE
    )

    def __init__(self, *args, user, instance: Supplier | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "local_name": instance.local_name,
                "country": instance.country,
                "parent": instance.parent_id,
                "status": instance.status,
            }
        super().__init__(*args, **kwargs)
        parents = suppliers_visible_to(user).order_by("name")
        if instance is not None:
            parents = parents.exclude(pk=instance.pk)
        self.fields["parent"].queryset = parents


class NDAForm(forms.Form):
    """An NDA's terms. With `user` and no fixed supplier it also asks for the supplier;
    with `instance` it starts from that NDA (the supplier is then not changed here)."""

    supplier = forms.ModelChoiceField(
        queryset=Supplier.objects.none(), label=_("Supplier"), widget=SUPPLIER_PICKER
    )
    reference = forms.CharField(label=_("Reference"), max_length=64)
    signed_on = forms.DateField(label=_("Signed on"), widget=DATE_WIDGET)
    effective_from = forms.DateField(label=_("Effective from"), widget=DATE_WIDGET)
    expires_on = forms.DateField(label=_("Expires on"), widget=DATE_WIDGET, required=False)
    covers_subvendors = forms.BooleanField(
        label=_("Covers subvendors"),
        required=False,
        help_text=_("The supplier answers for leaks by its downstream."),
    )
    flow_down_required = forms.BooleanField(
        label=_("Flow down required"),
        required=False,
        help_text=_("The supplier must bind its sub-vendors in writing."),
    )
    penalty_amount = forms.DecimalField(
        max_digits=16, decimal_places=2, min_value=Decimal("0.01"), label=_("Penalty per breach")
    )
    penalty_currency = forms.ChoiceField(
        label=_("Penalty currency"),
        choices=CURRENCY_CHOICES,
        initial="CNY",
        widget=FastSelect(attrs=SEARCHABLE),
    )
    rectification_days = forms.IntegerField(
        label=_("Rectification days"), min_value=1, max_value=365, initial=30
    )
    clause_text = forms.CharField(
        label=_("Clause text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("The confidentiality and penalty clauses, as signed."),
    )
    signed_document = forms.FileField(
        label=_("Signed document"),
        required=False,
        help_text=_("PDF, image or Word document; checked from its content like evidence."),
    )

    def __init__(self, *args, user=None, instance: NDA | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                name: getattr(instance, name)
                for name in (
                    "reference",
                    "signed_on",
                    "effective_from",
                    "expires_on",
                    "covers_subvendors",
                    "flow_down_required",
                    "penalty_amount",
                    "penalty_currency",
                    "rectification_days",
                    "clause_text",
                )
            }
        super().__init__(*args, **kwargs)
        if user is None or instance is not None:
            del self.fields["supplier"]
        else:
            self.fields["supplier"].queryset = suppliers_visible_to(user).order_by("name")
        if instance is not None and instance.signed_document_name:
            self.fields["signed_document"].help_text = _(
                "Now: %(name)s. Upload a file to replace it (the old one stays in the history)."
            ) % {"name": instance.signed_document_name}

    def clean_signed_document(self):
        # No file chosen: nothing to store (the service keeps what it has).
        return self.cleaned_data.get("signed_document") or None


class NDATerminateForm(forms.Form):
    terminated_on = forms.DateField(label=_("Terminated on"), widget=DATE_WIDGET)
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ContactForm(forms.Form):
    supplier = forms.ModelChoiceField(
        queryset=Supplier.objects.none(), label=_("Supplier"), widget=SUPPLIER_PICKER
    )
    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=200)
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=ContactRole.choices, initial="other")
    receives_reminders = forms.BooleanField(
        label=_("Receives reminders"),
        required=False,
        help_text=_("Chased when the supplier's plans, actions or payments run late."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=Language.choices,
        initial=Language.ENGLISH,
        required=False,
        help_text=_("Reminders reach the contact in this language."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=(),
        initial=DEFAULT_TIME_ZONE,
        required=False,
        widget=FastSelect(attrs=SEARCHABLE),
        help_text=_("Times in its reminders are shown in this zone."),
    )

    def clean_language(self):
        # A form sent without the field (an older page, a script) keeps the default.
        return self.cleaned_data.get("language") or Language.ENGLISH

    def clean_time_zone(self):
        return self.cleaned_data.get("time_zone") or DEFAULT_TIME_ZONE

    def __init__(self, *args, user, instance: Contact | None = None, **kwargs):
        if instance is not None:
            kwargs["initial"] = {
                "supplier": instance.supplier_id,
                "name": instance.name,
                "email": instance.email,
                "role": instance.role,
                "receives_reminders": instance.receives_reminders,
                "language": instance.language,
                "time_zone": instance.time_zone,
            }
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.fields["time_zone"].choices = time_zone_choices()
        self.fields["supplier"].queryset = suppliers_visible_to(user).order_by("name")

    def clean(self):
        data = super().clean()
        supplier, email = data.get("supplier"), data.get("email")
        if supplier is not None and email:
            clash = Contact.objects.filter(supplier=supplier, email__iexact=email.strip())
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("email", _("This supplier already has a contact with this email."))
        return data


class DisclosureForm(forms.Form):
    asset = forms.ModelChoiceField(label=_("Asset"), queryset=None, widget=ASSET_PICKER)
    nda = forms.ModelChoiceField(
        queryset=NDA.objects.none(),
        required=False,
        label=_("NDA"),
        empty_label=_("None (no agreement reaches it)"),
        help_text=_("The recipient's own NDA or one of its parents'."),
    )
    disclosed_on = forms.DateField(label=_("Disclosed on"), widget=DATE_WIDGET)
    version = forms.CharField(label=_("Version"), max_length=32, required=False)

    def __init__(self, *args, user, supplier: Supplier, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["asset"].queryset = assets_visible_to(user).order_by("code")
        chain = [supplier.pk, *(s.pk for s in supplier.ancestors())]
        self.fields["nda"].queryset = NDA.objects.filter(supplier__in=chain).order_by("reference")


class DisclosureCorrectionForm(forms.Form):
    """A correction of a recorded disclosure. The recipient stays: a hand-over recorded
    against the wrong supplier is revoked and recorded again, so that the fingerprint
    given to one recipient is never moved to another."""

    asset = forms.ModelChoiceField(queryset=None, label=_("Asset"), widget=ASSET_PICKER)
    nda = forms.ModelChoiceField(
        queryset=NDA.objects.none(),
        required=False,
        label=_("NDA"),
        empty_label=_("None (no agreement reaches it)"),
        help_text=_("The recipient's own NDA or one of its parents'."),
    )
    disclosed_on = forms.DateField(label=_("Disclosed on"), widget=DATE_WIDGET)
    version = forms.CharField(label=_("Version"), max_length=32, required=False)
    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=100,
        help_text=_("Kept on the disclosure's history."),
    )

    def __init__(self, *args, user, disclosure: Disclosure, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "asset": disclosure.asset_id,
                "nda": disclosure.nda_id,
                "disclosed_on": disclosure.disclosed_on,
                "version": disclosure.version,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["asset"].queryset = assets_visible_to(user).order_by("code")
        supplier = disclosure.supplier
        chain = [supplier.pk, *(s.pk for s in supplier.ancestors())]
        self.fields["nda"].queryset = NDA.objects.filter(supplier__in=chain).order_by("reference")


class AssetForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=64, help_text=_("e.g. MS11-BUMPER-FR"))
    name = forms.CharField(label=_("Name"), max_length=200)
    project = forms.CharField(label=_("Project"), max_length=100, required=False)
    classification = forms.ChoiceField(
        label=_("Classification"),
        choices=Classification.choices,
        initial=Classification.CONFIDENTIAL,
    )


class InviteForm(forms.Form):
    """A new account, invited by email to set its password. Compliance staff invite
    supplier users; admins may also pick a staff role."""

    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.SUPPLIER)
    supplier = forms.ModelChoiceField(
        queryset=Supplier.objects.none(),
        required=False,
        label=_("Supplier"),
        help_text=_("The supplier this person works for (supplier users only)."),
        widget=SUPPLIER_PICKER,
    )
    username = forms.CharField(label=_("User name"), max_length=150)
    email = forms.EmailField(label=_("Email"), help_text=_("The invitation goes here."))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    # The inviter's language by default (the view's initial); the person's own browser
    # decides when it accepts the invitation (config.views.PasswordResetConfirmView).
    language = forms.ChoiceField(
        label=_("Language"),
        choices=Language.choices,
        required=False,
        help_text=_(
            "The invitation is written in this language; the person's browser decides it "
            "when they choose a password."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = suppliers_visible_to(user).order_by("name")
        if user.role != Role.ADMIN:
            self.fields["role"].choices = [(Role.SUPPLIER, Role.SUPPLIER.label)]
            self.fields["role"].widget = forms.HiddenInput()

    def clean_language(self):
        # Not sent (a script, an older page): None, and the view takes the browser's.
        return self.cleaned_data.get("language") or None

    def clean(self):
        data = super().clean()
        role, supplier = data.get("role"), data.get("supplier")
        if role == Role.SUPPLIER and supplier is None:
            self.add_error("supplier", _("A supplier user belongs to a supplier: pick it."))
        if role and role != Role.SUPPLIER and supplier is not None:
            self.add_error("supplier", _("Staff belong to no supplier: leave it empty."))
        username = data.get("username")
        if username and User.objects.filter(username__iexact=username).exists():
            self.add_error("username", _("This user name is taken."))
        return data


@functools.cache
def time_zone_choices() -> list[tuple[str, str]]:
    from zoneinfo import available_timezones

    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
    return [(zone, zone.replace("_", " ")) for zone in ["UTC", *zones]]


class SettingsForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=(),
        widget=FastSelect(attrs=SEARCHABLE),
        help_text=_("Times are shown in this zone."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()


class PasswordLinkForm(PasswordResetForm):
    """Django's "forgot your password" form, whose mail (a reset, or an invitation sent by
    suppliers.services) reaches the person in its own language, with the instant the link
    expires in its time zone (DESIGN section 11), whoever's request sends it."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        user = context.get("user")
        with written_in(getattr(user, "language", None), getattr(user, "time_zone", None)):
            expires = timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
            super().send_mail(
                subject_template_name,
                email_template_name,
                {**context, "expires": format_instant(expires)},
                from_email,
                to_email,
                html_email_template_name,
            )
