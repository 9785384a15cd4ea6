"""Serializers of the suppliers app: they validate and shape; services write."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from config.rest import (
    ModelSerializer,
    MoneyField,
    ScopedPrimaryKeyRelatedField,
    StrictCharField,
)
from suppliers.choices import COUNTRY_CODES, CURRENCY_CODES, NDAStatus, Role
from suppliers.models import NDA, ConfidentialAsset, Contact, Disclosure, Supplier, User
from suppliers.selectors import (
    assets_visible_to,
    may_see_fingerprints,
    may_see_nda,
    ndas_visible_to,
    suppliers_visible_to,
)


def supplier_field(**kwargs) -> ScopedPrimaryKeyRelatedField:
    return ScopedPrimaryKeyRelatedField(
        selector=suppliers_visible_to, queryset=Supplier.objects.all(), **kwargs
    )


def clean_country(value: str) -> str:
    code = (value or "").strip().upper()
    if code not in COUNTRY_CODES:
        raise serializers.ValidationError(_("Enter an ISO 3166-1 alpha-2 country code, e.g. CN."))
    return code


def clean_currency(value: str) -> str:
    code = (value or "").strip().upper()
    if code not in CURRENCY_CODES:
        raise serializers.ValidationError(_("Enter an ISO 4217 currency code, e.g. CNY."))
    return code


class SupplierSerializer(ModelSerializer):
    parent = supplier_field(required=False, allow_null=True)
    parent_name = serializers.CharField(
        source="parent.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Supplier
        fields = [
            "id",
            "name",
            "local_name",
            "country",
            "parent",
            "parent_name",
            "tier",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["tier", "created_at", "updated_at"]

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError(_("This field may not be blank."))
        clash = Supplier.objects.filter(name__iexact=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError(_("A supplier with this name already exists."))
        return value

    def validate_country(self, value: str) -> str:
        return clean_country(value)


class ContactSerializer(ModelSerializer):
    supplier = supplier_field()
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "supplier",
            "supplier_name",
            "name",
            "email",
            "role",
            "receives_reminders",
            "language",
            "time_zone",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def validate(self, attrs):
        supplier = attrs.get("supplier", getattr(self.instance, "supplier", None))
        email = attrs.get("email", getattr(self.instance, "email", ""))
        if supplier is not None and email:
            clash = Contact.objects.filter(supplier=supplier, email__iexact=email)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise serializers.ValidationError(
                    {"email": [_("This supplier already has a contact with this email.")]}
                )
        return attrs


class NDASerializer(ModelSerializer):
    supplier = supplier_field()
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    penalty_amount = MoneyField()
    status = serializers.ChoiceField(choices=NDAStatus.choices, read_only=True)

    class Meta:
        model = NDA
        fields = [
            "id",
            "reference",
            "supplier",
            "supplier_name",
            "signed_on",
            "effective_from",
            "expires_on",
            "covers_subvendors",
            "flow_down_required",
            "penalty_amount",
            "penalty_currency",
            "rectification_days",
            "clause_text",
            "signed_document_name",
            "signed_document_sha256",
            "terminated_on",
            "termination_reason",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "created_at",
            "updated_at",
            "signed_document_name",
            "signed_document_sha256",
            "terminated_on",
            "termination_reason",
        ]
        extra_kwargs = {"rectification_days": {"min_value": 1, "max_value": 365}}

    def validate_penalty_currency(self, value: str) -> str:
        return clean_currency(value)

    def validate_reference(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError(_("This field may not be blank."))
        return value

    def validate(self, attrs):
        def current(name):
            return attrs.get(name, getattr(self.instance, name, None))

        effective_from, expires_on = current("effective_from"), current("expires_on")
        if effective_from and expires_on and expires_on <= effective_from:
            raise serializers.ValidationError(
                {"expires_on": [_("An NDA must expire after it becomes effective.")]}
            )
        return attrs


class AssetSerializer(ModelSerializer):
    class Meta:
        model = ConfidentialAsset
        fields = ["id", "code", "name", "project", "classification", "created_at"]
        read_only_fields = ["created_at"]

    def validate_code(self, value: str) -> str:
        value = value.strip().upper()
        if not value:
            raise serializers.ValidationError(_("This field may not be blank."))
        clash = ConfidentialAsset.objects.filter(code=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError(_("An asset with this code already exists."))
        return value


class DisclosureSerializer(ModelSerializer):
    asset = ScopedPrimaryKeyRelatedField(
        selector=assets_visible_to, queryset=ConfidentialAsset.objects.all()
    )
    asset_code = serializers.CharField(source="asset.code", read_only=True)
    supplier = supplier_field()
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    nda = ScopedPrimaryKeyRelatedField(
        selector=ndas_visible_to, queryset=NDA.objects.all(), required=False, allow_null=True
    )
    nda_reference = serializers.CharField(
        source="nda.reference", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Disclosure
        fields = [
            "id",
            "asset",
            "asset_code",
            "supplier",
            "supplier_name",
            "nda",
            "nda_reference",
            "disclosed_on",
            "version",
            "fingerprint",
            "revoked_at",
            "revocation_reason",
            "created_at",
        ]
        read_only_fields = ["fingerprint", "revoked_at", "revocation_reason", "created_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        user = getattr(self.context.get("request"), "user", None)
        if not may_see_fingerprints(user):
            del data["fingerprint"]
        # A sub-vendor's user does not see the parent's agreement it received under.
        if instance.nda_id is not None and not may_see_nda(user, instance.nda.supplier_id):
            data["nda"] = data["nda_reference"] = None
        return data


class UserSerializer(ModelSerializer):
    password = StrictCharField(
        write_only=True,
        required=False,
        allow_blank=False,
        max_length=128,
        style={"input_type": "password"},
        help_text=_("Write-only; checked against the password rules."),
    )
    supplier = serializers.PrimaryKeyRelatedField(
        queryset=Supplier.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "password",
            "role",
            "supplier",
            "is_active",
            "language",
            "time_zone",
            "date_joined",
            "last_login",
        ]
        read_only_fields = ["date_joined", "last_login"]

    def validate(self, attrs):
        role = attrs.get("role", getattr(self.instance, "role", None))
        if role is None:
            raise serializers.ValidationError({"role": [_("This field is required.")]})
        supplier = attrs.get("supplier", getattr(self.instance, "supplier", None))
        if role == Role.SUPPLIER and supplier is None:
            raise serializers.ValidationError({"supplier": [_("Supplier users need a supplier.")]})
        if role != Role.SUPPLIER and supplier is not None:
            if "supplier" not in attrs and self.instance is not None:
                attrs["supplier"] = None  # a supplier user promoted to staff leaves it
            else:
                raise serializers.ValidationError(
                    {"supplier": [_("Staff users have no supplier.")]}
                )
        password = attrs.get("password")
        if password:
            candidate = self.instance or User(
                username=attrs.get("username", ""), email=attrs.get("email", "")
            )
            try:
                validate_password(password, candidate)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


class MySettingsSerializer(ModelSerializer):
    """The caller's own account as the caller sees it: only its language and time zone
    are written here (DESIGN section 11); the rest is the admins' (UserSerializer)."""

    class Meta:
        model = User
        fields = ["id", "username", "email", "role", "supplier", "language", "time_zone"]
        read_only_fields = ["id", "username", "email", "role", "supplier"]
        # Required, so that an empty value sent as a form field is refused rather than
        # skipped (DRF leaves out an empty form value of an optional field).
        extra_kwargs = {"language": {"required": True}, "time_zone": {"required": True}}


class NDATerminateSerializer(serializers.Serializer):
    terminated_on = serializers.DateField(help_text=_("The first day the NDA no longer binds."))
    reason = serializers.CharField(max_length=2000)


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
