"""Imports of suppliers (with parents), contacts and NDAs (DESIGN section 13): through the
services, a dry run that changes nothing, every bad row reported, all or nothing."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from io import StringIO

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from documents.imports import import_file
from suppliers.choices import Role
from suppliers.models import NDA, Contact, Supplier
from tests.factories import SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db

TREE = """name,country,parent,status
Beijing Molding Technology Co. Ltd,CN,,
Hebei Precision Mould Studio,cn,Beijing Molding Technology Co. Ltd,
Langfang Render Farm,CN,Hebei Precision Mould Studio,active
北京模塑二厂,CN,Beijing Molding Technology Co. Ltd,suspended
"""


def run(actor, kind, text, *, dry_run=False, filename="file.csv"):
    content = text.encode() if isinstance(text, str) else text
    return import_file(actor=actor, kind=kind, content=content, filename=filename, dry_run=dry_run)


def test_a_three_tier_tree_imports_through_the_services(compliance_user):
    report = run(compliance_user, "suppliers", TREE)
    assert report.ok, (report.bad_rows, report.file_errors)
    assert report.committed
    assert report.created == 4
    tiers = dict(Supplier.objects.values_list("name", "tier"))
    assert tiers == {
        "Beijing Molding Technology Co. Ltd": 1,
        "Hebei Precision Mould Studio": 2,
        "Langfang Render Farm": 3,
        "北京模塑二厂": 2,
    }
    assert Supplier.objects.get(name="Hebei Precision Mould Studio").country == "CN"
    assert Supplier.objects.get(name="北京模塑二厂").status == "suspended"


def test_a_dry_run_changes_nothing_and_counts(compliance_user):
    report = run(compliance_user, "suppliers", TREE, dry_run=True)
    assert report.ok
    assert not report.committed
    assert report.created == 4
    assert not Supplier.objects.exists()


def test_bad_rows_are_each_reported_and_nothing_is_imported(compliance_user):
    SupplierFactory(name="Already Registered Ltd", country="CN")
    text = (
        "name,country,parent\n"
        "Good Tier One,CN,\n"  # line 2: good
        "Bad Country,ZZ,\n"  # 3
        "already registered ltd,CN,\n"  # 4: the name exists (case-insensitive)
        "Orphan,CN,Nobody Ltd\n"  # 5: unknown parent
        ",CN,\n"  # 6: no name
        "Child Of Bad,CN,Bad Country\n"  # 7: its parent's row failed
        "Good Child,CN,Good Tier One\n"  # 8: good
    )
    for dry_run in (True, False):
        report = run(compliance_user, "suppliers", text, dry_run=dry_run)
        assert not report.ok
        assert not report.committed
        assert [bad.line for bad in report.bad_rows] == [3, 4, 5, 6, 7], report.bad_rows
        reasons = {bad.line: " ".join(bad.reasons) for bad in report.bad_rows}
        assert "country" in reasons[3].lower()
        assert "already exists" in reasons[4].lower() or "name" in reasons[4]
        assert "Nobody Ltd" in reasons[5]
        assert "name: a value is required" in reasons[6]
        assert "row with errors above" in reasons[7]
        assert report.rows == 7
        assert set(Supplier.objects.values_list("name", flat=True)) == {"Already Registered Ltd"}


def test_contacts_and_ndas_import_and_refuse_bad_rows(compliance_user):
    run(compliance_user, "suppliers", TREE)
    contacts = (
        "supplier,name,email,role,receives_reminders\n"
        "Beijing Molding Technology Co. Ltd,Liu Yang,liu.yang@bjmolding.example,legal,yes\n"
        "Hebei Precision Mould Studio,Wang Fang,wang.fang@hebei.example,security,no\n"
    )
    report = run(compliance_user, "contacts", contacts)
    assert report.committed, report.bad_rows
    assert Contact.objects.get(name="Liu Yang").receives_reminders is True
    ndas = (
        "reference,supplier,signed_on,effective_from,expires_on,covers_subvendors,"
        "flow_down_required,penalty_amount,penalty_currency,rectification_days\n"
        "NDA-XM-2024-017,Beijing Molding Technology Co. Ltd,2024-02-20,2024-03-01,2027-03-01,"
        'yes,yes,"1,000,000.00",cny,30\n'
    )
    report = run(compliance_user, "ndas", ndas)
    assert report.committed, report.bad_rows
    nda = NDA.objects.get(reference="NDA-XM-2024-017")
    assert (nda.penalty_amount, nda.penalty_currency) == (Decimal("1000000.00"), "CNY")
    assert nda.covers_subvendors
    assert nda.effective_from == date(2024, 3, 1)
    bad = (
        "reference,supplier,signed_on,effective_from,expires_on,penalty_amount\n"
        "NDA-1,Hebei Precision Mould Studio,2024-02-20,2024-03-01,2024-01-01,500\n"
        "NDA-2,Hebei Precision Mould Studio,20/02/2024,2024-03-01,,500\n"
        "NDA-3,Hebei Precision Mould Studio,2024-02-20,2024-03-01,,-5\n"
        "NDA-XM-2024-017,Hebei Precision Mould Studio,2024-02-20,2024-03-01,,500\n"
        "NDA-5,Hebei Precision Mould Studio,2024-02-20,2024-03-01,,500\n"
    )
    report = run(compliance_user, "ndas", bad)
    assert [b.line for b in report.bad_rows] == [2, 3, 4, 5], report.bad_rows
    assert NDA.objects.count() == 1, "the good row (NDA-5) is not imported alone"
    text = " ".join(" ".join(b.reasons) for b in report.bad_rows)
    assert "must expire after it becomes effective" in text
    assert "YYYY-MM-DD" in text
    assert "above zero" in text


def test_xlsx_workbook_with_sheets(compliance_user):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "suppliers"
    sheet.append(["Name", "Country", "Parent"])
    sheet.append(["Tier One", "DE", None])
    sheet.append(["Tier Two", "SI", "Tier One"])
    ndas = book.create_sheet("ndas")
    ndas.append(["reference", "supplier", "signed_on", "effective_from", "penalty_amount"])
    ndas.append(["NDA-X", "Tier One", date(2025, 1, 1), date(2025, 1, 2), 250000])
    buffer = io.BytesIO()
    book.save(buffer)
    content = buffer.getvalue()
    report = run(compliance_user, "suppliers", content, filename="tree.xlsx")
    assert report.committed, (report.bad_rows, report.file_errors)
    report = run(compliance_user, "ndas", content, filename="tree.xlsx")
    assert report.committed, (report.bad_rows, report.file_errors)
    assert NDA.objects.get().penalty_amount == Decimal("250000.00")
    assert Supplier.objects.get(name="Tier Two").tier == 2


def test_a_bad_header_or_file_is_reported(compliance_user):
    report = run(compliance_user, "suppliers", "nom,pays\nA,CN\n")
    assert not report.ok
    assert any("Missing columns: name, country" in e for e in report.file_errors)
    report = run(compliance_user, "suppliers", b"\xff\xfe\x00garbage")
    assert report.file_errors
    report = run(compliance_user, "suppliers", b"not a workbook", filename="x.xlsx")
    assert report.file_errors
    assert not Supplier.objects.exists()


def test_only_writers_import(auditor_user):
    with pytest.raises(PermissionDenied):
        run(auditor_user, "suppliers", TREE)
    supplier_user = UserFactory(role=Role.SUPPLIER, supplier=SupplierFactory())
    with pytest.raises(PermissionDenied):
        run(supplier_user, "suppliers", TREE)


def test_command_lists_every_bad_row_and_imports_nothing(tmp_path, admin_user):
    path = tmp_path / "tree.csv"
    path.write_text("name,country,parent\nGood,CN,\nBad,ZZ,\nWorse,CN,Missing\n")
    err = StringIO()
    with pytest.raises(CommandError, match="2 bad row"):
        call_command("import_suppliers", "suppliers", str(path), stderr=err)
    assert "line 3:" in err.getvalue()
    assert "line 4:" in err.getvalue()
    assert not Supplier.objects.exists()
    path.write_text(TREE)
    out = StringIO()
    call_command("import_suppliers", "suppliers", str(path), "--dry-run", stdout=out)
    assert "would import 4" in out.getvalue()
    assert not Supplier.objects.exists()
    call_command("import_suppliers", "suppliers", str(path), stdout=out)
    assert Supplier.objects.count() == 4


def test_the_staff_page_checks_then_imports(client, compliance_user):
    client.force_login(compliance_user)
    assert client.get("/suppliers/import/").status_code == 200

    def upload(text, action):
        return client.post(
            "/suppliers/import/",
            {
                "kind": "suppliers",
                "action": action,
                "file": SimpleUploadedFile("tree.csv", text.encode(), "text/csv"),
            },
        )

    checked = upload(TREE, "check")
    assert checked.status_code == 200, checked.content
    assert "4 suppliers would be imported" in checked.content.decode()
    assert not Supplier.objects.exists()
    bad = upload("name,country,parent\nGood,CN,\nBad,ZZ,\nOrphan,CN,Nobody\n", "import")
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "2 of 3 rows are bad" in html
    assert "Nobody" in html
    assert not Supplier.objects.exists()
    done = upload(TREE, "import")
    assert "4 suppliers imported" in done.content.decode()
    assert Supplier.objects.count() == 4


def test_the_import_page_is_for_writers_only(client, auditor_user):
    client.force_login(auditor_user)
    assert client.get("/suppliers/import/").status_code == 403
    supplier_user = UserFactory(role=Role.SUPPLIER, supplier=SupplierFactory())
    client.force_login(supplier_user)
    assert client.get("/suppliers/import/").status_code == 403
