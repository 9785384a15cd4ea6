"""Browser forms of the suppliers app. They only parse and validate input; the services
in suppliers.services do the writing (and their ValidationErrors land on these fields)."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from suppliers.choices import COUNTRY_CODES, CURRENCY_CODES, Classification, SupplierStatus
from suppliers.models import NDA, Supplier
from suppliers.selectors import assets_visible_to, suppliers_visible_to

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
COUNTRY_CHOICES = [(code, code) for code in sorted(COUNTRY_CODES)]
CURRENCY_CHOICES = [(code, code) for code in sorted(CURRENCY_CODES)]


class SupplierForm(forms.Form):
    name = forms.CharField(max_length=200)
    country = forms.ChoiceField(
        choices=[("", "---------"), *COUNTRY_CHOICES],
        help_text="ISO 3166-1 alpha-2 code, e.g. CN.",
    )
    parent = forms.ModelChoiceField(
        queryset=Supplier.objects.none(),
        required=False,
        empty_label="None (tier-1 supplier)",
        help_text="The supplier that engaged this one.",
    )
    status = forms.ChoiceField(choices=SupplierStatus.choices, initial=SupplierStatus.ACTIVE)

    def __init__(self, *args, user, instance: Supplier | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
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
    reference = forms.CharField(max_length=64)
    signed_on = forms.DateField(widget=DATE_WIDGET)
    effective_from = forms.DateField(widget=DATE_WIDGET)
    expires_on = forms.DateField(widget=DATE_WIDGET, required=False)
    covers_subvendors = forms.BooleanField(
        required=False, help_text="The supplier answers for leaks by its downstream."
    )
    flow_down_required = forms.BooleanField(
        required=False, help_text="The supplier must bind its sub-vendors in writing."
    )
    penalty_amount = forms.DecimalField(
        max_digits=16, decimal_places=2, min_value=Decimal("0.01"), label="Penalty per breach"
    )
    penalty_currency = forms.ChoiceField(choices=CURRENCY_CHOICES, initial="CNY")
    rectification_days = forms.IntegerField(min_value=1, max_value=365, initial=30)


class DisclosureForm(forms.Form):
    asset = forms.ModelChoiceField(queryset=None)
    nda = forms.ModelChoiceField(
        queryset=NDA.objects.none(),
        required=False,
        label="NDA",
        empty_label="None (no agreement reaches it)",
        help_text="The recipient's own NDA or one of its parents'.",
    )
    disclosed_on = forms.DateField(widget=DATE_WIDGET)
    version = forms.CharField(max_length=32, required=False)

    def __init__(self, *args, user, supplier: Supplier, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["asset"].queryset = assets_visible_to(user).order_by("code")
        chain = [supplier.pk, *(s.pk for s in supplier.ancestors())]
        self.fields["nda"].queryset = NDA.objects.filter(supplier__in=chain).order_by("reference")


class AssetForm(forms.Form):
    code = forms.CharField(max_length=64, help_text="e.g. MS11-BUMPER-FR")
    name = forms.CharField(max_length=200)
    project = forms.CharField(max_length=100, required=False)
    classification = forms.ChoiceField(
        choices=Classification.choices, initial=Classification.CONFIDENTIAL
    )
