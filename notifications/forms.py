from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import AUDIENCE, EventType


def kinds_for(user) -> list[tuple[str, str]]:
    """The kinds this user can be told of, for its settings form."""
    from suppliers.choices import Role

    from .choices import ADMINS, REVIEWERS, STAFF, SUPPLIER

    if user.role == Role.SUPPLIER:
        groups = {SUPPLIER}
    elif user.can_write:
        groups = {STAFF, REVIEWERS} | ({ADMINS} if user.role == Role.ADMIN else set())
    else:
        groups = set()
    return [(t.value, t.label) for t in EventType if AUDIENCE[t] & groups]


class PreferencesForm(forms.Form):
    email_on = forms.MultipleChoiceField(
        label=_("Send me an email for"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Everything stays in your notifications list; mail is grouped."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email_on"].choices = kinds_for(user)
