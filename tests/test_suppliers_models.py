"""Every constraint of the suppliers models, refused AT THE DATABASE: rows are written
with `objects.create` / `.update()`, bypassing Python validation."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suppliers.choices import COUNTRY_CODES, CURRENCY_CODES, MAX_TIER, Role
from suppliers.models import (
    MAX_MONEY_AMOUNT,
    NDA,
    ConfidentialAsset,
    Contact,
    Disclosure,
    Supplier,
    User,
)

from .dbchecks import db_settings, db_text, refused, rolled_back
from .factories import AssetFactory, DisclosureFactory, NDAFactory, SupplierFactory

pytestmark = pytest.mark.django_db


# --- Supplier --------------------------------------------------------------------------


def test_supplier_name_is_unique_case_insensitively():
    Supplier.objects.create(name="Beijing Molding Technology Co. Ltd", country="CN")
    refused(
        lambda: Supplier.objects.create(name="BEIJING molding technology co. ltd", country="CN")
    )
    Supplier.objects.create(name="Beijing Molding Technology Co. Ltd 2", country="CN")


@pytest.mark.parametrize("country", ["XX", "cn", "", "CHN", "C", "ZZ"])
def test_supplier_country_must_be_iso_3166(country):
    refused(lambda: Supplier.objects.create(name="Bad country", country=country))


@db_settings
@given(country=db_text(3))
def test_supplier_country_random_strings(country):
    if country in COUNTRY_CODES:
        with rolled_back():
            Supplier.objects.create(name="Random country", country=country)
    else:
        refused(lambda: Supplier.objects.create(name="Random country", country=country))


@db_settings
@given(country=st.sampled_from(sorted(COUNTRY_CODES)))
def test_supplier_every_iso_country_is_accepted(country):
    with rolled_back():
        Supplier.objects.create(name="Valid country", country=country)


def test_supplier_status_must_be_a_known_status():
    refused(lambda: Supplier.objects.create(name="S", country="CN", status="bankrupt"))


def test_supplier_cannot_be_its_own_parent():
    supplier = SupplierFactory()
    refused(lambda: Supplier.objects.filter(pk=supplier.pk).update(parent=supplier, tier=2))
    supplier.refresh_from_db()
    assert supplier.parent is None


def test_supplier_two_cycle_is_refused():
    a = SupplierFactory()
    b = SupplierFactory(parent=a)
    # Tier would be consistent (b.tier + 1), so only the loop check can refuse it.
    refused(lambda: Supplier.objects.filter(pk=a.pk).update(parent=b, tier=b.tier + 1))


def test_supplier_three_cycle_via_update_is_refused():
    a = SupplierFactory()
    b = SupplierFactory(parent=a)
    c = SupplierFactory(parent=b)
    refused(lambda: Supplier.objects.filter(pk=a.pk).update(parent=c, tier=c.tier + 1))
    a.refresh_from_db()
    assert (a.parent, a.tier) == (None, 1)


def test_supplier_tier_must_follow_the_parent():
    root = SupplierFactory()
    refused(lambda: Supplier.objects.create(name="Wrong tier", country="CN", parent=root, tier=5))
    refused(lambda: Supplier.objects.create(name="Tier 1 with parent", country="CN", parent=root))
    refused(lambda: Supplier.objects.create(name="Tier 2 no parent", country="CN", tier=2))


def test_supplier_chain_deeper_than_max_tier_is_refused():
    node = SupplierFactory()
    for _ in range(MAX_TIER - 1):
        node = SupplierFactory(parent=node)
    assert node.tier == MAX_TIER
    refused(
        lambda: Supplier.objects.create(
            name="Too deep", country="CN", parent=node, tier=MAX_TIER + 1
        )
    )


def test_supplier_moving_under_a_deep_chain_is_refused():
    node = SupplierFactory()
    for _ in range(MAX_TIER - 1):
        node = SupplierFactory(parent=node)
    other = SupplierFactory()
    refused(lambda: Supplier.objects.filter(pk=other.pk).update(parent=node, tier=MAX_TIER + 1))


def test_supplier_ancestors_are_nearest_first():
    a = SupplierFactory()
    b = SupplierFactory(parent=a)
    c = SupplierFactory(parent=b)
    assert c.ancestors() == [b, a]
    assert a.ancestors() == []


# --- Users and contacts ----------------------------------------------------------------


def test_supplier_user_needs_a_supplier_and_staff_have_none():
    supplier = SupplierFactory()
    refused(lambda: User.objects.create(username="s1", role=Role.SUPPLIER))
    refused(lambda: User.objects.create(username="s2", role=Role.AUDITOR, supplier=supplier))
    refused(lambda: User.objects.create(username="s3", role="owner"))
    User.objects.create(username="s4", role=Role.SUPPLIER, supplier=supplier)


def test_contact_email_unique_per_supplier_case_insensitively():
    supplier = SupplierFactory()
    Contact.objects.create(supplier=supplier, name="A", email="a@x.example")
    refused(lambda: Contact.objects.create(supplier=supplier, name="B", email="A@X.example"))
    Contact.objects.create(supplier=SupplierFactory(), name="A", email="a@x.example")


def test_contact_email_and_role_checked():
    supplier = SupplierFactory()
    refused(lambda: Contact.objects.create(supplier=supplier, name="A", email=""))
    refused(lambda: Contact.objects.create(supplier=supplier, name="A", email="a@x", role="boss"))


# --- NDA -------------------------------------------------------------------------------


def _nda(**overrides) -> NDA:
    fields = {
        "reference": "NDA-TEST",
        "supplier": overrides.pop("supplier", None) or SupplierFactory(),
        "signed_on": date(2024, 1, 1),
        "effective_from": date(2024, 1, 1),
        "expires_on": date(2025, 1, 1),
        "penalty_amount": Decimal("1000.00"),
        "penalty_currency": "CNY",
    }
    fields.update(overrides)
    return NDA.objects.create(**fields)


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-0.01"), Decimal("-1000000")])
def test_nda_penalty_amount_must_be_positive(amount):
    refused(lambda: _nda(penalty_amount=amount))


def test_nda_penalty_amount_is_capped_where_it_stays_exact_on_sqlite():
    refused(lambda: _nda(penalty_amount=MAX_MONEY_AMOUNT + Decimal("0.01")))
    nda = _nda(penalty_amount=MAX_MONEY_AMOUNT)
    assert NDA.objects.get(pk=nda.pk).penalty_amount == MAX_MONEY_AMOUNT


def test_nda_smallest_positive_amount_is_accepted():
    assert _nda(penalty_amount=Decimal("0.01")).pk


@pytest.mark.parametrize("currency", ["", "cny", "XYZ", "RMB", "US", "EURO"])
def test_nda_currency_must_be_iso_4217(currency):
    refused(lambda: _nda(penalty_currency=currency))


@db_settings
@given(currency=db_text(4))
def test_nda_currency_random_strings(currency):
    supplier = Supplier.objects.get_or_create(name="Currency probe", country="CN")[0]
    if currency in CURRENCY_CODES:
        with rolled_back():
            _nda(penalty_currency=currency, supplier=supplier)
    else:
        refused(lambda: _nda(penalty_currency=currency, supplier=supplier))


@pytest.mark.parametrize("expires_on", [date(2024, 1, 1), date(2023, 12, 31)])
def test_nda_must_expire_after_it_becomes_effective(expires_on):
    refused(lambda: _nda(effective_from=date(2024, 1, 1), expires_on=expires_on))


def test_nda_without_expiry_is_accepted():
    assert _nda(expires_on=None).pk


def test_nda_expiry_moved_before_effective_by_update_is_refused():
    nda = _nda()
    refused(lambda: NDA.objects.filter(pk=nda.pk).update(expires_on=date(2023, 6, 1)))


@pytest.mark.parametrize("days", [0, 366, 1000])
def test_nda_rectification_days_range(days):
    refused(lambda: _nda(rectification_days=days))


def test_nda_reference_unique_and_not_empty():
    _nda(reference="NDA-XM-2024-017")
    refused(lambda: _nda(reference="NDA-XM-2024-017"))
    refused(lambda: _nda(reference=""))


def test_nda_status_is_derived_from_dates():
    nda = NDAFactory.build(effective_from=date(2024, 3, 1), expires_on=date(2027, 3, 1))
    assert nda.status_on(date(2024, 2, 29)) == "not_yet_effective"
    assert nda.status_on(date(2024, 3, 1)) == "active"
    assert nda.status_on(date(2027, 2, 28)) == "active"
    assert nda.status_on(date(2027, 3, 1)) == "expired"
    assert nda.is_active_on(date(2025, 1, 22))
    assert not nda.is_active_on(date(2027, 3, 1))


# --- Assets and disclosures ------------------------------------------------------------


def test_asset_code_unique_and_not_empty():
    ConfidentialAsset.objects.create(code="MS11-BUMPER-FR", name="Front bumper")
    refused(lambda: ConfidentialAsset.objects.create(code="MS11-BUMPER-FR", name="Again"))
    refused(lambda: ConfidentialAsset.objects.create(code="", name="No code"))
    refused(lambda: ConfidentialAsset.objects.create(code="X", name="X", classification="top"))


def test_disclosure_fingerprint_unique_and_well_formed():
    first = DisclosureFactory()
    asset, supplier = AssetFactory(), SupplierFactory()

    def disclose(fingerprint):
        return Disclosure.objects.create(
            asset=asset, supplier=supplier, disclosed_on=date(2024, 6, 1), fingerprint=fingerprint
        )

    refused(lambda: disclose(first.fingerprint))
    refused(lambda: disclose("not-a-hex-token"))
    refused(lambda: disclose("ABCDEF" * 6))
    refused(lambda: disclose("abc"))


def test_disclosure_fingerprints_are_fresh_and_unguessable():
    fingerprints = {DisclosureFactory().fingerprint for _ in range(20)}
    assert len(fingerprints) == 20
    assert all(len(f) == 32 and int(f, 16) >= 0 for f in fingerprints)
