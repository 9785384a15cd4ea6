"""Who the suppliers are, what they signed and what they received."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .choices import (
    COUNTRY_CODES,
    CURRENCY_CODES,
    DEFAULT_TIME_ZONE,
    MAX_TIER,
    STAFF_ROLES,
    WRITER_ROLES,
    Classification,
    ContactRole,
    Language,
    NDAStatus,
    Role,
    SupplierStatus,
)
from .validators import validate_business_date, validate_time_zone

# The largest money amount accepted: 15 significant digits. PostgreSQL stores
# numeric(16, 2) exactly, but SQLite (the embedded default) keeps decimals as floats and
# Django reads them back to 15 digits, so a larger amount would silently lose cents there.
MAX_MONEY_AMOUNT = Decimal("9999999999999.99")


class Supplier(models.Model):
    """A company the buyer shares confidential material with, directly (tier 1) or through
    the supplier that engaged it (`parent`). The parent chain never loops (a database
    trigger refuses cycles) and `tier` is 1 + the depth of that chain."""

    name = models.CharField(max_length=200, verbose_name=_("name"))
    # The registered name in the company's own language and script (北京模塑科技有限公司
    # beside Beijing Molding Technology Co. Ltd), shown beside `name` where it is known.
    local_name = models.CharField(
        max_length=200, blank=True, default="", db_default="", verbose_name=_("local name")
    )
    country = models.CharField(
        max_length=2, help_text=_("ISO 3166-1 alpha-2 code, e.g. CN."), verbose_name=_("country")
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subvendors",
        help_text=_("The supplier that engaged this one; empty for a tier-1 supplier."),
        verbose_name=_("parent"),
    )
    tier = models.PositiveSmallIntegerField(default=1, editable=False, verbose_name=_("tier"))
    status = models.CharField(
        max_length=16,
        choices=SupplierStatus.choices,
        default=SupplierStatus.ACTIVE,
        verbose_name=_("status"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="supplier_name_unique_ci",
                violation_error_message=_("A supplier with this name already exists."),
            ),
            models.CheckConstraint(
                condition=Q(country__in=sorted(COUNTRY_CODES)),
                name="supplier_country_iso3166",
                violation_error_message=_("Country must be an ISO 3166-1 alpha-2 code."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=SupplierStatus.values),
                name="supplier_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")),
                name="supplier_not_own_parent",
                violation_error_message=_("A supplier cannot be its own parent."),
            ),
            models.CheckConstraint(
                condition=Q(tier__gte=1, tier__lte=MAX_TIER)
                & (Q(parent__isnull=True, tier=1) | Q(parent__isnull=False, tier__gt=1)),
                name="supplier_tier_matches_parent",
                violation_error_message=_("Tier must be 1 without a parent and above 1 with one."),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="supplier_status_idx"),
            # By name: the pickers, and lists of other rows sorted by their supplier's name
            # (a million disclosures read supplier by supplier instead of sorted).
            models.Index(fields=["name"], name="supplier_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def ancestors(self) -> list[Supplier]:
        """The chain of parents, nearest first."""
        chain: list[Supplier] = []
        node = self.parent
        while node is not None and len(chain) < MAX_TIER:
            chain.append(node)
            node = node.parent
        return chain


class WrittenToInOwnLanguage(models.Model):
    """Someone the product writes to, in its own language and with instants in its own
    time zone (DESIGN section 11): a person with an account, a supplier's contact.
    Database defaults too, so that bulk writers naming their columns (seed_scale, old
    migrations' states in tests) still insert valid rows."""

    language = models.CharField(
        max_length=8,
        choices=Language.choices,
        default=Language.ENGLISH,
        db_default=Language.ENGLISH,
        verbose_name=_("language"),
    )
    time_zone = models.CharField(
        max_length=64,
        default=DEFAULT_TIME_ZONE,
        db_default=DEFAULT_TIME_ZONE,
        validators=[validate_time_zone],
        help_text=_("IANA time zone name, e.g. Asia/Shanghai."),
        verbose_name=_("time zone"),
    )

    class Meta:
        abstract = True


class BreachUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        # `createsuperuser` makes an admin of the tracker, not an auditor.
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser, WrittenToInOwnLanguage):
    """A person using the tracker: buyer staff (admin, compliance, auditor) or a supplier
    user who belongs to exactly one supplier and sees only its world."""

    role = models.CharField(
        max_length=16, choices=Role.choices, default=Role.AUDITOR, verbose_name=_("role")
    )
    supplier = models.ForeignKey(
        Supplier,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name=_("supplier"),
    )
    objects = BreachUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="user_role_valid"),
            models.CheckConstraint(
                condition=Q(language__in=Language.values), name="user_language_valid"
            ),
            models.CheckConstraint(
                condition=(Q(role=Role.SUPPLIER) & Q(supplier__isnull=False))
                | (~Q(role=Role.SUPPLIER) & Q(supplier__isnull=True)),
                name="user_supplier_iff_supplier_role",
                violation_error_message=_("Supplier users need a supplier; staff have none."),
            ),
        ]

    def __str__(self) -> str:
        return self.get_username()

    @property
    def is_supplier_user(self) -> bool:
        return self.role == Role.SUPPLIER

    @property
    def is_buyer_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def can_write(self) -> bool:
        """Admins and compliance staff create and change records (WRITERS for a query)."""
        return self.is_active and self.role in WRITER_ROLES


# The active admins and compliance staff, as a filter (User.can_write for one user).
WRITERS = Q(is_active=True, role__in=sorted(WRITER_ROLES))


class ApiToken(models.Model):
    """An API token (`Authorization: Token <key>`): a user may hold several, one per
    integration, each expiring. Only the key's SHA-256 is kept; the key is shown once,
    when issued (suppliers.tokens)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    digest = models.CharField(max_length=64, unique=True, verbose_name=_("digest"))
    prefix = models.CharField(max_length=8, verbose_name=_("prefix"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_created")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class Contact(WrittenToInOwnLanguage, models.Model):
    """A person at a supplier the buyer talks to; those who receive reminders are chased
    when the supplier's rectification runs late."""

    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("supplier")
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    email = models.EmailField(verbose_name=_("email"))
    role = models.CharField(
        max_length=16,
        choices=ContactRole.choices,
        default=ContactRole.OTHER,
        verbose_name=_("role"),
    )
    receives_reminders = models.BooleanField(default=False, verbose_name=_("receives reminders"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                "supplier", Lower("email"), name="contact_email_unique_per_supplier"
            ),
            models.CheckConstraint(
                condition=Q(language__in=Language.values), name="contact_language_valid"
            ),
            models.CheckConstraint(
                condition=Q(role__in=ContactRole.values), name="contact_role_valid"
            ),
            models.CheckConstraint(condition=~Q(email=""), name="contact_email_not_empty"),
        ]
        indexes = [
            models.Index(
                fields=["supplier"],
                condition=Q(receives_reminders=True),
                name="contact_reminder_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class NDA(models.Model):
    """A signed confidentiality agreement: liquidated damages per breach, whether the
    supplier answers for its sub-vendors, and how many days it has to submit a
    rectification plan once a breach is confirmed."""

    reference = models.CharField(max_length=64, unique=True, verbose_name=_("reference"))
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="ndas", verbose_name=_("supplier")
    )
    signed_on = models.DateField(validators=[validate_business_date], verbose_name=_("signed on"))
    effective_from = models.DateField(
        validators=[validate_business_date], verbose_name=_("effective from")
    )
    expires_on = models.DateField(
        null=True, blank=True, validators=[validate_business_date], verbose_name=_("expires on")
    )
    covers_subvendors = models.BooleanField(
        default=False,
        help_text=_("The supplier answers for leaks by its downstream."),
        verbose_name=_("covers subvendors"),
    )
    flow_down_required = models.BooleanField(
        default=False,
        help_text=_("The supplier must bind its sub-vendors in writing."),
        verbose_name=_("flow down required"),
    )
    penalty_amount = models.DecimalField(
        max_digits=16, decimal_places=2, verbose_name=_("penalty amount")
    )
    penalty_currency = models.CharField(
        max_length=3, default="CNY", verbose_name=_("penalty currency")
    )
    rectification_days = models.PositiveSmallIntegerField(
        default=30, verbose_name=_("rectification days")
    )
    clause_text = models.TextField(
        blank=True,
        default="",
        db_default="",
        help_text=_("The confidentiality and penalty clauses, as signed."),
        verbose_name=_("clause text"),
    )
    # The signed document, checked like incident evidence (config.uploads) and served
    # only as an attachment under a generated name.
    signed_document = models.FileField(
        upload_to="ndas/%Y/%m/",
        blank=True,
        default="",
        db_default="",
        verbose_name=_("signed document"),
    )
    signed_document_name = models.CharField(
        max_length=255,
        blank=True,
        default="",
        db_default="",
        verbose_name=_("signed document name"),
    )
    signed_document_type = models.CharField(
        max_length=100,
        blank=True,
        default="",
        db_default="",
        verbose_name=_("signed document type"),
    )
    signed_document_size = models.PositiveBigIntegerField(
        null=True, blank=True, verbose_name=_("signed document size")
    )
    signed_document_sha256 = models.CharField(
        max_length=64,
        blank=True,
        default="",
        db_default="",
        verbose_name=_("signed document SHA-256"),
    )
    # Ended early by the parties (suppliers.services.nda_terminate): from this day on the
    # NDA binds nobody, whatever its expiry said.
    terminated_on = models.DateField(
        null=True, blank=True, validators=[validate_business_date], verbose_name=_("terminated on")
    )
    termination_reason = models.TextField(
        blank=True, default="", db_default="", verbose_name=_("termination reason")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("NDA")
        verbose_name_plural = _("NDAs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(penalty_amount__gt=0),
                name="nda_penalty_amount_positive",
                violation_error_message=_("The penalty amount must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(penalty_amount__lte=MAX_MONEY_AMOUNT),
                name="nda_penalty_amount_max",
                violation_error_message=_("The penalty amount is too large."),
            ),
            models.CheckConstraint(
                condition=Q(penalty_currency__in=sorted(CURRENCY_CODES)),
                name="nda_penalty_currency_iso4217",
                violation_error_message=_("Currency must be an ISO 4217 code."),
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=models.F("effective_from")),
                name="nda_expires_after_effective",
                violation_error_message=_("An NDA must expire after it becomes effective."),
            ),
            models.CheckConstraint(
                condition=Q(rectification_days__gte=1, rectification_days__lte=365),
                name="nda_rectification_days_range",
                violation_error_message=_("Rectification days must be between 1 and 365."),
            ),
            models.CheckConstraint(condition=~Q(reference=""), name="nda_reference_not_empty"),
            models.CheckConstraint(
                condition=Q(terminated_on__isnull=True)
                | (Q(terminated_on__gte=models.F("effective_from")) & ~Q(termination_reason="")),
                name="nda_termination_dated_and_reasoned",
                violation_error_message=_(
                    "A termination needs a reason and a date on or after the effective date."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["supplier", "effective_from"], name="nda_supplier_effective_idx")
        ]

    def __str__(self) -> str:
        return self.reference

    def is_active_on(self, day: date) -> bool:
        return (
            self.effective_from <= day
            and (self.expires_on is None or day < self.expires_on)
            and (self.terminated_on is None or day < self.terminated_on)
        )

    def status_on(self, day: date) -> NDAStatus:
        if self.terminated_on is not None and day >= self.terminated_on:
            return NDAStatus.TERMINATED
        if day < self.effective_from:
            return NDAStatus.NOT_YET_EFFECTIVE
        if self.expires_on is not None and day >= self.expires_on:
            return NDAStatus.EXPIRED
        return NDAStatus.ACTIVE

    @property
    def status(self) -> NDAStatus:
        return self.status_on(timezone.localdate())


class ConfidentialAsset(models.Model):
    """A confidential item the buyer hands over, e.g. the MS11 front bumper drafts."""

    code = models.CharField(
        max_length=64, unique=True, help_text=_("e.g. MS11-BUMPER-FR"), verbose_name=_("code")
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    project = models.CharField(max_length=100, blank=True, verbose_name=_("project"))
    classification = models.CharField(
        max_length=16,
        choices=Classification.choices,
        default=Classification.CONFIDENTIAL,
        verbose_name=_("classification"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("confidential asset")
        verbose_name_plural = _("confidential assets")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="asset_code_not_empty"),
            models.CheckConstraint(
                condition=Q(classification__in=Classification.values),
                name="asset_classification_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.code


def new_fingerprint() -> str:
    """An unguessable token to embed as a watermark in what is handed over."""
    return secrets.token_hex(16)


class Disclosure(models.Model):
    """One hand-over of a confidential asset to a supplier, under an NDA (or, a coverage
    gap, under none), watermarked with a fingerprint that traces a leaked copy back."""

    asset = models.ForeignKey(
        ConfidentialAsset,
        on_delete=models.PROTECT,
        related_name="disclosures",
        verbose_name=_("asset"),
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="disclosures", verbose_name=_("supplier")
    )
    nda = models.ForeignKey(
        NDA,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disclosures",
        verbose_name=_("NDA"),
    )
    disclosed_on = models.DateField(
        validators=[validate_business_date], verbose_name=_("disclosed on")
    )
    version = models.CharField(max_length=32, blank=True, verbose_name=_("version"))
    fingerprint = models.CharField(
        max_length=64,
        unique=True,
        default=new_fingerprint,
        editable=False,
        verbose_name=_("fingerprint"),
    )
    # Revoked (recorded in error, or withdrawn) is a mark, never a deletion: the row, its
    # fingerprint and its history stay, shown as revoked with the reason.
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    revoked_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revocation_reason = models.TextField(
        blank=True, default="", db_default="", verbose_name=_("revocation reason")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    # Corrections and the revocation are kept with who made them and why (the timeline).
    history = HistoricalRecords(excluded_fields=["fingerprint"])

    class Meta:
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fingerprint__regex=r"^[0-9a-f]{32,64}$"),
                name="disclosure_fingerprint_format",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revocation_reason=""),
                name="disclosure_revocation_reasoned",
                violation_error_message=_("A revocation needs a reason."),
            ),
        ]
        indexes = [
            models.Index(fields=["asset", "supplier"], name="disclosure_asset_supplier_idx"),
            # The API's newest first, the page's latest hand-overs first and its sorts, read
            # along these: without them each first page sorted every disclosure.
            models.Index(fields=["created_at", "id"], name="disclosure_created_idx"),
            models.Index(fields=["disclosed_on", "id"], name="disclosure_disclosed_idx"),
            models.Index(fields=["version", "id"], name="disclosure_version_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.asset.code} to {self.supplier.name} on {self.disclosed_on}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
