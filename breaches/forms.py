"""Browser forms of the breaches app. They parse input; the workflow services decide."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from breaches.choices import Channel, Severity, Visibility
from config.widgets import LookupSelect, LookupSelectMultiple
from suppliers.filtersets import ASSET_LOOKUP, NDA_LOOKUP
from suppliers.forms import SEARCHABLE, SUPPLIER_PICKER
from suppliers.models import NDA, WRITERS, Supplier, User
from suppliers.selectors import assets_visible_to, ndas_visible_to, suppliers_visible_to

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# Liability's NDAs show their supplier's name, as the form labels them.
NDA_WITH_SUPPLIER_LOOKUP = NDA_LOOKUP._replace(result_text="{reference} ({supplier_name})")


class IncidentForm(forms.Form):
    title = forms.CharField(max_length=200, label=_("Title"))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, label=_("Description")
    )
    source_supplier = forms.ModelChoiceField(
        queryset=Supplier.objects.none(),
        required=False,
        label=_("Source supplier"),
        empty_label=_("Unknown"),
        help_text=_("Who actually leaked; the liable supplier is resolved from it."),
        widget=SUPPLIER_PICKER,
    )
    assets = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        label=_("Assets"),
        help_text=_("The confidential assets that leaked (Ctrl or Cmd picks several)."),
        widget=LookupSelectMultiple(attrs=SEARCHABLE, lookup=ASSET_LOOKUP),
    )
    occurred_on = forms.DateField(widget=DATE_WIDGET, label=_("Occurred on"))
    discovered_on = forms.DateField(widget=DATE_WIDGET, label=_("Discovered on"))
    channel = forms.ChoiceField(choices=Channel.choices, label=_("Channel"))
    severity = forms.ChoiceField(
        choices=Severity.choices, initial=Severity.MEDIUM, label=_("Severity")
    )
    leak_fingerprint = forms.CharField(
        max_length=64,
        required=False,
        label=_("Fingerprint found on the leaked copy"),
        help_text=_("Optional: the watermark token, if one was found."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source_supplier"].queryset = suppliers_visible_to(user).order_by("name")
        self.fields["assets"].queryset = assets_visible_to(user).order_by("code")

    def clean(self):
        cleaned = super().clean()
        occurred, discovered = cleaned.get("occurred_on"), cleaned.get("discovered_on")
        if occurred and discovered and discovered < occurred:
            self.add_error(
                "discovered_on", _("An incident cannot be discovered before it occurred.")
            )
        return cleaned


class IncidentEditForm(IncidentForm):
    """The incident's facts, corrected by staff (breaches.services.incident_update). The
    fingerprint has its own form; once confirmed, the source, the date it occurred and the
    assets behind the penalty are shown but frozen."""

    owner = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label=_("Owner"),
        help_text=_("Compliance staff; reminders escalate to the owner."),
    )
    FROZEN_ONCE_CONFIRMED = ("source_supplier", "occurred_on", "assets")

    def __init__(self, *args, user, incident, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "title": incident.title,
                "description": incident.description,
                "source_supplier": incident.source_supplier_id,
                "assets": list(incident.assets.values_list("pk", flat=True)),
                "occurred_on": incident.occurred_on,
                "discovered_on": incident.discovered_on,
                "channel": incident.channel,
                "severity": incident.severity,
                "owner": incident.owner_id,
            },
        )
        super().__init__(*args, user=user, **kwargs)
        del self.fields["leak_fingerprint"]
        self.fields["owner"].queryset = User.objects.filter(WRITERS).order_by("username")
        if incident.status not in ("reported", "investigating"):
            for name in self.FROZEN_ONCE_CONFIRMED:
                self.fields[name].disabled = True
                self.fields[name].help_text = _(
                    "Frozen: the facts behind a confirmed incident's penalty do not change."
                )


class TransitionForm(forms.Form):
    """One workflow button's fields (the target status travels as the plain `to` field):
    an optional note and, upholding a disputed penalty, an optional reduced amount."""

    note = forms.CharField(max_length=2000, required=False, label=_("Note"))
    amount = forms.DecimalField(
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        label=_("Reduced amount (optional)"),
    )

    def __init__(self, *args, note_label: str | None = None, with_amount: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if note_label is not None:
            self.fields["note"].label = note_label
        if not with_amount:
            del self.fields["amount"]


def _visibility_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        choices=Visibility.choices,
        initial=Visibility.INTERNAL,
        required=False,  # left out: internal (the service's default for staff)
        label=_("Who may read it"),
        help_text=_(
            "Internal: the buyer's staff only. Shared: also the supplier users who may "
            "see this incident."
        ),
    )


class _WrittenOnIncidentForm(forms.Form):
    """A note or a file: staff choose who reads it (internal by default); a supplier
    user's is always shared, so it is offered no choice (the service decides). Both
    forms share the incident page: each has ids of its own."""

    id_prefix = ""

    def __init__(self, *args, staff: bool = False, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)
        if not staff:
            del self.fields["visibility"]


class NoteForm(_WrittenOnIncidentForm):
    id_prefix = "note"
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label=_("Note"))
    visibility = _visibility_field()


class EvidenceForm(_WrittenOnIncidentForm):
    id_prefix = "evidence"
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "PDF; PNG, JPEG, GIF or WebP images; .docx, .xlsx or .pptx documents; ZIP; "
            "plain text or CSV. HTML, SVG, XML and scripts are refused."
        ),
    )
    description = forms.CharField(max_length=500, required=False, label=_("Description"))
    visibility = _visibility_field()


class FingerprintForm(forms.Form):
    fingerprint = forms.CharField(
        max_length=64,
        help_text=_("The token found on a leaked copy (hex)."),
        label=_("Fingerprint"),
    )


class PaymentForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=16, decimal_places=2, min_value=Decimal("0.01"), label=_("Amount")
    )
    paid_on = forms.DateField(widget=DATE_WIDGET, initial=timezone.localdate, label=_("Paid on"))
    reference = forms.CharField(max_length=100, required=False, label=_("Payment reference"))


class PenaltyEditForm(forms.Form):
    """The amount while proposed or disputed (offered only to a user who may change it),
    and the due date."""

    amount = forms.DecimalField(
        max_digits=16, decimal_places=2, min_value=Decimal("0.01"), label=_("Amount")
    )
    due_on = forms.DateField(widget=DATE_WIDGET, required=False, label=_("Due on"))

    def __init__(self, *args, with_amount: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_amount:
            del self.fields["amount"]


class PlanSummaryForm(forms.Form):
    summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        label=_("Summary"),
        help_text=_("What the supplier will change, including over its downstream."),
    )


class ActionForm(forms.Form):
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label=_("Description"))
    owner = forms.CharField(
        max_length=200,
        required=False,
        label=pgettext_lazy("action", "Owner"),
        help_text=_("Who at the supplier."),
    )
    due_on = forms.DateField(widget=DATE_WIDGET, label=_("Due on"))


class ActionEditForm(ActionForm):
    """An action corrected while its plan allows it, with its progress note."""

    evidence_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label=_("Evidence note"),
        help_text=_("Progress so far, or what shows the action is done."),
    )

    def __init__(self, *args, structural: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not structural:
            for name in ("description", "owner", "due_on"):
                del self.fields[name]


class ActionEvidenceForm(forms.Form):
    """A file attached to an action: the rules of incident evidence."""

    file = forms.FileField(label=_("File"), help_text=EvidenceForm.base_fields["file"].help_text)
    description = forms.CharField(max_length=500, required=False, label=_("Description"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{kwargs.get('prefix') or 'action-file'}_%s")
        super().__init__(*args, **kwargs)


class ActionCompleteForm(forms.Form):
    evidence_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("Evidence note"),
        help_text=_("What shows the action is done."),
    )


class LiabilityForm(forms.Form):
    """Staff override of the liability rule (before confirmation), with a reason."""

    responsible_supplier = forms.ModelChoiceField(
        queryset=Supplier.objects.none(),
        required=False,
        label=_("Responsible supplier"),
        empty_label=_("Nobody"),
        widget=SUPPLIER_PICKER,
    )
    nda = forms.ModelChoiceField(
        queryset=NDA.objects.none(),
        required=False,
        label=_("NDA"),
        empty_label=pgettext_lazy("no NDA", "None"),
        help_text=_("Must belong to the responsible supplier."),
        widget=LookupSelect(attrs=SEARCHABLE, lookup=NDA_WITH_SUPPLIER_LOOKUP),
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label=_("Reason")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible_supplier"].queryset = suppliers_visible_to(user).order_by("name")
        self.fields["nda"].queryset = (
            ndas_visible_to(user).select_related("supplier").order_by("reference")
        )
        self.fields["nda"].label_from_instance = lambda nda: f"{nda.reference} ({nda.supplier})"


class ReviewDecisionForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
        label=_("Note (required to reject)"),
    )
