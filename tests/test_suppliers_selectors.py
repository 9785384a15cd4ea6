"""The rules that are reads: liability, leak tracing (suspects, fingerprint match), NDA
coverage gaps, and what each user may see."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from breaches.selectors import (
    incidents_visible_to,
)
from suppliers.choices import Role
from suppliers.selectors import (
    coverage_gaps,
    disclosure_by_fingerprint,
    disclosures_visible_to,
    incident_suspects,
    ndas_visible_to,
    resolve_liability,
    suppliers_visible_to,
)

from .dbchecks import db_settings
from .factories import (
    AssetFactory,
    DisclosureFactory,
    IncidentFactory,
    NDAFactory,
    SupplierFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LEAK_DAY = date(2025, 1, 22)


def _nda(supplier, *, covers=False, flow_down=False, start=date(2024, 1, 1), end=None, **kw):
    return NDAFactory(
        supplier=supplier,
        covers_subvendors=covers,
        flow_down_required=flow_down,
        effective_from=start,
        signed_on=start,
        expires_on=end,
        **kw,
    )


# --- Liability rule --------------------------------------------------------------------


def test_own_nda_makes_the_source_liable():
    source = SupplierFactory()
    own = _nda(source, covers=False)
    liability = resolve_liability(source, on=LEAK_DAY)
    assert (liability.responsible_supplier, liability.nda) == (source, own)


def test_seed_case_ancestor_nda_covering_subvendors(tier1, subvendor, tier1_nda):
    liability = resolve_liability(subvendor, on=LEAK_DAY)
    assert (liability.responsible_supplier, liability.nda) == (tier1, tier1_nda)


def test_ancestor_nda_not_covering_subvendors_gives_no_coverage():
    parent = SupplierFactory()
    _nda(parent, covers=False, flow_down=True)
    child = SupplierFactory(parent=parent)
    assert resolve_liability(child, on=LEAK_DAY) is None
    assert resolve_liability(parent, on=LEAK_DAY).responsible_supplier == parent


def test_expired_nda_does_not_count():
    parent = SupplierFactory()
    _nda(parent, covers=True, end=LEAK_DAY)  # expires on the leak day: no longer active
    child = SupplierFactory(parent=parent)
    assert resolve_liability(child, on=LEAK_DAY) is None
    assert resolve_liability(child, on=date(2025, 1, 21)).responsible_supplier == parent


def test_expired_own_nda_falls_back_to_the_covering_ancestor():
    parent = SupplierFactory()
    parent_nda = _nda(parent, covers=True)
    child = SupplierFactory(parent=parent)
    _nda(child, start=date(2023, 1, 1), end=date(2024, 12, 31))
    liability = resolve_liability(child, on=LEAK_DAY)
    assert (liability.responsible_supplier, liability.nda) == (parent, parent_nda)


def test_not_yet_effective_nda_does_not_count():
    source = SupplierFactory()
    _nda(source, start=date(2025, 1, 23))
    assert resolve_liability(source, on=LEAK_DAY) is None
    assert resolve_liability(source, on=date(2025, 1, 23)).responsible_supplier == source


def test_nearest_party_wins():
    tier1 = SupplierFactory()
    _nda(tier1, covers=True)
    tier2 = SupplierFactory(parent=tier1)
    tier2_nda = _nda(tier2, covers=True)
    tier3 = SupplierFactory(parent=tier2)
    liability = resolve_liability(tier3, on=LEAK_DAY)
    assert (liability.responsible_supplier, liability.nda) == (tier2, tier2_nda)
    own = _nda(tier3)
    assert resolve_liability(tier3, on=LEAK_DAY).nda == own


def test_grandparent_covering_reaches_two_levels_down_past_a_non_covering_parent():
    tier1 = SupplierFactory()
    tier1_nda = _nda(tier1, covers=True)
    tier2 = SupplierFactory(parent=tier1)
    _nda(tier2, covers=False)  # does not reach its sub-vendors
    tier3 = SupplierFactory(parent=tier2)
    liability = resolve_liability(tier3, on=LEAK_DAY)
    assert (liability.responsible_supplier, liability.nda) == (tier1, tier1_nda)


def test_most_recently_effective_of_several_active_ndas_wins():
    source = SupplierFactory()
    _nda(source, start=date(2023, 1, 1))
    newer = _nda(source, start=date(2024, 6, 1))
    assert resolve_liability(source, on=LEAK_DAY).nda == newer


def test_no_coverage_at_all():
    source = SupplierFactory(parent=SupplierFactory())
    assert resolve_liability(source, on=LEAK_DAY) is None
    assert resolve_liability(None, on=LEAK_DAY) is None


@db_settings
@given(
    depth=st.integers(min_value=0, max_value=4),
    ndas=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=4),  # level holding it
            st.booleans(),  # covers sub-vendors
            st.integers(min_value=-400, max_value=400),  # effective, days from the leak
            st.one_of(st.none(), st.integers(min_value=1, max_value=800)),  # length
        ),
        max_size=5,
    ),
)
def test_liability_rule_property(depth, ndas):
    """Whatever the NDAs, the answer is the nearest party whose active NDA reaches the
    source, exactly as the rule of DESIGN section 3 reads."""
    from datetime import timedelta

    from django.db import transaction

    with transaction.atomic():
        chain = [SupplierFactory()]
        for _ in range(depth):
            chain.insert(0, SupplierFactory(parent=chain[0]))
        # chain[0] is the source, chain[-1] the tier-1.
        made = []
        for level, covers, start, length in ndas:
            holder = chain[min(level, depth)]
            effective = LEAK_DAY + timedelta(days=start)
            expires = effective + timedelta(days=length) if length else None
            made.append(_nda(holder, covers=covers, start=effective, end=expires))
        expected = None
        for distance, supplier in enumerate(chain):
            reaching = [
                n
                for n in made
                if n.supplier == supplier
                and n.is_active_on(LEAK_DAY)
                and (distance == 0 or n.covers_subvendors)
            ]
            if reaching:
                expected = (supplier, max(reaching, key=lambda n: (n.effective_from, n.pk)))
                break
        liability = resolve_liability(chain[0], on=LEAK_DAY)
        got = liability and (liability.responsible_supplier, liability.nda)
        assert got == expected
        transaction.set_rollback(True)


# --- Leak tracing ----------------------------------------------------------------------


@pytest.fixture
def traced(tier1, subvendor, tier1_nda, bumper_asset, bumper_disclosure):
    to_tier1 = DisclosureFactory(
        asset=bumper_asset, supplier=tier1, nda=tier1_nda, disclosed_on=date(2024, 10, 15)
    )
    rear = AssetFactory(code="MS11-BUMPER-RR")
    elsewhere = DisclosureFactory(asset=rear, supplier=SupplierFactory(), disclosed_on=LEAK_DAY)
    incident = IncidentFactory(source_supplier=subvendor)
    incident.assets.set([bumper_asset])
    return {
        "incident": incident,
        "to_sub": bumper_disclosure,
        "to_tier1": to_tier1,
        "other_asset": elsewhere,
    }


def test_suspects_are_the_recipients_of_the_leaked_assets(traced, tier1, subvendor):
    suspects = incident_suspects(traced["incident"])
    assert {s.disclosure for s in suspects} == {traced["to_sub"], traced["to_tier1"]}
    # Without a fingerprint, the source's own disclosure comes first.
    assert suspects[0].disclosure == traced["to_sub"]
    assert not any(s.fingerprint_match for s in suspects)
    by_recipient = {s.recipient: s for s in suspects}
    assert by_recipient[subvendor].chain == [subvendor, tier1]
    assert by_recipient[subvendor].liability.responsible_supplier == tier1
    assert by_recipient[tier1].chain == [tier1]


def test_fingerprint_match_is_the_prime_suspect(traced, tier1):
    fingerprint = traced["to_tier1"].fingerprint
    suspects = incident_suspects(traced["incident"], fingerprint=f"  {fingerprint.upper()} ")
    assert suspects[0].disclosure == traced["to_tier1"]
    assert suspects[0].fingerprint_match
    assert [s.fingerprint_match for s in suspects[1:]] == [False]
    assert suspects[0].liability.responsible_supplier == tier1


def test_reported_leak_fingerprint_is_used_by_default(traced):
    incident = traced["incident"]
    incident.leak_fingerprint = traced["to_tier1"].fingerprint
    incident.save()
    assert incident_suspects(incident)[0].disclosure == traced["to_tier1"]


def test_fingerprint_of_an_unlinked_asset_is_listed_but_never_prime_suspect(traced):
    """Issue 17: a fingerprint of an asset the incident does not name was made the prime
    suspect; it is listed, said so, and comes after the leaked assets' recipients."""
    other = traced["other_asset"]
    suspects = incident_suspects(traced["incident"], fingerprint=other.fingerprint)
    assert len(suspects) == 3
    assert suspects[-1].disclosure == other
    assert suspects[-1].fingerprint_match
    assert not suspects[-1].asset_named
    assert not any(s.prime for s in suspects)


def test_unknown_fingerprint_matches_nothing(traced):
    suspects = incident_suspects(traced["incident"], fingerprint="f" * 32)
    assert len(suspects) == 2
    assert not any(s.fingerprint_match for s in suspects)
    assert disclosure_by_fingerprint("f" * 32) is None
    found = disclosure_by_fingerprint(traced["to_sub"].fingerprint.upper())
    assert found == traced["to_sub"]


# --- Coverage gaps ---------------------------------------------------------------------


def _gaps(**kw) -> set[tuple[str, str]]:
    return {(g.supplier.name, g.reason) for g in coverage_gaps(as_of=LEAK_DAY, **kw)}


def test_seed_case_subvendor_lacks_flow_down_but_is_reached(bumper_disclosure, subvendor):
    # The parent's NDA covers it, so no "no_nda_reach"; but flow-down is required.
    assert _gaps() == {(subvendor.name, "flow_down_missing")}
    gap = coverage_gaps(as_of=LEAK_DAY)[0]
    assert gap.parent_nda.reference == "NDA-XM-2024-017"


def test_disclosure_to_a_subvendor_no_nda_reaches_is_a_gap():
    parent = SupplierFactory()
    _nda(parent, covers=False, flow_down=False)
    child = SupplierFactory(parent=parent)
    disclosure = DisclosureFactory(supplier=child, disclosed_on=date(2024, 6, 1))
    gaps = coverage_gaps(as_of=LEAK_DAY)
    assert [(g.supplier, g.reason, g.disclosure) for g in gaps] == [
        (child, "no_nda_reach", disclosure)
    ]


def test_disclosure_before_the_covering_nda_took_effect_is_a_gap():
    parent = SupplierFactory()
    _nda(parent, covers=True, start=date(2024, 7, 1))
    child = SupplierFactory(parent=parent)
    DisclosureFactory(supplier=child, disclosed_on=date(2024, 6, 30))
    DisclosureFactory(supplier=child, disclosed_on=date(2024, 7, 1))
    gaps = coverage_gaps(as_of=LEAK_DAY)
    assert [(g.reason, g.disclosure.disclosed_on) for g in gaps] == [
        ("no_nda_reach", date(2024, 6, 30))
    ]


def test_subvendor_with_its_own_nda_is_no_gap():
    parent = SupplierFactory()
    _nda(parent, covers=False, flow_down=True)
    child = SupplierFactory(parent=parent)
    _nda(child)
    DisclosureFactory(supplier=child, disclosed_on=date(2024, 6, 1))
    assert _gaps() == set()


def test_flow_down_only_when_the_parent_requires_it_and_its_nda_is_active():
    parent = SupplierFactory(name="Parent")
    nda = _nda(parent, covers=True, flow_down=False)
    SupplierFactory(name="Child", parent=parent)
    assert _gaps() == set()
    nda.flow_down_required = True
    nda.save()
    assert _gaps() == {("Child", "flow_down_missing")}
    nda.expires_on = date(2025, 1, 1)
    nda.save()
    assert _gaps() == set(), "an expired parent NDA requires nothing any more"


def test_tier1_suppliers_are_never_gaps():
    tier1 = SupplierFactory()
    DisclosureFactory(supplier=tier1)
    assert _gaps() == set()


def test_gaps_can_be_limited_to_some_suppliers():
    parent = SupplierFactory()
    _nda(parent, covers=False, flow_down=True)
    a = SupplierFactory(name="A", parent=parent)
    SupplierFactory(name="B", parent=parent)
    assert _gaps() == {("A", "flow_down_missing"), ("B", "flow_down_missing")}
    from suppliers.models import Supplier

    assert _gaps(suppliers=Supplier.objects.filter(pk=a.pk)) == {("A", "flow_down_missing")}


# --- Scoping ---------------------------------------------------------------------------


def test_supplier_user_sees_its_world_and_nothing_else(
    tier1, subvendor, tier1_nda, bumper_disclosure, other_supplier, supplier_user
):
    sub_user = UserFactory(role=Role.SUPPLIER, supplier=subvendor)
    staff = UserFactory(role=Role.AUDITOR)
    _nda(other_supplier)
    assert set(suppliers_visible_to(supplier_user)) == {tier1, subvendor}
    assert set(suppliers_visible_to(sub_user)) == {subvendor}
    assert set(ndas_visible_to(supplier_user)) == {tier1_nda}
    assert set(ndas_visible_to(sub_user)) == set(), "a sub-vendor never sees its parent's NDA"
    assert set(disclosures_visible_to(sub_user)) == {bumper_disclosure}
    assert suppliers_visible_to(staff).count() == 3
    leak = IncidentFactory(source_supplier=subvendor, responsible_supplier=tier1, nda=tier1_nda)
    IncidentFactory(source_supplier=other_supplier)
    assert set(incidents_visible_to(supplier_user)) == {leak}
    assert set(incidents_visible_to(sub_user)) == {leak}
    assert incidents_visible_to(staff).count() == 2
