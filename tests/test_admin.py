"""The Django admin: every page renders, and writes go through the services."""

from decimal import Decimal
from html.parser import HTMLParser
from io import StringIO

import pytest
import time_machine
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from breaches import services
from breaches.models import Incident, IncidentEvent, Payment, Penalty
from suppliers.models import Supplier, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    # Loaded on the day the seed story has: the leak on January 22, 2025, 75 days before.
    with time_machine.travel("2025-04-07 09:00:00+00:00", tick=False):
        call_command("load_demo", stdout=StringIO())


@pytest.fixture
def client_admin(client, demo):
    client.force_login(User.objects.get(username="admin"))
    return client


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def test_every_model_of_the_apps_is_registered():
    from django.apps import apps

    for app in ("suppliers", "breaches"):
        for model in apps.get_app_config(app).get_models():
            if model._meta.label.split(".")[1].startswith("Historical"):
                continue
            assert model in admin.site._registry, model._meta.label


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[model._meta.label for model, _ in REGISTERED]
)
def test_every_admin_page_renders(client_admin, rf, model, model_admin):
    r = client_admin.get(_url(model, "changelist"))
    assert r.status_code == 200, r.content[:2000]
    if model_admin.search_fields:
        r = client_admin.get(_url(model, "changelist"), {"q": "MS11"})
        assert r.status_code == 200, r.content[:2000]
    request = rf.get("/")
    request.user = User.objects.get(username="admin")
    if model_admin.has_add_permission(request):
        r = client_admin.get(_url(model, "add"))
        assert r.status_code == 200, r.content[:2000]
    obj = model._default_manager.first()
    if obj is not None:
        r = client_admin.get(_url(model, "change", obj.pk))
        assert r.status_code == 200, r.content[:2000]
        if hasattr(model_admin, "history_view"):
            r = client_admin.get(_url(model, "history", obj.pk))
            assert r.status_code == 200, r.content[:2000]


def test_models_that_must_have_rows_in_the_demo_have_them(demo):
    # So the change pages above are really exercised.
    for model, _ in REGISTERED:
        if model._meta.app_label not in ("suppliers", "breaches"):
            continue
        if model._meta.model_name in (
            "evidence",
            "reminder",
            "remindermessage",
            "incidentsequence",
            "reportsnapshot",  # written by beat or the first staff request in production
            "apitoken",  # issued through the API, never demo data
        ):
            continue
        assert model._default_manager.exists(), model._meta.label


class _FormFields(HTMLParser):
    """The fields the admin's change form would post back as they are rendered."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id", "").endswith("_form"):
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            checkable = a.get("type") in ("checkbox", "radio")
            if checkable and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value", "on" if checkable else ""))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_form = False

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += (
                data.lstrip("\n") if not self.data[self._textarea][0] else data
            )


def _errors(response) -> list[str]:
    """The form errors of an admin page, for assertion messages."""
    import re

    return re.findall(
        r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S
    ) or [response.content.decode()[:2000]]


def _form_data(client, url: str) -> dict[str, list[str]]:
    r = client.get(url)
    assert r.status_code == 200, r.content[:2000]
    parser = _FormFields()
    parser.feed(r.content.decode())
    return parser.data


def test_adding_a_supplier_goes_through_the_service(client_admin):
    parent = Supplier.objects.get(name="Beijing Molding Technology Co. Ltd")
    data = _form_data(client_admin, _url(Supplier, "add"))
    data.update(name=["  Tianjin Tooling Works  "], country=["cn"], parent=[str(parent.pk)])
    r = client_admin.post(_url(Supplier, "add"), data)
    assert r.status_code == 302, _errors(r)
    created = Supplier.objects.get(name="Tianjin Tooling Works")
    assert (created.country, created.parent, created.tier) == ("CN", parent, 2)


def test_a_cycle_is_refused_in_the_form_and_changes_nothing(client_admin):
    tier1 = Supplier.objects.get(name="Beijing Molding Technology Co. Ltd")
    sub = tier1.subvendors.get()
    url = _url(Supplier, "change", tier1.pk)
    data = _form_data(client_admin, url)
    data["parent"] = [str(sub.pk)]
    r = client_admin.post(url, data)
    assert r.status_code == 200, r.content[:2000]
    assert b"loop" in r.content
    tier1.refresh_from_db()
    assert (tier1.parent, tier1.tier) == (None, 1)


def test_status_cannot_be_set_through_the_change_form(client_admin):
    incident = Incident.objects.get(status="reported", source_supplier__isnull=False)
    url = _url(Incident, "change", incident.pk)
    data = _form_data(client_admin, url)
    assert "status" not in data
    data["status"] = ["closed"]
    data["title"] = ["Press photo of MS11 seat trim samples (edited)"]
    events = incident.events.count()
    r = client_admin.post(url, data)
    assert r.status_code == 302, _errors(r)
    incident.refresh_from_db()
    assert incident.status == "reported"
    assert incident.title.endswith("(edited)")
    assert incident.events.count() == events + 1, "incident_update writes a timeline note"


def test_adding_an_incident_resolves_liability_and_writes_the_timeline(client_admin):
    sub = Supplier.objects.get(name="Hebei Precision Mould Studio")
    data = _form_data(client_admin, _url(Incident, "add"))
    data.update(
        title=["Second bumper leak"],
        occurred_on=["2025-02-01"],
        discovered_on=["2025-02-03"],
        channel=["press"],
        severity=["high"],
        source_supplier=[str(sub.pk)],
    )
    r = client_admin.post(_url(Incident, "add"), data)
    assert r.status_code == 302, _errors(r)
    incident = Incident.objects.get(title="Second bumper leak")
    assert incident.reference.startswith("INC-")
    assert incident.responsible_supplier == sub.parent
    assert incident.nda.reference == "NDA-XM-2024-017"
    assert list(incident.events.values_list("kind", flat=True)) == ["created"]


def test_admin_actions_call_the_workflow(client_admin):
    investigating = Incident.objects.get(status="investigating")
    reported = Incident.objects.filter(status="reported").first()
    r = client_admin.post(
        _url(Incident, "changelist"),
        {"action": "confirm", "_selected_action": [investigating.pk, reported.pk]},
        follow=True,
    )
    assert r.status_code == 200
    investigating.refresh_from_db()
    reported.refresh_from_db()
    assert investigating.status == "confirmed"
    assert investigating.penalties.count() == 1
    assert investigating.rectification_plans.count() == 1
    assert reported.status == "reported", "a refused transition changes nothing"
    text = r.content.decode()
    assert "Confirmed: 1." in text, text[:3000]
    assert "Refused:" in text, text[:3000]


def test_overpayment_in_admin_is_refused_and_records_nothing(client_admin):
    penalty = Penalty.objects.get(status="issued")
    payments = Payment.objects.count()
    r = client_admin.post(
        _url(Payment, "add"),
        {
            "penalty": penalty.pk,
            "amount": str(penalty.amount),
            "paid_on": "2025-03-01",
            "reference": "TOO-MUCH",
        },
        follow=True,
    )
    assert r.status_code == 200
    assert b"Refused" in r.content
    assert Payment.objects.count() == payments
    penalty.refresh_from_db()
    assert penalty.paid_amount == Decimal("400000.00")


def test_timeline_events_are_read_only_and_undeletable(client_admin):
    event = IncidentEvent.objects.first()
    r = client_admin.get(_url(IncidentEvent, "delete", event.pk))
    assert r.status_code == 403
    r = client_admin.post(_url(IncidentEvent, "change", event.pk), {"message": "rewritten"})
    assert r.status_code == 403
    assert IncidentEvent.objects.get(pk=event.pk).message == event.message


def test_history_revert_is_disabled(client_admin):
    incident = Incident.objects.get(occurred_on="2025-01-22")
    version = incident.history.earliest("history_date")
    url = reverse("admin:breaches_incident_simple_history", args=(incident.pk, version.history_id))
    assert client_admin.get(url).status_code == 200
    assert client_admin.post(url, {"title": "old"}).status_code == 403
    incident.refresh_from_db()
    assert incident.status == "confirmed"


def test_deleting_a_supplier_with_history_is_refused(client_admin):
    tier1 = Supplier.objects.get(name="Beijing Molding Technology Co. Ltd")
    r = client_admin.post(_url(Supplier, "delete", tier1.pk), {"post": "yes"}, follow=True)
    assert r.status_code == 200
    assert b"Refused" in r.content or b"Cannot delete" in r.content
    assert Supplier.objects.filter(pk=tier1.pk).exists()


@pytest.mark.parametrize(
    ("model_name", "field_name", "term"),
    [
        ("incident", "source_supplier", "Hebei"),
        ("incident", "assets", "MS11"),
        ("incident", "owner", "compliance"),
    ],
)
def test_incident_form_autocompletes(client_admin, model_name, field_name, term):
    r = client_admin.get(
        "/admin/autocomplete/",
        {"app_label": "breaches", "model_name": model_name, "field_name": field_name, "term": term},
    )
    assert r.status_code == 200, r.content[:500]
    assert r.json()["results"], r.content[:500]


def _post_form(client, url: str, **changes):
    data = _form_data(client, url)
    data.update({k: [v] if isinstance(v, str) else v for k, v in changes.items()})
    return client.post(url, data)


def test_adding_a_user_goes_through_user_create(client_admin):
    tier1 = Supplier.objects.get(name="Beijing Molding Technology Co. Ltd")
    r = _post_form(
        client_admin,
        _url(User, "add"),
        username="bmt-legal",
        password1="a-long-demo-passphrase",
        password2="a-long-demo-passphrase",
        role="supplier",
        supplier=str(tier1.pk),
        email="legal@bjmolding.example",
    )
    assert r.status_code == 302, _errors(r)
    user = User.objects.get(username="bmt-legal")
    assert (user.role, user.supplier, user.is_staff) == ("supplier", tier1, False)
    assert user.check_password("a-long-demo-passphrase")


def test_a_supplier_user_without_supplier_is_refused_in_the_form(client_admin):
    r = _post_form(
        client_admin,
        _url(User, "add"),
        username="orphan",
        password1="a-long-demo-passphrase",
        password2="a-long-demo-passphrase",
        role="supplier",
    )
    assert r.status_code == 200, r.content[:500]
    assert not User.objects.filter(username="orphan").exists()


def test_adding_an_nda_normalises_through_the_service(client_admin):
    from suppliers.models import NDA

    supplier = Supplier.objects.get(name="Hebei Precision Mould Studio")
    r = _post_form(
        client_admin,
        _url(NDA, "add"),
        reference=" NDA-HEBEI-2025-001 ",
        supplier=str(supplier.pk),
        signed_on="2025-03-01",
        effective_from="2025-03-01",
        expires_on="2028-03-01",
        penalty_amount="200000.00",
        penalty_currency="cny",
        rectification_days="30",
        flow_down_required="on",
    )
    assert r.status_code == 302, _errors(r)
    nda = NDA.objects.get(reference="NDA-HEBEI-2025-001")
    assert (nda.supplier, nda.penalty_currency, nda.flow_down_required) == (supplier, "CNY", True)


def test_an_nda_expiring_before_it_starts_is_refused_in_the_form(client_admin):
    from suppliers.models import NDA

    supplier = Supplier.objects.get(name="Hebei Precision Mould Studio")
    count = NDA.objects.count()
    r = _post_form(
        client_admin,
        _url(NDA, "add"),
        reference="NDA-BAD",
        supplier=str(supplier.pk),
        signed_on="2025-03-01",
        effective_from="2025-03-01",
        expires_on="2025-02-01",
        penalty_amount="1.00",
        penalty_currency="CNY",
        rectification_days="30",
    )
    assert r.status_code == 200, r.content[:500]
    assert b"expire after" in r.content
    assert NDA.objects.count() == count


def test_adding_a_disclosure_generates_a_fingerprint(client_admin):
    from suppliers.models import ConfidentialAsset, Disclosure

    asset = ConfidentialAsset.objects.get(code="MS11-BUMPER-FR")
    supplier = Supplier.objects.get(name="Stuttgart Lighting Systems GmbH")
    r = _post_form(
        client_admin,
        _url(Disclosure, "add"),
        asset=str(asset.pk),
        supplier=str(supplier.pk),
        nda=str(supplier.ndas.get().pk),
        disclosed_on="2025-04-01",
        version="v4",
    )
    assert r.status_code == 302, _errors(r)
    disclosure = Disclosure.objects.get(supplier=supplier, asset=asset)
    assert len(disclosure.fingerprint) == 32


def test_a_disclosure_under_a_foreign_nda_is_refused_and_records_nothing(client_admin):
    from suppliers.models import NDA, ConfidentialAsset, Disclosure

    count = Disclosure.objects.count()
    r = _post_form(
        client_admin,
        _url(Disclosure, "add"),
        asset=str(ConfidentialAsset.objects.get(code="MS11-BUMPER-FR").pk),
        supplier=str(Supplier.objects.get(name="Stuttgart Lighting Systems GmbH").pk),
        nda=str(NDA.objects.get(reference="NDA-XM-2024-017").pk),
        disclosed_on="2025-04-01",
    )
    assert r.status_code == 302
    assert Disclosure.objects.count() == count
    r = client_admin.get(r.url)
    assert b"Refused" in r.content


def test_changing_a_proposed_penalty_goes_through_penalty_update(client_admin):
    penalty = Penalty.objects.get(status="proposed")
    url = _url(Penalty, "change", penalty.pk)
    before = penalty.amount
    second = User.objects.get(username="compliance2")
    for waiting in penalty.reviews.filter(state="pending"):  # the demo's own request
        services.penalty_review_decide(actor=second, review=waiting, approve=False, note="No")
    r = _post_form(client_admin, url, amount="200000.00")
    assert r.status_code == 302, _errors(r)
    penalty.refresh_from_db()
    # A reduction: it waits for a second staff user, who makes it.
    assert penalty.amount == before
    review = penalty.reviews.get(state="pending")
    assert review.amount == Decimal("200000.00")
    services.penalty_review_decide(actor=second, review=review, approve=True)
    penalty.refresh_from_db()
    assert penalty.amount == Decimal("200000.00")
    assert IncidentEvent.objects.filter(penalty=penalty, message__contains="200000.00").exists()


def test_changing_an_issued_penalty_amount_is_refused(client_admin):
    penalty = Penalty.objects.get(status="issued")
    r = _post_form(client_admin, _url(Penalty, "change", penalty.pk), amount="1.00")
    assert r.status_code == 302
    penalty.refresh_from_db()
    assert penalty.amount == Decimal("1000000.00")


def test_supplier_status_actions_use_the_service(client_admin):
    supplier = Supplier.objects.get(name="Kunshan Fabric Cutting Workshop")
    r = client_admin.post(
        _url(Supplier, "changelist"),
        {"action": "suspend", "_selected_action": [supplier.pk]},
        follow=True,
    )
    assert r.status_code == 200
    supplier.refresh_from_db()
    assert supplier.status == "suspended"
    assert supplier.history.first().history_user.username == "admin"


def test_adding_an_action_to_an_approved_plan_by_staff(client_admin):
    from breaches.models import RectificationAction, RectificationPlan

    plan = RectificationPlan.objects.get(status="approved")
    count = plan.actions.count()
    r = _post_form(
        client_admin,
        _url(RectificationAction, "add"),
        plan=str(plan.pk),
        description="Quarterly downstream audit",
        owner="Compliance",
        due_on="2030-01-01",
    )
    assert r.status_code == 302, _errors(r)
    assert plan.actions.count() == count + 1


def test_demoting_an_admin_in_the_admin_removes_admin_access(client_admin):
    from django.contrib.auth.models import Group

    colleague = User.objects.create_user(
        "second-admin", password="a-long-demo-passphrase", role="admin"
    )
    colleague.is_staff = colleague.is_superuser = True
    colleague.save()
    url = _url(User, "change", colleague.pk)
    r = _post_form(client_admin, url, role="auditor")
    assert r.status_code == 302, _errors(r)
    colleague.refresh_from_db()
    assert (colleague.role, colleague.is_staff, colleague.is_superuser) == ("auditor", False, False)
    assert not Group.objects.filter(user=colleague).exists()


def test_deactivating_a_user_in_the_admin_ends_its_tokens(client_admin):
    from rest_framework.authtoken.models import Token

    user = User.objects.get(username="bmt-supplier")
    Token.objects.create(user=user)
    r = _post_form(client_admin, _url(User, "change", user.pk), is_active=[])
    assert r.status_code == 302, _errors(r)
    user.refresh_from_db()
    assert not user.is_active
    assert not Token.objects.filter(user=user).exists()
