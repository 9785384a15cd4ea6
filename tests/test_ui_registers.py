"""The registers in the browser (through the test client): contacts, NDAs, assets and
disclosures; lists that filter, search, sort and count within bounds; who may see and do
what; refusals that say why and change nothing."""

from datetime import date, timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from suppliers import services
from suppliers.choices import NDAStatus
from suppliers.models import NDA, Contact, Disclosure
from suppliers.selectors import resolve_liability
from tests.factories import (
    AssetFactory,
    ContactFactory,
    DisclosureFactory,
    NDAFactory,
    SupplierFactory,
)
from tests.sqlaudit import unbounded_counts

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def body(response) -> str:
    return response.content.decode()


# --- Contacts --------------------------------------------------------------------------


def test_compliance_adds_a_contact_that_receives_reminders(client, compliance_user, tier1):
    client.force_login(compliance_user)
    page = client.get(reverse("suppliers:contact-create") + f"?supplier={tier1.pk}")
    assert page.status_code == 200
    response = client.post(
        reverse("suppliers:contact-create") + f"?supplier={tier1.pk}",
        {
            "supplier": tier1.pk,
            "name": "Li Wei",
            "email": "li.wei@bmt.example",
            "role": "security",
            "receives_reminders": "on",
            "back": "supplier",
        },
    )
    assert response.status_code == 302, body(response)
    assert response.url == reverse("suppliers:detail", args=[tier1.pk])
    contact = Contact.objects.get()
    assert (contact.supplier, contact.receives_reminders) == (tier1, True)
    detail = client.get(response.url)
    assert "li.wei@bmt.example" in body(detail)
    assert "Receives reminders" in body(detail)


def test_a_duplicate_contact_email_is_refused_next_to_the_field(client, compliance_user, tier1):
    ContactFactory(supplier=tier1, email="li@bmt.example")
    client.force_login(compliance_user)
    response = client.post(
        reverse("suppliers:contact-create"),
        {"supplier": tier1.pk, "name": "Li", "email": "LI@bmt.example", "role": "other"},
    )
    assert response.status_code == 400
    assert "already has a contact with this email" in body(response)
    assert Contact.objects.count() == 1


def test_contact_edit_and_delete(client, compliance_user, tier1):
    contact = ContactFactory(supplier=tier1, receives_reminders=True)
    client.force_login(compliance_user)
    response = client.post(
        reverse("suppliers:contact-edit", args=[contact.pk]),
        {"supplier": tier1.pk, "name": "New name", "email": contact.email, "role": "legal"},
    )
    assert response.status_code == 302, body(response)
    contact.refresh_from_db()
    assert (contact.name, contact.role, contact.receives_reminders) == (
        "New name",
        "legal",
        False,
    )
    confirm = client.get(reverse("suppliers:contact-delete", args=[contact.pk]))
    assert confirm.status_code == 200
    assert "Remove" in body(confirm)
    assert Contact.objects.filter(pk=contact.pk).exists()  # a GET deletes nothing
    client.post(reverse("suppliers:contact-delete", args=[contact.pk]))
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_contact_list_filters_searches_and_sorts(client, auditor_user, tier1, other_supplier):
    ContactFactory(supplier=tier1, name="Zhang San", email="zs@a.example", receives_reminders=True)
    ContactFactory(supplier=tier1, name="Anna Li", email="al@a.example", receives_reminders=False)
    ContactFactory(supplier=other_supplier, name="Bert", email="b@b.example")
    client.force_login(auditor_user)
    url = reverse("suppliers:contact-list")
    everything = body(client.get(url))
    assert all(name in everything for name in ("Zhang San", "Anna Li", "Bert"))
    assert "3 found" in everything
    by_supplier = body(client.get(url, {"supplier": tier1.pk, "receives_reminders": "true"}))
    assert "Zhang San" in by_supplier
    assert "Anna Li" not in by_supplier
    assert "Bert" not in body(client.get(url, {"search": "zhang"}))
    ascending = body(client.get(url, {"sort": "name"}))
    assert ascending.index("Anna Li") < ascending.index("Bert") < ascending.index("Zhang San")
    descending = body(client.get(url, {"sort": "-name"}))
    assert descending.index("Zhang San") < descending.index("Anna Li")
    assert 'aria-sort="descending"' in descending
    # An unknown sort falls back to the default order, never a 500.
    assert client.get(url, {"sort": "password"}).status_code == 200
    # Bad filter input is a page with the error, not a 500.
    assert client.get(url, {"supplier": "abc"}).status_code == 200


def test_supplier_user_sees_its_world_contacts_read_only(
    client, supplier_user, tier1, subvendor, other_supplier
):
    mine = ContactFactory(supplier=subvendor, name="Sub Person")
    ContactFactory(supplier=other_supplier, name="Foreign Person")
    client.force_login(supplier_user)
    page = body(client.get(reverse("suppliers:contact-list")))
    assert "Sub Person" in page
    assert "Foreign Person" not in page
    assert reverse("suppliers:contact-create") not in page
    assert client.get(reverse("suppliers:contact-create")).status_code == 403
    assert client.post(reverse("suppliers:contact-delete", args=[mine.pk])).status_code == 403
    assert Contact.objects.filter(pk=mine.pk).exists()


def test_auditor_cannot_change_contacts(client, auditor_user, tier1):
    contact = ContactFactory(supplier=tier1)
    client.force_login(auditor_user)
    response = client.post(
        reverse("suppliers:contact-edit", args=[contact.pk]),
        {"supplier": tier1.pk, "name": "Hacked", "email": contact.email, "role": "other"},
    )
    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.name != "Hacked"


# --- NDAs ------------------------------------------------------------------------------


def _nda_post(supplier, **overrides):
    data = {
        "supplier": supplier.pk,
        "reference": "NDA-NEW-1",
        "signed_on": "2025-01-10",
        "effective_from": "2025-02-01",
        "expires_on": "2028-02-01",
        "covers_subvendors": "on",
        "penalty_amount": "500000.00",
        "penalty_currency": "CNY",
        "rectification_days": "30",
        "clause_text": "Clause 7: liquidated damages of 500,000 CNY per breach.",
    }
    data.update(overrides)
    return data


def test_nda_created_with_signed_document_and_clause_text(client, compliance_user, tier1):
    client.force_login(compliance_user)
    data = _nda_post(tier1)
    data["signed_document"] = SimpleUploadedFile("signed.pdf", PDF, "application/pdf")
    response = client.post(reverse("suppliers:nda-new"), data)
    assert response.status_code == 302, body(response)
    nda = NDA.objects.get(reference="NDA-NEW-1")
    assert response.url == reverse("suppliers:nda-detail", args=[nda.pk])
    assert (nda.signed_document_name, nda.signed_document_type) == ("signed.pdf", "application/pdf")
    detail = body(client.get(response.url))
    assert "Clause 7: liquidated damages" in detail
    assert "signed.pdf" in detail
    download = client.get(reverse("suppliers:nda-document", args=[nda.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Content-Type"] == "application/octet-stream"
    assert b"".join(download.streaming_content) == PDF


def test_an_html_signed_document_is_refused_like_evidence(client, compliance_user, tier1):
    client.force_login(compliance_user)
    data = _nda_post(tier1)
    data["signed_document"] = SimpleUploadedFile(
        "nda.pdf", b"<html><script>alert(1)</script></html>", "application/pdf"
    )
    response = client.post(reverse("suppliers:nda-new"), data)
    assert response.status_code == 400
    assert "markup" in body(response)
    assert not NDA.objects.filter(reference="NDA-NEW-1").exists()


def test_nda_terminated_with_date_and_reason(client, compliance_user, tier1_nda, subvendor):
    client.force_login(compliance_user)
    url = reverse("suppliers:nda-terminate", args=[tier1_nda.pk])
    refused = client.post(url, {"terminated_on": "2024-01-01", "reason": "Contract ended"})
    assert refused.status_code == 400
    assert "took effect on 2024-03-01" in body(refused)
    tier1_nda.refresh_from_db()
    assert tier1_nda.terminated_on is None
    response = client.post(url, {"terminated_on": "2025-06-30", "reason": "Supplier replaced"})
    assert response.status_code == 302, body(response)
    tier1_nda.refresh_from_db()
    assert tier1_nda.terminated_on == date(2025, 6, 30)
    assert tier1_nda.status_on(date(2025, 7, 1)) == NDAStatus.TERMINATED
    assert tier1_nda.status_on(date(2025, 6, 29)) == NDAStatus.ACTIVE
    # The liability rule stops counting it from that day.
    assert resolve_liability(subvendor, on=date(2025, 7, 1)) is None
    assert resolve_liability(subvendor, on=date(2025, 6, 1)).nda == tier1_nda
    detail = body(client.get(reverse("suppliers:nda-detail", args=[tier1_nda.pk])))
    assert "Terminated as of 2025-06-30" in detail
    assert "Supplier replaced" in detail
    again = client.post(url, {"terminated_on": "2025-07-30", "reason": "Twice"}, follow=True)
    assert "already terminated" in body(again)


def test_nda_list_filters_by_status_and_supplier(client, auditor_user, tier1, other_supplier):
    today = date.today()
    NDAFactory(reference="NDA-ACTIVE", supplier=tier1, effective_from=today - timedelta(days=9))
    NDAFactory(
        reference="NDA-ENDED",
        supplier=other_supplier,
        effective_from=today - timedelta(days=90),
        terminated_on=today - timedelta(days=3),
        termination_reason="Replaced",
    )
    client.force_login(auditor_user)
    url = reverse("suppliers:nda-list")
    terminated = body(client.get(url, {"status": "terminated"}))
    assert "NDA-ENDED" in terminated
    assert "NDA-ACTIVE" not in terminated
    active = body(client.get(url, {"status": "active"}))
    assert "NDA-ACTIVE" in active
    assert "NDA-ENDED" not in active
    assert "NDA-ENDED" not in body(client.get(url, {"supplier": tier1.pk}))
    assert "NDA-ACTIVE" in body(client.get(url, {"search": "active"}))
    assert "[invalid name]" not in terminated
    descending = body(client.get(url, {"sort": "-reference"}))
    assert descending.index("NDA-ENDED") < descending.index("NDA-ACTIVE")
    ascending = body(client.get(url, {"sort": "reference"}))
    assert ascending.index("NDA-ACTIVE") < ascending.index("NDA-ENDED")


def test_nda_edit_keeps_a_history_of_field_changes(client, compliance_user, tier1_nda):
    client.force_login(compliance_user)
    data = _nda_post(tier1_nda.supplier, reference=tier1_nda.reference)
    data.update(
        signed_on="2024-02-20",
        effective_from="2024-03-01",
        expires_on="2027-03-01",
        penalty_amount="750000.00",
    )
    response = client.post(reverse("suppliers:nda-edit", args=[tier1_nda.pk]), data)
    assert response.status_code == 302, body(response)
    detail = body(client.get(reverse("suppliers:nda-detail", args=[tier1_nda.pk])))
    assert "Penalty amount" in detail
    assert "750000.00" in detail


def test_subvendor_user_does_not_see_the_parent_nda(client, subvendor, tier1_nda):
    from tests.factories import UserFactory

    sub_user = UserFactory(username="sub-user", role="supplier", supplier=subvendor)
    client.force_login(sub_user)
    assert client.get(reverse("suppliers:nda-detail", args=[tier1_nda.pk])).status_code == 404
    assert tier1_nda.reference not in body(client.get(reverse("suppliers:nda-list")))
    assert client.get(reverse("suppliers:nda-document", args=[tier1_nda.pk])).status_code == 404


# --- Assets and disclosures ------------------------------------------------------------


def test_asset_list_detail_and_edit(client, compliance_user, bumper_disclosure):
    asset = bumper_disclosure.asset
    client.force_login(compliance_user)
    listing = body(client.get(reverse("suppliers:asset-list"), {"search": "bumper"}))
    assert asset.code in listing
    detail = body(client.get(reverse("suppliers:asset-detail", args=[asset.pk])))
    assert bumper_disclosure.supplier.name in detail
    assert bumper_disclosure.fingerprint in detail
    response = client.post(
        reverse("suppliers:asset-edit", args=[asset.pk]),
        {
            "code": asset.code,
            "name": "Renamed drafts",
            "project": "MS11",
            "classification": "secret",
        },
    )
    assert response.status_code == 302, body(response)
    asset.refresh_from_db()
    assert asset.name == "Renamed drafts"


def test_disclosure_before_the_nda_took_effect_is_refused_with_why(
    client, compliance_user, subvendor, tier1_nda, bumper_asset
):
    client.force_login(compliance_user)
    response = client.post(
        reverse("suppliers:disclosure-create", args=[subvendor.pk]),
        {"asset": bumper_asset.pk, "nda": tier1_nda.pk, "disclosed_on": "2024-01-15"},
    )
    assert response.status_code == 400
    text = body(response)
    assert "took effect on 2024-03-01" in text
    assert "coverage gap" in text
    assert not Disclosure.objects.exists()


def test_disclosure_corrected_then_revoked_stays_visible_with_history(
    client, compliance_user, bumper_disclosure
):
    client.force_login(compliance_user)
    edit = reverse("suppliers:disclosure-edit", args=[bumper_disclosure.pk])
    no_reason = client.post(
        edit,
        {
            "asset": bumper_disclosure.asset_id,
            "nda": bumper_disclosure.nda_id,
            "disclosed_on": "2024-11-06",
            "version": "v2",
        },
    )
    assert no_reason.status_code == 400
    response = client.post(
        edit,
        {
            "asset": bumper_disclosure.asset_id,
            "nda": bumper_disclosure.nda_id,
            "disclosed_on": "2024-11-06",
            "version": "v2",
            "reason": "Date typed wrong",
        },
    )
    assert response.status_code == 302, body(response)
    revoke = client.post(
        reverse("suppliers:disclosure-revoke", args=[bumper_disclosure.pk]),
        {"reason": "Recorded against the wrong batch"},
    )
    assert revoke.status_code == 302
    bumper_disclosure.refresh_from_db()
    assert bumper_disclosure.is_revoked
    assert bumper_disclosure.revoked_by == compliance_user
    detail = body(client.get(reverse("suppliers:disclosure-detail", args=[bumper_disclosure.pk])))
    assert "Date typed wrong" in detail
    assert "Recorded against the wrong batch" in detail
    assert "2024-11-05" in detail
    assert "2024-11-06" in detail
    listing = body(client.get(reverse("suppliers:disclosure-list")))
    assert "Revoked" in listing
    assert bumper_disclosure.asset.code in listing
    again = client.post(edit, {"reason": "x"}, follow=True)
    assert "was revoked" in body(again)


def test_supplier_users_never_see_fingerprints_or_the_parents_nda(
    client, subvendor, tier1_nda, bumper_disclosure
):
    from tests.factories import UserFactory

    sub_user = UserFactory(username="sub-user", role="supplier", supplier=subvendor)
    services.disclosure_update(
        actor=UserFactory(role="compliance"),
        disclosure=bumper_disclosure,
        version="v9",
        reason="typo",
    )
    client.force_login(sub_user)
    for url in (
        reverse("suppliers:disclosure-list"),
        reverse("suppliers:disclosure-detail", args=[bumper_disclosure.pk]),
        reverse("suppliers:asset-detail", args=[bumper_disclosure.asset_id]),
    ):
        page = body(client.get(url))
        assert bumper_disclosure.asset.code in page, url
        assert bumper_disclosure.fingerprint not in page, url
        assert tier1_nda.reference not in page, url
        assert "Fingerprint" not in page, url
    # Nor can it tell a fingerprint apart through the filter.
    filtered = body(
        client.get(
            reverse("suppliers:disclosure-list"), {"fingerprint": bumper_disclosure.fingerprint}
        )
    )
    assert "No disclosure matches" in filtered


def test_auditor_reads_registers_but_changes_nothing(client, auditor_user, bumper_disclosure):
    client.force_login(auditor_user)
    nda = bumper_disclosure.nda
    for url in (
        reverse("suppliers:nda-list"),
        reverse("suppliers:nda-detail", args=[nda.pk]),
        reverse("suppliers:asset-list"),
        reverse("suppliers:disclosure-list"),
        reverse("suppliers:disclosure-detail", args=[bumper_disclosure.pk]),
        reverse("suppliers:contact-list"),
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "Terminate NDA" not in body(page)
        assert "Revoke disclosure" not in body(page)
    assert client.get(reverse("suppliers:nda-new")).status_code == 403
    revoke = client.post(
        reverse("suppliers:disclosure-revoke", args=[bumper_disclosure.pk]), {"reason": "x"}
    )
    assert revoke.status_code == 403
    bumper_disclosure.refresh_from_db()
    assert not bumper_disclosure.is_revoked


# --- Pickers ---------------------------------------------------------------------------


def test_supplier_list_sorts_and_counts(client, auditor_user, tier1, subvendor, other_supplier):
    client.force_login(auditor_user)
    url = reverse("suppliers:list")
    by_country = body(client.get(url, {"sort": "-country"}))
    assert by_country.index(other_supplier.name) < by_country.index(tier1.name)  # DE, then CN
    by_tier = body(client.get(url, {"sort": "-tier"}))
    assert by_tier.index(subvendor.name) < by_tier.index(tier1.name)
    assert "3 found" in by_tier


def test_country_and_currency_pickers_name_each_code(client, compliance_user, tier1):
    client.force_login(compliance_user)
    supplier_form = body(client.get(reverse("suppliers:create")))
    assert '<option value="CN">CN — China</option>' in supplier_form
    assert supplier_form.index("AF — Afghanistan") < supplier_form.index("CN — China")
    assert "data-searchable" in supplier_form
    nda_form = body(client.get(reverse("suppliers:nda-new")))
    assert "CNY — Yuan Renminbi" in nda_form
    assert "USD — US Dollar" in nda_form


# --- Constant queries per page ---------------------------------------------------------


def _fill(n: int, tier1):
    asset = AssetFactory()
    for i in range(n):
        supplier = SupplierFactory(parent=tier1)
        ContactFactory(supplier=supplier)
        nda = NDAFactory(supplier=supplier)
        DisclosureFactory(asset=asset, supplier=supplier, nda=nda)
        AssetFactory()
        from tests.factories import UserFactory

        UserFactory(role="supplier", supplier=supplier, username=f"s{n}-{i}")


@pytest.mark.parametrize(
    "route",
    [
        "suppliers:list",
        "suppliers:contact-list",
        "suppliers:nda-list",
        "suppliers:asset-list",
        "suppliers:disclosure-list",
        "suppliers:user-list",
    ],
)
@pytest.mark.parametrize("role", ["compliance_user", "supplier_user"])
def test_lists_read_a_constant_number_of_queries(
    client, request, django_assert_num_queries, tier1, route, role
):
    user = request.getfixturevalue(role)
    if role == "supplier_user" and route == "suppliers:user-list":
        pytest.skip("supplier users manage no accounts")
    client.force_login(user)
    url = reverse(route)
    _fill(3, tier1)
    client.get(url)  # warm the session and caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _fill(22, tier1)
    with django_assert_num_queries(len(few)) as many:
        assert client.get(url).status_code == 200
    assert not unbounded_counts(many.captured_queries)


# --- The same acts through the API -----------------------------------------------------


def test_api_terminates_an_nda_and_revokes_a_disclosure(
    client, compliance_user, auditor_user, bumper_disclosure
):
    nda = bumper_disclosure.nda
    client.force_login(auditor_user)
    refused = client.post(
        f"/api/v1/ndas/{nda.pk}/terminate/",
        {"terminated_on": "2025-06-30", "reason": "x"},
        content_type="application/json",
    )
    assert refused.status_code == 403, refused.content
    client.force_login(compliance_user)
    early = client.post(
        f"/api/v1/ndas/{nda.pk}/terminate/",
        {"terminated_on": "2020-01-01", "reason": "Too early"},
        content_type="application/json",
    )
    assert early.status_code == 400, early.content
    assert "terminated_on" in early.json()
    done = client.post(
        f"/api/v1/ndas/{nda.pk}/terminate/",
        {"terminated_on": "2025-06-30", "reason": "Replaced"},
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    assert done.json()["terminated_on"] == "2025-06-30"
    again = client.post(
        f"/api/v1/ndas/{nda.pk}/terminate/",
        {"terminated_on": "2025-07-30", "reason": "Twice"},
        content_type="application/json",
    )
    assert again.status_code == 409, again.content

    revoked = client.post(
        f"/api/v1/disclosures/{bumper_disclosure.pk}/revoke/",
        {"reason": "Recorded in error"},
        content_type="application/json",
    )
    assert revoked.status_code == 200, revoked.content
    assert revoked.json()["revocation_reason"] == "Recorded in error"
    listed = client.get("/api/v1/disclosures/", {"revoked": "true"})
    assert [row["id"] for row in listed.json()["results"]] == [bumper_disclosure.pk]
    assert client.get("/api/v1/disclosures/", {"revoked": "false"}).json()["results"] == []


def test_api_refuses_a_disclosure_before_the_ndas_effective_date(
    client, compliance_user, subvendor, tier1_nda, bumper_asset
):
    client.force_login(compliance_user)
    response = client.post(
        "/api/v1/disclosures/",
        {
            "asset": bumper_asset.pk,
            "supplier": subvendor.pk,
            "nda": tier1_nda.pk,
            "disclosed_on": "2024-02-01",
        },
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert "took effect on 2024-03-01" in str(response.json()["disclosed_on"])
    assert not Disclosure.objects.exists()
