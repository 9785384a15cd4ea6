"""REST plumbing shared by both apps' APIs, so that they behave identically: strict id
filters and fields, money, scoped foreign keys, the role permission base, and viewsets
that write through services. What DRF's settings name (the parser, cursor pagination
and ordering, the renderer) is in config.parsers, config.pagination and
config.renderers, free of viewset imports: DRF imports them while it is loading."""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from django import forms
from django.db import models
from django.db.models import Q
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_filters import rest_framework as filters
from django_filters.utils import label_for_filter
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import permissions, serializers, viewsets
from rest_framework.relations import MANY_RELATION_KWARGS

from config.pagination import NewestFirstCursorPagination
from config.widgets import FastSelect, Lookup, LookupSelect
from documents.exports import ExportMixin
from suppliers.choices import Role

security_log = logging.getLogger("breaches.security")

MAX_ID = 2**63 - 1


# --- Strict input ----------------------------------------------------------------------
# Python reads the digits of every script as numbers (a full-width one for int(), an
# Arabic-Indic five for Decimal()), and Decimal takes "1_000" and "+5": ids, money and
# dates from a client are ASCII, written the one way the API writes them.

MONEY_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


ID_TEXT = re.compile(r"[0-9]+")


class IdFormField(forms.IntegerField):
    """An id in a query string: ASCII digits, no sign."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not ID_TEXT.fullmatch(value.strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class AsciiDateField(forms.DateField):
    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not DATE_TEXT.fullmatch(value.strip()):
            raise forms.ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid")
        return super().to_python(value)


class StrictDateField(serializers.DateField):
    """A date written YYYY-MM-DD in ASCII digits, nothing else."""

    def to_internal_value(self, value):
        if isinstance(value, str) and not DATE_TEXT.fullmatch(value.strip()):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class StrictCharField(serializers.CharField):
    """Text sent as a JSON string, nothing else: DRF's CharField turns 0 or 1.5 into "0" and
    "1.5", which hides a client's mistake (a number where a name or code belongs)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, with model dates and text read strictly (StrictDateField,
    StrictCharField)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: StrictDateField,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
    }


# --- Filters ---------------------------------------------------------------------------

PAGE_DATE_INPUT = forms.DateInput(attrs={"type": "date"})
lazy_label_for_filter = lazy(label_for_filter, str)


class FilterSet(filters.FilterSet):
    """django-filter's FilterSet, one per model, for its API list and its page alike.
    `page_fields` names the filters a page's form shows (the page takes every other
    parameter too); `page_choices` shows an id filter as a select of what the user may
    see; `page_lookups` does the same for rows too many to list in a page (a Lookup with
    `rows`: the first of them, the rest searched through the API as the person types);
    `page_widgets` and `page_labels` set other widgets and shorter labels."""

    page_fields: tuple[str, ...] = ()
    page_choices: dict = {}
    page_lookups: dict[str, Lookup] = {}
    page_widgets: dict = {}
    page_labels: dict = {}

    @classmethod
    def get_filters(cls):
        """The filters, each one without a label of its own given the label django-filter
        derives from the model field, lazily: read in the language of whoever reads it.
        django-filter computes that label once and keeps it on the filter, and the
        OpenAPI schema reads the class's filters, so the first schema request froze the
        labels of every page's filter form in its language (a Chinese page said
        "Status")."""
        found = super().get_filters()
        model = cls._meta.model
        for one in found.values():
            # A filter of the class has no model yet: `label` is then the one it was given.
            if model is not None and one.label is None:
                one.label = lazy_label_for_filter(
                    model, one.field_name, one.lookup_expr, one.exclude
                )
        return found

    def page_form(self) -> list:
        """The bound fields a page's filter form shows, in `page_fields` order."""
        form = self.form
        user = getattr(self.request, "user", None)
        for name in self.page_fields:
            field = form.fields[name]
            if getattr(field, "empty_label", None) is not None:  # django-filter's choices
                field.empty_label = pgettext_lazy("filter", "Any")
                # Set again so that the widget's choices, copied with the form, follow.
                field.choices = [choice for choice in field.choices if choice[0] != ""]
            elif isinstance(field, forms.DateField):
                field.widget = PAGE_DATE_INPUT
        for name, choices in self.page_choices.items():
            form.fields[name].widget = FastSelect(
                choices=[("", pgettext_lazy("filter", "Any")), *choices(user)]
            )
        for name, lookup in self.page_lookups.items():
            form.fields[name].widget = LookupSelect(
                lookup=lookup,
                rows=lookup.rows(user),
                empty_label=pgettext_lazy("filter", "Any"),
            )
        for name, widget in self.page_widgets.items():
            form.fields[name].widget = widget
        for name, label in self.page_labels.items():
            form.fields[name].label = label
            # A bound form that was validated (the list read .qs first) holds its bound
            # fields already, each with the label it had then.
            form[name].label = label
        return [form[name] for name in self.page_fields]


class SearchFilter(filters.CharFilter):
    """`?search=` over `fields`, as DRF's search reads it: every word (split on spaces
    and commas) must appear, case-insensitively, in one of the fields. The API list and
    the page of a model search alike because both use this filter of its FilterSet."""

    def __init__(self, *, fields: tuple[str, ...], **kwargs):
        kwargs.setdefault("label", _("Search"))
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)
        self.search_fields = tuple(fields)

    def filter(self, qs, value):
        for term in (value or "").replace(",", " ").split():
            match = Q()
            for name in self.search_fields:
                match |= Q(**{f"{name}__icontains": term})
            qs = qs.filter(match)
        return qs


class DateFilter(filters.DateFilter):
    field_class = AsciiDateField


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """A foreign key filter by id: a whole number, bounded, so junk is a 400."""

    field_class = IdFormField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class StrictBooleanField(forms.NullBooleanField):
    """true/false (1/0, yes/no); anything else is a 400 rather than silently ignored."""

    widget = forms.TextInput  # the select widget would turn junk into "unknown" silently
    TRUE = frozenset({"true", "1", "yes", "on"})
    FALSE = frozenset({"false", "0", "no", "off"})

    def to_python(self, value):
        if value in (None, "") or isinstance(value, bool):
            return value if isinstance(value, bool) else None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError(_("Enter true or false."), code="invalid")

    def validate(self, value):
        return None


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs["widget"] = forms.TextInput
        super().__init__(*args, **kwargs)


# --- Fields ----------------------------------------------------------------------------


class MoneyField(serializers.DecimalField):
    """Money as a decimal string ("1000000.00", a JSON number too): at most 16 digits,
    two places, finite, positive, ASCII digits with no sign, separator or exponent."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 16)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("coerce_to_string", True)
        if not kwargs.get("read_only"):
            kwargs.setdefault("min_value", Decimal("0.01"))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, str) and not MONEY_TEXT.fullmatch(data.strip()):
            self.fail("invalid")
        return super().to_internal_value(data)


class ListOfRelatedField(serializers.ManyRelatedField):
    """A JSON array of ids: DRF's many=True field iterates any iterable, so an object
    ({"assets": {}}) passed as an empty list."""

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key limited to what the caller may see: naming any other id is a 400
    field error, exactly as if it did not exist (mass assignment is refused). With
    many=True, a JSON array of them (ListOfRelatedField)."""

    @classmethod
    def many_init(cls, *args, **kwargs):
        # DRF's documented hook for the many=True field (see its docstring).
        list_kwargs = {key: kwargs[key] for key in kwargs if key in MANY_RELATION_KWARGS}
        return ListOfRelatedField(child_relation=cls(*args, **kwargs), **list_kwargs)

    def __init__(self, *, selector, **kwargs):
        self.selector = selector
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return self.selector(user, super().get_queryset())

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            number = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= number <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(number)


# --- Permissions -----------------------------------------------------------------------


def is_writer(user) -> bool:
    return bool(user and user.is_authenticated and user.can_write)


class RolePermission(permissions.BasePermission):
    """DESIGN section 7 for one resource. Admin and compliance do everything; auditors
    only read; supplier users read their world and may attempt `supplier_actions`
    (the service still checks the act, e.g. which transition). A supplier user writing
    to an object it can see but may not change gets 403, one it cannot see 404."""

    supplier_actions: frozenset[str] = frozenset()
    staff_only_reads: frozenset[str] = frozenset()
    message = _("Your role may not do this.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        action = getattr(view, "action", None)
        if request.method in permissions.SAFE_METHODS or is_writer(user):
            return True
        # A supplier user's detail writes are decided on the object, after the scoped
        # lookup (so an object outside its world is a 404 first).
        if user.role == Role.SUPPLIER and (
            getattr(view, "detail", False) or action in self.supplier_actions
        ):
            return True
        return self._refuse(request, view)

    def has_object_permission(self, request, view, obj) -> bool:
        user = request.user
        if user.role == Role.SUPPLIER and view.action in self.staff_only_reads:
            return self._refuse(request, view)
        if request.method in permissions.SAFE_METHODS or is_writer(user):
            return True
        if user.role == Role.SUPPLIER and view.action in self.supplier_actions:
            return True
        return self._refuse(request, view)

    def _refuse(self, request, view) -> bool:
        # The refusal is logged once, by config.exceptions.api_exception_handler.
        return False


class AdminOnly(permissions.BasePermission):
    message = _("Only administrators manage user accounts.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.role == Role.ADMIN)


# --- Viewsets --------------------------------------------------------------------------


# An id in a URL is ASCII digits: int() would also take the digits of other scripts (a
# full-width or an Arabic-Indic one) and resolve them to object 1.
ID_IN_URL = "[0-9]+"


class ReadOnlyViewSet(ExportMixin, viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_IN_URL


class ServiceMixin(ExportMixin):
    """Lists export as CSV and XLSX (documents.exports.ExportMixin). Writes go through
    service functions (HackSoft style):
    `create_service(actor=..., **validated)`, `update_service(actor=..., <obj>=..., **changes)`,
    `delete_service(actor=..., <obj>=...)`. The serializer validates; the service decides."""

    lookup_value_regex = ID_IN_URL

    pagination_class = NewestFirstCursorPagination
    create_service = None
    update_service = None
    delete_service = None
    service_object_name: str = ""

    def service_kwargs(self, validated: dict) -> dict:
        return dict(validated)

    def perform_create(self, serializer):
        serializer.instance = type(self).create_service(
            actor=self.request.user, **self.service_kwargs(serializer.validated_data)
        )

    def perform_update(self, serializer):
        changes = self.service_kwargs(serializer.validated_data)
        serializer.instance = type(self).update_service(
            actor=self.request.user, **{self.service_object_name: serializer.instance}, **changes
        )

    def perform_destroy(self, instance):
        type(self).delete_service(actor=self.request.user, **{self.service_object_name: instance})

    def update(self, request, *args, **kwargs):
        response = super().update(request, *args, **kwargs)
        # Re-read through the scoped, related-loading queryset for the representation.
        instance = self.get_object()
        response.data = self.get_serializer(instance).data
        return response


class ServiceViewSet(ServiceMixin, viewsets.ModelViewSet):
    """A full resource whose writes go through services."""
