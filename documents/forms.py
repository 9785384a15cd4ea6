from django import forms
from django.utils.translation import gettext_lazy as _

from .imports import KINDS

KIND_LABELS = {
    "suppliers": _("Suppliers (with their parents)"),
    "contacts": _("Contacts"),
    "ndas": _("NDAs"),
}
MAX_IMPORT_BYTES = 20 * 1024 * 1024


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file holds"), choices=[(k, KIND_LABELS[k]) for k in KINDS]
    )
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        help_text=_("A header row, then one row per record (see the format below)."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Choose a .csv or .xlsx file."))
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB: split it."))
        return upload
