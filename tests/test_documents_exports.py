"""Exports of the API lists (DESIGN section 13): `?format=csv|xlsx` on every list, with
the list's scope, filters and field names, streamed; formulas neutralised; XLSX that
opens; a constant number of queries whatever the number of rows."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from breaches import services
from breaches.choices import ReviewKind
from breaches.models import PenaltyReview
from documents.exports import neutralise
from suppliers.choices import Role
from tests.apiclients import build_world, client_for
from tests.factories import (
    AssetFactory,
    IncidentFactory,
    NDAFactory,
    SupplierFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/suppliers/",
    "/api/v1/contacts/",
    "/api/v1/ndas/",
    "/api/v1/assets/",
    "/api/v1/disclosures/",
    "/api/v1/incidents/",
    "/api/v1/evidence/",
    "/api/v1/penalties/",
    "/api/v1/rectification-plans/",
    "/api/v1/rectification-actions/",
    "/api/v1/reminders/",
    "/api/v1/penalty-reviews/",
    "/api/v1/users/",
]


def body(response) -> bytes:
    assert response.status_code == 200, (response.status_code, getattr(response, "content", b""))
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv"), response["Content-Type"]
    return list(csv.DictReader(io.StringIO(body(response).decode("utf-8-sig"))))


def xlsx_rows(response) -> list[dict]:
    book = openpyxl.load_workbook(io.BytesIO(body(response)), read_only=True)
    values = list(book.active.iter_rows(values_only=True))
    header = list(values[0])
    return [dict(zip(header, row, strict=True)) for row in values[1:]]


def json_all(client, url: str) -> list[dict]:
    rows, page = [], url + ("&" if "?" in url else "?") + "page_size=200"
    while page:
        response = client.get(page)
        assert response.status_code == 200, response.content
        rows += response.json()["results"]
        page = response.json()["next"]
    return rows


@pytest.fixture
def two_worlds(compliance_user):
    worlds = []
    for n in range(2):
        tier1 = SupplierFactory(name=f"Tier one {n}")
        sub = SupplierFactory(name=f"Sub vendor {n}", parent=tier1)
        worlds.append(
            build_world(
                supplier=tier1,
                subvendor=sub,
                nda=NDAFactory(supplier=tier1),
                asset=AssetFactory(),
                tag=f"w{n}",
                actor=compliance_user,
            )
        )
        # A waiver waiting for a second staff user (four eyes).
        PenaltyReview.objects.create(
            penalty=worlds[-1].penalty,
            kind=ReviewKind.WAIVER,
            to_status="waived",
            note="goodwill",
            requested_by=compliance_user,
        )
    return worlds


@pytest.mark.parametrize("url", LISTS)
def test_every_list_exports_as_csv_what_its_json_gives(admin_user, two_worlds, url):
    client = client_for(admin_user)
    response = client.get(url + "?format=csv")
    rows = csv_rows(response)
    expected = json_all(client, url)
    assert len(rows) == len(expected) > 0, url
    assert list(rows[0]) == list(expected[0]), "the columns are the JSON list's field names"
    assert [row["id"] for row in rows] == [str(item["id"]) for item in expected]
    disposition = response["Content-Disposition"]
    name = url.rstrip("/").rsplit("/", 1)[-1]
    assert disposition.startswith(f'attachment; filename="{name}-'), disposition
    assert disposition.endswith('.csv"'), disposition


@pytest.mark.parametrize("url", LISTS)
def test_every_list_exports_as_xlsx_that_opens(admin_user, two_worlds, url):
    client = client_for(admin_user)
    response = client.get(url + "?format=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats"), response
    rows = xlsx_rows(response)
    expected = json_all(client, url)
    assert [row["id"] for row in rows] == [item["id"] for item in expected]
    assert list(rows[0]) == list(expected[0])


def test_a_supplier_users_export_holds_only_its_own_rows(two_worlds):
    mine, theirs = two_worlds
    user = UserFactory(role=Role.SUPPLIER, supplier=mine.supplier)
    client = client_for(user)
    for fmt, read in (("csv", csv_rows), ("xlsx", xlsx_rows)):
        incidents = read(client.get(f"/api/v1/incidents/?format={fmt}"))
        refs = {str(row["reference"]) for row in incidents}
        assert refs == {
            mine.incident.reference,
            mine.confirmed.reference,
            mine.approved_plan.incident.reference,
        }
        assert theirs.incident.reference not in refs
        penalties = read(client.get(f"/api/v1/penalties/?format={fmt}"))
        assert [int(row["id"]) for row in penalties] == [mine.penalty.pk]
        suppliers = read(client.get(f"/api/v1/suppliers/?format={fmt}"))
        assert {row["name"] for row in suppliers} == {mine.supplier.name, mine.subvendor.name}


def test_a_supplier_users_export_has_no_fingerprint_column(two_worlds, compliance_user):
    mine, _ = two_worlds
    services.incident_report_fingerprint(
        actor=compliance_user, incident=mine.incident, fingerprint=mine.disclosure.fingerprint
    )
    user = UserFactory(role=Role.SUPPLIER, supplier=mine.supplier)
    client = client_for(user)
    for url in ("/api/v1/disclosures/?format=csv", "/api/v1/incidents/?format=csv"):
        response = client.get(url)
        text = body(response).decode("utf-8-sig")
        assert "fingerprint" not in text.splitlines()[0], text.splitlines()[0]
        assert mine.disclosure.fingerprint not in text
    # Even with no row to shape, the header leaves the column out.
    empty = client.get("/api/v1/disclosures/?format=csv&supplier=999999")
    assert "fingerprint" not in body(empty).decode("utf-8-sig")
    staff = client_for(compliance_user).get("/api/v1/disclosures/?format=csv")
    assert "fingerprint" in body(staff).decode("utf-8-sig").splitlines()[0]


def test_filters_and_ordering_apply(admin_user, two_worlds):
    mine, _ = two_worlds
    client = client_for(admin_user)
    url = f"/api/v1/incidents/?status=confirmed&responsible_supplier={mine.supplier.pk}"
    rows = csv_rows(client.get(url + "&format=csv"))
    assert {row["reference"] for row in rows} == {row["reference"] for row in json_all(client, url)}
    assert {row["status"] for row in rows} == {"confirmed"}
    assert len(rows) == 2
    ordered = csv_rows(client.get("/api/v1/suppliers/?ordering=name&format=csv"))
    assert [row["name"] for row in ordered] == sorted(row["name"] for row in ordered)


def test_a_bad_filter_is_a_json_400_not_a_file(admin_user):
    response = client_for(admin_user).get("/api/v1/incidents/?status=nonsense&format=csv")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert "status" in response.json()


def test_anonymous_export_is_a_401(db):
    response = client_for(None).get("/api/v1/incidents/?format=csv")
    assert response.status_code == 401, response.content
    assert response["Content-Type"].startswith("application/json")


def test_an_unknown_format_is_a_404_and_detail_has_no_export(admin_user, two_worlds):
    client = client_for(admin_user)
    assert client.get("/api/v1/incidents/?format=pdf").status_code == 404
    detail = client.get(f"/api/v1/incidents/{two_worlds[0].incident.pk}/?format=csv")
    assert detail.status_code == 404, detail.content


def test_accept_header_selects_csv(admin_user, two_worlds):
    response = client_for(admin_user).get("/api/v1/suppliers/", HTTP_ACCEPT="text/csv")
    assert len(csv_rows(response)) == 4


def test_formulas_are_neutralised_in_csv_and_text_in_xlsx(admin_user):
    SupplierFactory(name='=HYPERLINK("http://evil.example","x")', country="CN")
    SupplierFactory(name="+cmd|' /C calc'!A0", country="CN")
    SupplierFactory(name="@SUM(1+1)", country="CN")
    SupplierFactory(name="-2+3", country="CN")
    SupplierFactory(name="北京模塑科技有限公司", country="CN")
    client = client_for(admin_user)
    names = {row["name"] for row in csv_rows(client.get("/api/v1/suppliers/?format=csv"))}
    assert names == {
        '\'=HYPERLINK("http://evil.example","x")',
        "'+cmd|' /C calc'!A0",
        "'@SUM(1+1)",
        "'-2+3",
        "北京模塑科技有限公司",
    }
    book = openpyxl.load_workbook(
        io.BytesIO(body(client.get("/api/v1/suppliers/?format=xlsx"))), read_only=False
    )
    cells = [row[1] for row in book.active.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in cells), [cell.data_type for cell in cells]
    assert '=HYPERLINK("http://evil.example","x")' in {cell.value for cell in cells}


def test_neutralise():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("\t=1") == "'\t=1"
    assert neutralise("plain") == "plain"
    assert neutralise("") == ""


def test_money_is_a_number_and_dates_are_dates_in_xlsx(admin_user, two_worlds):
    rows = xlsx_rows(client_for(admin_user).get("/api/v1/penalties/?format=xlsx"))
    penalty = two_worlds[1].penalty
    row = next(row for row in rows if row["id"] == penalty.pk)
    assert row["amount"] == float(penalty.amount)
    assert row["proposed_on"].date() == penalty.proposed_on


@pytest.mark.parametrize(
    "url", ["/api/v1/incidents/", "/api/v1/penalties/", "/api/v1/rectification-plans/"]
)
def test_queries_do_not_grow_with_rows(admin_user, compliance_user, url):
    client = client_for(admin_user)

    def queries_for_export() -> int:
        with CaptureQueriesContext(connection) as captured:
            body(client.get(url + "?format=csv"))
        return len(captured)

    def add_world(n):
        tier1 = SupplierFactory(name=f"Tier {n}")
        build_world(
            supplier=tier1,
            subvendor=SupplierFactory(name=f"Sub {n}", parent=tier1),
            nda=NDAFactory(supplier=tier1),
            asset=AssetFactory(),
            tag=f"q{n}",
            actor=compliance_user,
        )

    add_world(0)
    few = queries_for_export()
    for n in range(1, 6):
        add_world(n)
    IncidentFactory.create_batch(10)
    assert queries_for_export() == few


@pytest.mark.parametrize(
    ("page", "api"),
    [
        ("/incidents/", "/api/v1/incidents/"),
        ("/penalties/", "/api/v1/penalties/"),
        ("/plans/", "/api/v1/rectification-plans/"),
        ("/reminders/", "/api/v1/reminders/"),
        ("/suppliers/", "/api/v1/suppliers/"),
    ],
)
def test_list_pages_link_their_export_with_the_current_filters(client, two_worlds, page, api):
    mine, _ = two_worlds
    user = UserFactory(role=Role.SUPPLIER, supplier=mine.supplier)
    client.force_login(user)
    response = client.get(page + "?status=&page=1")
    assert response.status_code == 200, response.content
    html = response.content.decode()
    href = f'href="{api}?status=&amp;format=csv"'
    assert href in html, html
    assert f'href="{api}?status=&amp;format=xlsx"' in html
    # The session signs the download in, in the user's scope.
    exported = client.get(f"{api}?status=&format=csv")
    assert exported.status_code == 200
    assert len(csv_rows(exported)) == len(json_all(client, api))


def test_incident_page_export_carries_the_filters(client, admin_user, two_worlds):
    mine, _ = two_worlds
    client.force_login(admin_user)
    query = f"status=confirmed&responsible_supplier={mine.supplier.pk}"
    html = client.get(f"/incidents/?{query}").content.decode()
    assert f'href="/api/v1/incidents/?{query.replace("&", "&amp;")}&amp;format=csv"' in html
    rows = csv_rows(client.get(f"/api/v1/incidents/?{query}&format=csv"))
    assert {row["status"] for row in rows} == {"confirmed"}
    assert len(rows) == 2


@pytest.mark.django_db(transaction=True)
def test_a_csv_export_streams_from_a_cursor_postgresql_does_not_materialize(monkeypatch):
    """Outside a transaction Django declares the server-side cursor WITH HOLD, and
    PostgreSQL reads a held cursor's whole result when the transaction that declared
    it commits: a million incidents were read before the first byte left (14 s). The
    export reads in one transaction, so the cursor streams."""
    if connection.vendor != "postgresql":
        pytest.skip("server-side cursors are PostgreSQL's; SQLite reads as it goes")
    from breaches.api.views import IncidentViewSet

    monkeypatch.setattr(IncidentViewSet, "export_chunk_rows", 2)
    IncidentFactory.create_batch(7)
    response = client_for(UserFactory(role=Role.ADMIN)).get("/api/v1/incidents/?format=csv")
    assert response.status_code == 200
    blocks = iter(response.streaming_content)
    next(blocks)  # the header, written once the first rows were read: the cursor is open
    with connection.cursor() as cursor:
        cursor.execute("SELECT is_holdable FROM pg_cursors")
        cursors = [row[0] for row in cursor.fetchall()]
    assert cursors == [False], cursors
    rest = b"".join(blocks)
    assert rest.count(b"\n") == 7  # every row came, in blocks of two
