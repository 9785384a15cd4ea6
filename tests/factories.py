"""factory_boy factories for every model. They build valid rows directly (for test
setup); behaviour under test goes through the services."""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from breaches import choices as bc
from breaches.models import (
    Incident,
    IncidentEvent,
    Payment,
    Penalty,
    RectificationAction,
    RectificationPlan,
    Reminder,
)
from suppliers import choices as sc
from suppliers.models import NDA, ConfidentialAsset, Contact, Disclosure, Supplier, User


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    name = factory.Sequence(lambda n: f"Supplier {n} Co. Ltd")
    country = "CN"
    parent = None
    tier = factory.LazyAttribute(lambda o: o.parent.tier + 1 if o.parent else 1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    role = sc.Role.COMPLIANCE
    supplier = None
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    supplier = factory.SubFactory(SupplierFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@supplier.example")
    role = sc.ContactRole.SECURITY
    receives_reminders = True


class NDAFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NDA

    reference = factory.Sequence(lambda n: f"NDA-{n:05d}")
    supplier = factory.SubFactory(SupplierFactory)
    signed_on = date(2024, 1, 1)
    effective_from = date(2024, 1, 1)
    expires_on = date(2027, 1, 1)
    covers_subvendors = True
    flow_down_required = True
    penalty_amount = Decimal("1000000.00")
    penalty_currency = "CNY"
    rectification_days = 30


class AssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConfidentialAsset

    code = factory.Sequence(lambda n: f"MS11-PART-{n:04d}")
    name = factory.Sequence(lambda n: f"Part drawing {n}")
    project = "MS11"
    classification = sc.Classification.SECRET


class DisclosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Disclosure

    asset = factory.SubFactory(AssetFactory)
    supplier = factory.SubFactory(SupplierFactory)
    nda = None
    disclosed_on = date(2024, 6, 1)
    version = "v1"


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    reference = factory.Sequence(lambda n: f"INC-2025-{n + 1:04d}")
    title = factory.Sequence(lambda n: f"Leak {n}")
    occurred_on = date(2025, 1, 22)
    discovered_on = date(2025, 1, 22)
    channel = bc.Channel.SOCIAL_MEDIA
    severity = bc.Severity.HIGH
    source_supplier = None
    responsible_supplier = None
    nda = None


class PenaltyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Penalty

    incident = factory.SubFactory(IncidentFactory)
    supplier = factory.SubFactory(SupplierFactory)
    amount = Decimal("1000000.00")
    currency = "CNY"
    proposed_on = date(2025, 2, 1)


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RectificationPlan

    incident = factory.SubFactory(IncidentFactory)
    supplier = factory.SubFactory(SupplierFactory)
    requested_on = factory.LazyFunction(timezone.localdate)
    due_on = factory.LazyAttribute(lambda o: o.requested_on + timedelta(days=30))
    summary = ""


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RectificationAction

    plan = factory.SubFactory(PlanFactory)
    description = factory.Sequence(lambda n: f"Security measure {n}")
    owner = "IT security lead"
    created_on = factory.LazyAttribute(lambda o: o.plan.requested_on)
    due_on = factory.LazyAttribute(lambda o: o.plan.due_on)


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    penalty = factory.SubFactory(PenaltyFactory)
    amount = Decimal("100.00")
    paid_on = date(2025, 3, 1)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentEvent

    incident = factory.SubFactory(IncidentFactory)
    kind = bc.EventKind.NOTE
    message = "note"


class ReminderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reminder

    target_type = bc.ReminderTargetType.PLAN
    plan = factory.SubFactory(PlanFactory)
    kind = bc.ReminderKind.OVERDUE
    level = 1
    due_on = factory.LazyAttribute(lambda o: o.plan.due_on)
    schedule_point = 1


# --- The seed case's parties (DESIGN section 1), for fixtures and built worlds alike ------


def seed_tier1() -> Supplier:
    return SupplierFactory(name="Beijing Molding Technology Co. Ltd", country="CN")


def seed_subvendor(tier1: Supplier) -> Supplier:
    return SupplierFactory(name="Hebei Precision Mould Studio", country="CN", parent=tier1)


def seed_tier1_nda(tier1: Supplier) -> NDA:
    return NDAFactory(
        reference="NDA-XM-2024-017",
        supplier=tier1,
        effective_from=date(2024, 3, 1),
        signed_on=date(2024, 2, 20),
        expires_on=date(2027, 3, 1),
        covers_subvendors=True,
        flow_down_required=True,
    )


def seed_bumper_asset() -> ConfidentialAsset:
    return AssetFactory(code="MS11-BUMPER-FR", name="MS11 front bumper drafts", project="MS11")


def seed_other_supplier() -> Supplier:
    return SupplierFactory(name="Unrelated Glass Works", country="DE")
