"""Pickers of rows a buyer has thousands of (suppliers, assets, NDAs) write the first of
them and the chosen ones into a page, and name the API list the page's script searches
for the rest (config.widgets.LookupSelect). With 20,000 suppliers every staff list page
carried all of them in its filter form: 1.3 MB of HTML."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from breaches.forms import IncidentForm, LiabilityForm
from config import widgets
from suppliers.choices import Role
from suppliers.filtersets import ASSET_LOOKUP, NDA_LOOKUP, SUPPLIER_LOOKUP
from suppliers.forms import InviteForm
from tests.factories import AssetFactory, NDAFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture
def few_rows(monkeypatch):
    monkeypatch.setattr(widgets, "LOOKUP_ROWS", LIMIT)


@pytest.fixture
def suppliers():
    """Six suppliers, created out of name order: the picker offers them by name."""
    return [SupplierFactory(name=f"Works {letter}") for letter in "FEDCBA"][::-1]


def _select(html: str, name: str) -> tuple[str, list[tuple[str, str, bool]]]:
    """The select's opening tag and its options (value, label, selected)."""
    match = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert match, f"no select named {name}"
    tag = match.group(0).split(">", 1)[0]
    options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', match.group(1))
    return tag, [(value, label, bool(chosen)) for value, chosen, label in options]


@pytest.mark.parametrize(
    "page",
    [
        "breaches:incident-list",
        "breaches:penalty-list",
        "breaches:plan-list",
        "breaches:deadline-list",
        "suppliers:contact-list",
        "suppliers:nda-list",
        "suppliers:disclosure-list",
        "suppliers:user-list",
    ],
)
def test_a_list_pages_supplier_filter_writes_the_first_rows_and_the_chosen_one(
    client, compliance_user, few_rows, suppliers, page
):
    chosen = suppliers[-1]  # "Works F", past the first three
    client.force_login(compliance_user)
    response = client.get(reverse(page), {"supplier": chosen.pk})
    assert response.status_code == 200
    tag, options = _select(response.content.decode(), "supplier")
    assert [(label, selected) for _value, label, selected in options] == [
        ("Any", False),
        ("Works A", False),
        ("Works B", False),
        ("Works C", False),
        ("Works F", True),
    ]
    assert (
        f'data-lookup="{reverse("supplier-list")}?ordering=name&amp;page_size=50&amp;name="' in tag
    )
    assert 'data-lookup-text="{name}"' in tag


def test_below_the_limit_every_row_is_written_and_nothing_is_searched(
    client, compliance_user, few_rows
):
    for name in ("Works B", "Works A"):
        SupplierFactory(name=name)
    client.force_login(compliance_user)
    response = client.get(reverse("breaches:incident-list"))
    tag, options = _select(response.content.decode(), "supplier")
    assert [label for _value, label, _selected in options] == ["Any", "Works A", "Works B"]
    assert "data-lookup" not in tag
    assert "data-searchable" in tag  # the page's script filters the rows it has


@pytest.mark.parametrize("value", ["Works F", "99999999999999999999999", "\uff11", "-1"])
def test_a_filter_value_that_is_not_an_id_is_refused_by_the_filter_not_the_picker(
    client, compliance_user, few_rows, suppliers, value
):
    client.force_login(compliance_user)
    response = client.get(reverse("breaches:incident-list"), {"supplier": value})
    assert response.status_code == 200
    _tag, options = _select(response.content.decode(), "supplier")
    assert not any(selected for _value, _label, selected in options)


def test_the_pickers_lookup_finds_by_name_or_local_name_in_name_order(
    client, compliance_user, suppliers
):
    """What the page's script asks (by the person's session): suppliers whose name or
    local name holds every typed word, by name; not those whose parent's name does."""
    SupplierFactory(name="Works G", local_name="北京模塑科技有限公司")
    SupplierFactory(name="Tianjin Trim", parent=suppliers[0])  # "Works A" is its parent
    client.force_login(compliance_user)
    url = SUPPLIER_LOOKUP.url()
    found = client.get(url + "works", HTTP_ACCEPT="application/json")
    assert found.status_code == 200
    names = [row["name"] for row in found.json()["results"]]
    assert names == ["Works A", "Works B", "Works C", "Works D", "Works E", "Works F", "Works G"]
    local = client.get(url + "北京模塑").json()["results"]
    assert [row["name"] for row in local] == ["Works G"]
    assert client.get(url + "works f").json()["results"][0]["name"] == "Works F"


def test_the_pickers_lookup_finds_only_the_persons_own_world(
    client, supplier_user, tier1, subvendor, suppliers
):
    client.force_login(supplier_user)
    url = SUPPLIER_LOOKUP.url()
    assert client.get(url + "works").json()["results"] == []
    own = client.get(url + subvendor.name.split()[0]).json()["results"]
    assert subvendor.pk in [row["id"] for row in own]


def test_the_ndas_and_assets_lookups_answer_in_the_order_the_page_offers(client, compliance_user):
    for n in (3, 1, 2):
        NDAFactory(reference=f"NDA-{n}", clause_text="NDA-9 is not this one")
        AssetFactory(code=f"MS11-PART-{n}")
    client.force_login(compliance_user)
    ndas = client.get(NDA_LOOKUP.url() + "NDA").json()["results"]
    assert [row["reference"] for row in ndas] == ["NDA-1", "NDA-2", "NDA-3"]
    assert client.get(NDA_LOOKUP.url() + "NDA-9").json()["results"] == []
    assets = client.get(ASSET_LOOKUP.url() + "ms11").json()["results"]
    assert [row["code"] for row in assets] == ["MS11-PART-1", "MS11-PART-2", "MS11-PART-3"]


def test_a_form_offers_the_first_rows_and_keeps_the_chosen_one(
    compliance_user, few_rows, suppliers
):
    chosen = suppliers[-1]
    form = IncidentForm(user=compliance_user, initial={"source_supplier": chosen.pk})
    tag, options = _select(str(form["source_supplier"]), "source_supplier")
    assert [(label, selected) for _value, label, selected in options] == [
        ("Unknown", False),
        ("Works A", False),
        ("Works B", False),
        ("Works C", False),
        ("Works F", True),
    ]
    assert f'data-lookup="{reverse("supplier-list")}?' in tag


def test_a_form_accepts_a_row_the_page_did_not_write(compliance_user, few_rows, suppliers):
    """The rows searched for come from the same scope the form validates against."""
    chosen = suppliers[-1]
    form = InviteForm(
        {"role": Role.SUPPLIER, "supplier": chosen.pk, "username": "li", "email": "li@example.com"},
        user=compliance_user,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["supplier"] == chosen
    again = InviteForm(
        {"role": Role.SUPPLIER, "supplier": "999999", "username": "li", "email": "li@example.com"},
        user=compliance_user,
    )
    assert not again.is_valid()
    assert "supplier" in again.errors
    assert "999999" not in str(again["supplier"])  # a row nobody may pick is not written


def test_several_chosen_assets_stay_chosen_past_the_first_rows(compliance_user, few_rows):
    assets = [AssetFactory(code=f"MS11-PART-{n}") for n in range(6)]
    form = IncidentForm(user=compliance_user, initial={"assets": [assets[4].pk, assets[5].pk]})
    tag, options = _select(str(form["assets"]), "assets")
    assert " multiple" in tag
    assert (
        f'data-lookup="{reverse("asset-list")}?ordering=code&amp;page_size=50&amp;search="' in tag
    )
    assert [(label, selected) for _value, label, selected in options] == [
        ("MS11-PART-0", False),
        ("MS11-PART-1", False),
        ("MS11-PART-2", False),
        ("MS11-PART-4", True),
        ("MS11-PART-5", True),
    ]


def test_an_ndas_search_results_are_labelled_as_the_page_labels_them(compliance_user, few_rows):
    ndas = [NDAFactory(reference=f"NDA-{n}") for n in range(5)]
    tag, options = _select(str(LiabilityForm(user=compliance_user)["nda"]), "nda")
    assert 'data-lookup-text="{reference} ({supplier_name})"' in tag
    assert options[1][1] == f"NDA-0 ({ndas[0].supplier.name})"


def test_a_page_with_thousands_of_suppliers_stays_small(client, compliance_user):
    """At the real limit: the filter form writes LOOKUP_ROWS suppliers, not all of them."""
    SupplierFactory.create_batch(widgets.LOOKUP_ROWS + 50)
    client.force_login(compliance_user)
    response = client.get(reverse("breaches:incident-list"))
    _tag, options = _select(response.content.decode(), "supplier")
    assert len(options) == widgets.LOOKUP_ROWS + 1  # and "Any"


def test_a_supplier_user_sees_no_lookup_for_its_small_world(client, tier1, subvendor):
    user = UserFactory(username="bmt", role=Role.SUPPLIER, supplier=tier1)
    client.force_login(user)
    response = client.get(reverse("breaches:incident-list"))
    tag, options = _select(response.content.decode(), "supplier")
    assert "data-lookup" not in tag
    assert {label for _value, label, _selected in options} == {"Any", tier1.name, subvendor.name}
