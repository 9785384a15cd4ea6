"""Services of the suppliers app: tier and cycle rules, normalisation, permissions,
refusals that change nothing."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from config.exceptions import Conflict
from suppliers import services
from suppliers.choices import MAX_TIER, Role
from suppliers.models import NDA, Disclosure, Supplier, User

from .factories import AssetFactory, ContactFactory, NDAFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_supplier_create_derives_tier_and_normalises(compliance_user):
    tier1 = services.supplier_create(actor=compliance_user, name="  Acme Tooling ", country="cn")
    sub = services.supplier_create(actor=compliance_user, name="Sub", country="de", parent=tier1)
    subsub = services.supplier_create(
        actor=compliance_user, name="SubSub", country="FR", parent=sub
    )
    assert (tier1.name, tier1.country, tier1.tier) == ("Acme Tooling", "CN", 1)
    assert (sub.tier, subsub.tier) == (2, 3)


def test_supplier_create_refuses_a_duplicate_name_case_insensitively(compliance_user):
    services.supplier_create(actor=compliance_user, name="Acme", country="CN")
    with pytest.raises(ValidationError):
        services.supplier_create(actor=compliance_user, name="ACME", country="CN")
    assert Supplier.objects.count() == 1


@pytest.mark.parametrize("country", ["XX", "", "CHN"])
def test_supplier_create_refuses_bad_country(compliance_user, country):
    with pytest.raises(ValidationError):
        services.supplier_create(actor=compliance_user, name="Bad", country=country)
    assert not Supplier.objects.exists()


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SUPPLIER])
def test_only_writers_create_suppliers(role, tier1):
    actor = UserFactory(role=role, supplier=tier1 if role == Role.SUPPLIER else None)
    with pytest.raises(PermissionDenied):
        services.supplier_create(actor=actor, name="New", country="CN")
    assert Supplier.objects.count() == 1


def test_inactive_writer_is_refused(compliance_user):
    compliance_user.is_active = False
    with pytest.raises(PermissionDenied):
        services.supplier_create(actor=compliance_user, name="New", country="CN")


def test_supplier_update_refuses_self_parent_and_cycles(compliance_user):
    a = services.supplier_create(actor=compliance_user, name="A", country="CN")
    b = services.supplier_create(actor=compliance_user, name="B", country="CN", parent=a)
    c = services.supplier_create(actor=compliance_user, name="C", country="CN", parent=b)
    for parent in (a, b, c):
        with pytest.raises(ValidationError) as excinfo:
            services.supplier_update(actor=compliance_user, supplier=a, parent=parent)
        assert "parent" in excinfo.value.message_dict
    a.refresh_from_db()
    assert (a.parent, a.tier) == (None, 1)


def test_supplier_update_moves_and_retiers_the_subtree(compliance_user):
    a = services.supplier_create(actor=compliance_user, name="A", country="CN")
    b = services.supplier_create(actor=compliance_user, name="B", country="CN", parent=a)
    c = services.supplier_create(actor=compliance_user, name="C", country="CN", parent=b)
    x = services.supplier_create(actor=compliance_user, name="X", country="CN")
    services.supplier_update(actor=compliance_user, supplier=b, parent=x)
    services.supplier_update(actor=compliance_user, supplier=x, parent=a)
    tiers = dict(Supplier.objects.values_list("name", "tier"))
    assert tiers == {"A": 1, "X": 2, "B": 3, "C": 4}
    services.supplier_update(actor=compliance_user, supplier=x, parent=None)
    c.refresh_from_db()
    assert c.tier == 3


def test_supplier_update_refuses_a_chain_too_deep(compliance_user):
    node = services.supplier_create(actor=compliance_user, name="T1", country="CN")
    for tier in range(2, MAX_TIER + 1):
        node = services.supplier_create(
            actor=compliance_user, name=f"T{tier}", country="CN", parent=node
        )
    with pytest.raises(ValidationError):
        services.supplier_create(actor=compliance_user, name="Deep", country="CN", parent=node)
    # Moving a two-level subtree under tier 9 would push its leaf to tier 11.
    top = services.supplier_create(actor=compliance_user, name="Top", country="CN")
    services.supplier_create(actor=compliance_user, name="Leaf", country="CN", parent=top)
    nine = Supplier.objects.get(name=f"T{MAX_TIER - 1}")
    with pytest.raises(ValidationError):
        services.supplier_update(actor=compliance_user, supplier=top, parent=nine)
    assert Supplier.objects.get(name="Leaf").tier == 2
    assert Supplier.objects.get(name="Top").parent is None


def test_supplier_update_refuses_unknown_fields(compliance_user, tier1):
    with pytest.raises(ValidationError):
        services.supplier_update(actor=compliance_user, supplier=tier1, tier=5)
    tier1.refresh_from_db()
    assert tier1.tier == 1


def test_supplier_delete_with_history_is_a_conflict(compliance_user, tier1, subvendor):
    with pytest.raises(Conflict):
        services.supplier_delete(actor=compliance_user, supplier=tier1)
    lonely = SupplierFactory()
    ContactFactory(supplier=lonely)
    services.supplier_delete(actor=compliance_user, supplier=lonely)
    assert not Supplier.objects.filter(pk=lonely.pk).exists()


def test_nda_create_normalises_and_validates(compliance_user, tier1):
    nda = services.nda_create(
        actor=compliance_user,
        reference=" NDA-1 ",
        supplier=tier1,
        signed_on=date(2024, 1, 1),
        effective_from=date(2024, 1, 1),
        penalty_amount=Decimal("10.00"),
        penalty_currency="eur",
    )
    assert (nda.reference, nda.penalty_currency, nda.rectification_days) == ("NDA-1", "EUR", 30)
    bad = {
        "penalty_amount": Decimal("0"),
        "penalty_currency": "XYZ",
        "expires_on": date(2023, 1, 1),
        "rectification_days": 0,
    }
    for field, value in bad.items():
        kwargs = {
            "reference": f"NDA-{field}",
            "supplier": tier1,
            "signed_on": date(2024, 1, 1),
            "effective_from": date(2024, 1, 1),
            "penalty_amount": Decimal("10.00"),
            field: value,
        }
        with pytest.raises(ValidationError):
            services.nda_create(actor=compliance_user, **kwargs)
    assert NDA.objects.count() == 1


def test_nda_delete_refused_once_used(compliance_user, tier1_nda, bumper_disclosure):
    with pytest.raises(Conflict):
        services.nda_delete(actor=compliance_user, nda=tier1_nda)


def test_disclosure_nda_must_be_the_recipients_or_an_ancestors(
    compliance_user, tier1, subvendor, tier1_nda, other_supplier
):
    asset = AssetFactory()
    d = services.disclosure_create(
        actor=compliance_user,
        asset=asset,
        supplier=subvendor,
        nda=tier1_nda,
        disclosed_on=date(2024, 6, 1),
    )
    assert len(d.fingerprint) == 32
    with pytest.raises(ValidationError):
        services.disclosure_create(
            actor=compliance_user,
            asset=asset,
            supplier=other_supplier,
            nda=tier1_nda,
            disclosed_on=date(2024, 6, 1),
        )
    assert Disclosure.objects.count() == 1


def test_asset_code_is_normalised_and_unique(compliance_user):
    services.asset_create(actor=compliance_user, code=" ms11-bumper-fr ", name="Front")
    with pytest.raises(ValidationError):
        services.asset_create(actor=compliance_user, code="MS11-BUMPER-FR", name="Again")


def test_user_create_and_deactivate_ends_tokens(admin_user, tier1):
    from rest_framework.authtoken.models import Token

    user = services.user_create(
        actor=admin_user,
        username="bmt",
        password="a-long-demo-passphrase",
        role=Role.SUPPLIER,
        supplier=tier1,
    )
    assert user.check_password("a-long-demo-passphrase")
    Token.objects.create(user=user)
    services.user_deactivate(actor=admin_user, user=user)
    user.refresh_from_db()
    assert not user.is_active
    assert not Token.objects.filter(user=user).exists()


def test_user_create_refuses_weak_password_and_non_admins(admin_user, compliance_user):
    with pytest.raises(ValidationError):
        services.user_create(actor=admin_user, username="weak", password="123", role=Role.AUDITOR)
    with pytest.raises(PermissionDenied):
        services.user_create(
            actor=compliance_user, username="x", password="a-long-demo-passphrase", role="auditor"
        )
    with pytest.raises(ValidationError):
        services.user_create(actor=admin_user, username="nosup", password=None, role="supplier")
    assert not User.objects.filter(username__in=["weak", "x", "nosup"]).exists()


def test_compliance_managers_group_is_created_once():
    group = services.compliance_managers_group()
    assert services.compliance_managers_group() == group
    assert group.name == "compliance managers"


def test_supplier_parent_tier_matches_the_service_rule(tier1, subvendor):
    assert services.supplier_parent_tier(SupplierFactory.build(), subvendor) == 3
    with pytest.raises(ValidationError):
        services.supplier_parent_tier(tier1, subvendor)


def test_nda_factory_defaults_are_valid():
    NDAFactory().full_clean()
