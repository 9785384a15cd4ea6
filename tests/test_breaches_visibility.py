"""Internal and shared (DESIGN section 7): a note or an evidence file written by staff is
internal unless staff share it; what a supplier user writes is always shared; a supplier
user never reads an internal note or file, nor another supplier's file. The rule is set
by the services, kept by the database and applied by one selector for the API and the
pages alike. Evidence leaves the server one way: an octet-stream attachment under a
generated name, never sniffed, sandboxed; active content is refused at the door."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from breaches import services
from breaches.choices import EventKind
from breaches.models import Evidence, IncidentEvent
from suppliers.choices import Role
from tests.dbchecks import refused
from tests.factories import EventFactory, UserFactory
from tests.ui_cases import report_seed_incident

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def incident(compliance_user, subvendor, tier1_nda, bumper_asset):
    """The seed case: the sub-vendor leaked, the tier-1 is liable under its NDA."""
    return report_seed_incident(compliance_user, subvendor, [bumper_asset])


@pytest.fixture
def subvendor_user(subvendor):
    return UserFactory(username="hebei-user", role=Role.SUPPLIER, supplier=subvendor)


def _file(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content or f"{name}\n".encode(), "text/plain")


def _signed_in(user) -> Client:
    """A browser of its own (flash messages left by another user's upload stay there)."""
    client = Client()
    client.force_login(user)
    return client


def _page(client, incident) -> str:
    response = client.get(reverse("breaches:incident-detail", args=[incident.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _download(client, incident, evidence):
    return client.get(reverse("breaches:evidence-download", args=[incident.pk, evidence.pk]))


# --- The services set it -----------------------------------------------------------------


def test_staff_notes_are_internal_unless_shared(compliance_user, incident):
    default = services.incident_add_note(actor=compliance_user, incident=incident, message="a")
    shared = services.incident_add_note(
        actor=compliance_user, incident=incident, message="b", visibility="shared"
    )
    assert (default.visibility, shared.visibility) == ("internal", "shared")
    with pytest.raises(ValidationError) as refusal:
        services.incident_add_note(
            actor=compliance_user, incident=incident, message="c", visibility="public"
        )
    assert "visibility" in refusal.value.message_dict


@pytest.mark.parametrize("asked", [None, "internal", "shared"])
def test_what_a_supplier_user_writes_is_always_shared(
    supplier_user, subvendor_user, incident, asked
):
    for user in (supplier_user, subvendor_user):
        note = services.incident_add_note(
            actor=user, incident=incident, message="ours", visibility=asked
        )
        evidence = services.incident_add_evidence(
            actor=user, incident=incident, upload=_file("ours.txt"), visibility=asked
        )
        assert (note.visibility, evidence.visibility) == ("shared", "shared")


def test_workflow_events_are_shared_and_the_fingerprint_internal(
    compliance_user, incident, bumper_disclosure
):
    services.incident_transition(actor=compliance_user, incident=incident, to="investigating")
    services.incident_report_fingerprint(
        actor=compliance_user, incident=incident, fingerprint=bumper_disclosure.fingerprint
    )
    services.incident_update(actor=compliance_user, incident=incident, severity="low")
    services.incident_add_evidence(actor=compliance_user, incident=incident, upload=_file("a.txt"))
    by_kind = {e.kind: e.visibility for e in incident.events.all()}
    assert by_kind == {
        EventKind.CREATED: "shared",
        EventKind.TRANSITION: "shared",
        EventKind.FINGERPRINT: "internal",
        EventKind.NOTE: "internal",  # staff's record of an edit
        EventKind.EVIDENCE: "internal",  # follows its file
    }


# --- The pages ----------------------------------------------------------------------------


def test_the_note_form_offers_staff_the_choice_and_suppliers_none(
    compliance_user, supplier_user, incident
):
    staff_page = _page(_signed_in(compliance_user), incident)
    assert staff_page.count('name="visibility"') == 2  # the note and the evidence forms
    assert 'id="note_visibility"' in staff_page
    assert 'id="evidence_visibility"' in staff_page
    supplier_page = _page(_signed_in(supplier_user), incident)
    assert 'name="visibility"' not in supplier_page


def test_notes_through_the_page(compliance_user, subvendor_user, incident):
    url = reverse("breaches:incident-note", args=[incident.pk])
    staff, hebei = _signed_in(compliance_user), _signed_in(subvendor_user)
    assert staff.post(url, {"message": "Staff only"}).status_code == 302
    assert staff.post(url, {"message": "For all", "visibility": "shared"}).status_code == 302
    assert hebei.post(url, {"message": "From Hebei", "visibility": "internal"}).status_code == 302
    notes = {e.message: e.visibility for e in incident.events.filter(kind=EventKind.NOTE)}
    assert notes == {"Staff only": "internal", "For all": "shared", "From Hebei": "shared"}

    supplier_page = _page(hebei, incident)
    assert "Staff only" not in supplier_page
    assert "For all" in supplier_page
    assert "From Hebei" in supplier_page
    assert "badge-internal" not in supplier_page
    assert "badge-shared" not in supplier_page
    staff_page = _page(staff, incident)
    assert "Staff only" in staff_page
    assert '<span class="badge badge-internal">Internal</span>' in staff_page
    assert '<span class="badge badge-shared">Shared</span>' in staff_page


def test_evidence_through_the_page(compliance_user, supplier_user, subvendor_user, incident):
    url = reverse("breaches:incident-evidence", args=[incident.pk])
    staff, bmt, hebei = (_signed_in(u) for u in (compliance_user, supplier_user, subvendor_user))
    assert staff.post(url, {"file": _file("staff-memo.txt")}).status_code == 302
    response = staff.post(url, {"file": _file("staff-brief.txt"), "visibility": "shared"})
    assert response.status_code == 302
    assert bmt.post(url, {"file": _file("parent-audit.txt")}).status_code == 302
    response = hebei.post(url, {"file": _file("hebei-logs.txt"), "visibility": "internal"})
    assert response.status_code == 302
    files = {e.original_name: e for e in Evidence.objects.all()}
    assert {name: e.visibility for name, e in files.items()} == {
        "staff-memo.txt": "internal",
        "staff-brief.txt": "shared",
        "parent-audit.txt": "shared",
        "hebei-logs.txt": "shared",
    }
    # The sub-vendor's user: shared staff files and its own company's, nothing else, on
    # the page (list and timeline) and by download.
    page = _page(hebei, incident)
    for name, seen in {
        "staff-memo.txt": False,
        "staff-brief.txt": True,
        "parent-audit.txt": False,
        "hebei-logs.txt": True,
    }.items():
        assert (name in page) == seen, name
        assert _download(hebei, incident, files[name]).status_code == (200 if seen else 404)
    # The tier-1's user likewise does not get its sub-vendor's file.
    page = _page(bmt, incident)
    assert "hebei-logs.txt" not in page
    assert "parent-audit.txt" in page
    assert _download(bmt, incident, files["hebei-logs.txt"]).status_code == 404
    # Staff get everything.
    page = _page(staff, incident)
    assert all(name in page for name in files)
    assert all(_download(staff, incident, e).status_code == 200 for e in files.values())


def test_the_page_download_is_an_octet_stream_attachment_under_a_generated_name(
    compliance_user, incident
):
    evidence = services.incident_add_evidence(
        actor=compliance_user,
        incident=incident,
        upload=_file('report "final".txt', b"plain words\n"),
    )
    response = _download(_signed_in(compliance_user), incident, evidence)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == (
        f'attachment; filename="evidence-{evidence.pk}-{evidence.sha256[:12]}.txt"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"].split("; ")
    assert response["X-Evidence-SHA256"] == evidence.sha256
    assert b"".join(response.streaming_content) == b"plain words\n"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("page.txt", b"<html><body onload=alert(1)>hi</body></html>"),
        ("drawing.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>'),
        ("report.pdf.html", b"%PDF-1.4\n" + b"x" * 64),
    ],
)
def test_active_content_is_refused_on_the_page(compliance_user, incident, name, content):
    response = _signed_in(compliance_user).post(
        reverse("breaches:incident-evidence", args=[incident.pk]), {"file": _file(name, content)}
    )
    assert response.status_code == 400
    errors = " ".join(response.context["evidence_form"].errors["file"])
    assert "Accepted: PDF" in errors
    assert not Evidence.objects.exists()


# --- The database keeps it ----------------------------------------------------------------


def test_visibility_is_one_of_two_values(incident):
    refused(lambda: IncidentEvent.objects.create(incident=incident, kind="note", visibility="x"))
    event = EventFactory(incident=incident)
    refused(lambda: IncidentEvent.objects.filter(pk=event.pk).update(visibility="public"))


def test_an_events_visibility_never_changes(incident):
    """The timeline is append-only: an internal note cannot be shared afterwards (nor a
    shared one taken back from those who read it)."""
    event = EventFactory(incident=incident, visibility="internal")
    refused(lambda: IncidentEvent.objects.filter(pk=event.pk).update(visibility="shared"))
    assert IncidentEvent.objects.get(pk=event.pk).visibility == "internal"


def test_bulk_writers_get_shared_events_from_the_database(incident):
    """The reminder sweep and seed_scale insert events without naming the column."""
    table = IncidentEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (incident_id, kind, message, from_status, to_status, "  # noqa: S608
            "created_at) VALUES (%s, 'reminder', 'chased', '', '', CURRENT_TIMESTAMP)",
            [incident.pk],
        )
    assert IncidentEvent.objects.get(kind="reminder").visibility == "shared"


# --- The migration's rule for existing rows -------------------------------------------------

BEFORE = [("breaches", "0012_business_date_bounds")]
AFTER = [("breaches", "0013_notes_and_evidence_visibility")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_hides_staff_notes_and_files_and_keeps_supplier_ones_shared():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        old = _migrate(BEFORE)
        Supplier = old.get_model("suppliers", "Supplier")
        User = old.get_model("suppliers", "User")
        Incident = old.get_model("breaches", "Incident")
        Event = old.get_model("breaches", "IncidentEvent")
        OldEvidence = old.get_model("breaches", "Evidence")
        supplier = Supplier.objects.create(name="Hebei Precision Mould Studio", country="CN")
        staff = User.objects.create(username="officer", role="compliance")
        vendor = User.objects.create(username="hebei", role="supplier", supplier=supplier)
        gone = User.objects.create(username="gone", role="compliance")
        incident = Incident.objects.create(
            reference="INC-2025-0001",
            title="Leak",
            occurred_on="2025-01-22",
            discovered_on="2025-01-22",
            channel="social_media",
        )
        rows = {
            "staff note": Event.objects.create(incident=incident, kind="note", actor=staff),
            "supplier note": Event.objects.create(incident=incident, kind="note", actor=vendor),
            "orphan note": Event.objects.create(incident=incident, kind="note", actor=gone),
            "fingerprint": Event.objects.create(incident=incident, kind="fingerprint", actor=staff),
            "transition": Event.objects.create(incident=incident, kind="transition", actor=staff),
            "reminder": Event.objects.create(incident=incident, kind="reminder"),
            "evidence event": Event.objects.create(incident=incident, kind="evidence", actor=staff),
        }
        files = {
            who: OldEvidence.objects.create(
                incident=incident,
                file=f"evidence/{who}",
                original_name=f"{who}.txt",
                content_type="text/plain",
                size=1,
                sha256=f"{n}" * 64,
                uploaded_by=user,
            )
            for n, (who, user) in enumerate(
                [("staff", staff), ("supplier", vendor), ("orphan", gone)], start=1
            )
        }
        gone.delete()  # the account is removed: its rows keep no author

        _migrate(AFTER)
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, visibility FROM breaches_incidentevent")
            events = dict(cursor.fetchall())
            cursor.execute("SELECT id, visibility FROM breaches_evidence")
            evidence = dict(cursor.fetchall())
        assert {name: events[row.pk] for name, row in rows.items()} == {
            "staff note": "internal",
            "supplier note": "shared",
            "orphan note": "internal",
            "fingerprint": "internal",
            "transition": "shared",
            "reminder": "shared",
            "evidence event": "shared",
        }
        assert {who: evidence[row.pk] for who, row in files.items()} == {
            "staff": "internal",
            "supplier": "shared",
            "orphan": "internal",
        }
        # The timeline's append-only trigger now guards the new column too.
        note = rows["staff note"].pk
        refused(lambda: IncidentEvent.objects.filter(pk=note).update(visibility="shared"))
        # And still refuses what it refused (SQLite rebuilt the table, dropping triggers).
        refused(lambda: IncidentEvent.objects.filter(pk=note).update(message="rewritten"))
        refused(lambda: IncidentEvent.objects.create(incident_id=987_654_321, kind="note"))

        # Reversed, the timeline is as it was: append-only, visibility gone.
        _migrate(BEFORE)
        with connection.cursor() as cursor:
            columns = [
                c.name
                for c in connection.introspection.get_table_description(
                    cursor, "breaches_incidentevent"
                )
            ]
        assert "visibility" not in columns
        refused(lambda: Event.objects.filter(pk=note).update(message="rewritten"))
        refused(lambda: Event.objects.create(incident_id=987_654_321, kind="note"))
    finally:
        _migrate(latest)
