"""`python manage.py load_demo`: the seed case of DESIGN section 1 as demo data, built
through the services (so the liability rule, the timeline and every constraint apply),
plus demo logins. Idempotent: when the seed NDA exists the command does nothing.

The January 22, 2025 leak and its paper trail are facts with fixed dates; the deadlines
that reminders chase are relative to today, so the reminder sweep has work whatever day
the demo is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from breaches import services as breach_services
from suppliers import services
from suppliers.choices import Role
from suppliers.models import NDA, User

SEED_NDA_REFERENCE = "NDA-XM-2024-017"
TIER1_NAME = "Beijing Molding Technology Co. Ltd"
LEAK_DAY = date(2025, 1, 22)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    who: str
    supplier: str | None = None


# Fixed, documented demo passwords (they pass Django's password validators).
DEMO_LOGINS = [
    DemoLogin("admin", "admin-demo-2025", Role.ADMIN, "Administrator (Django admin at /admin/)"),
    DemoLogin("compliance", "compliance-demo-2025", Role.COMPLIANCE, "Compliance lead (manager)"),
    DemoLogin("compliance2", "second-reviewer-2025", Role.COMPLIANCE, "Second compliance officer"),
    DemoLogin("auditor", "auditor-demo-2025", Role.AUDITOR, "Auditor (read-only)"),
    DemoLogin(
        "bmt-supplier", "supplier-demo-2025", Role.SUPPLIER, "Tier-1 supplier user", TIER1_NAME
    ),
    DemoLogin(
        "hebei-supplier",
        "subvendor-demo-2025",
        Role.SUPPLIER,
        "Sub-vendor user",
        "Hebei Precision Mould Studio",
    ),
]


class Command(BaseCommand):
    help = "Load the seed case (MS11 bumper leak) as demo data with demo logins; idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--print-logins",
            action="store_true",
            help="Only print the demo logins table.",
        )

    def handle(self, *args, print_logins: bool = False, **options):
        if print_logins:
            self.print_logins()
            return
        if NDA.objects.filter(reference=SEED_NDA_REFERENCE).exists():
            self.stdout.write("Demo data already loaded (seed NDA found); nothing to do.")
            return
        with transaction.atomic():
            summary = DemoBuilder(today=timezone.localdate()).build()
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}."))

    def print_logins(self) -> None:
        existing = set(User.objects.values_list("username", flat=True))
        self.stdout.write("  Demo logins (username / password - role):")
        for login in DEMO_LOGINS:
            missing = "" if login.username in existing else "  [not loaded]"
            self.stdout.write(f"    {login.username:<15} {login.password:<22} {login.who}{missing}")


class DemoBuilder:
    """Builds the demo world through the services, as the people of DESIGN section 1."""

    def __init__(self, *, today: date) -> None:
        self.today = today

    def build(self) -> str:
        self.users()
        self.suppliers()
        self.ndas()
        self.assets_and_disclosures()
        self.seed_incident()
        self.other_incidents()
        return (
            "6 suppliers, 4 NDAs, 5 assets, 6 incidents (the MS11 bumper leak confirmed, "
            "penalised and under rectification)"
        )

    # --- People ------------------------------------------------------------------------

    def _user(self, login: DemoLogin, supplier=None, **names) -> User:
        # An account of that name made by hand (e.g. createsuperuser) is reused untouched.
        user = User.objects.filter(username=login.username).first()
        if user is not None:
            return user
        return services.user_create(
            actor=None,
            username=login.username,
            password=login.password,
            role=login.role,
            email=f"{login.username}@xiaomi-auto.example"
            if supplier is None
            else f"{login.username}@supplier.example",
            supplier=supplier,
            **names,
        )

    def users(self) -> None:
        logins = {login.username: login for login in DEMO_LOGINS}
        self.admin = self._user(logins["admin"], first_name="Ada", last_name="Admin")
        self.lead = self._user(logins["compliance"], first_name="Li", last_name="Wei")
        self.reviewer = self._user(logins["compliance2"], first_name="Sun", last_name="Hao")
        self.auditor = self._user(logins["auditor"], first_name="Gao", last_name="Ming")
        services.compliance_managers_group().user_set.add(self.lead)
        self.logins = logins

    # --- Suppliers ---------------------------------------------------------------------

    def suppliers(self) -> None:
        a = self.admin
        self.tier1 = services.supplier_create(actor=a, name=TIER1_NAME, country="CN")
        self.hebei = services.supplier_create(
            actor=a, name="Hebei Precision Mould Studio", country="CN", parent=self.tier1
        )
        self.stuttgart = services.supplier_create(
            actor=a, name="Stuttgart Lighting Systems GmbH", country="DE"
        )
        self.suzhou = services.supplier_create(
            actor=a, name="Suzhou Interior Trim Co. Ltd", country="CN"
        )
        self.kunshan = services.supplier_create(
            actor=a, name="Kunshan Fabric Cutting Workshop", country="CN", parent=self.suzhou
        )
        self.ljubljana = services.supplier_create(
            actor=a, name="Ljubljana Optics d.o.o.", country="SI", parent=self.stuttgart
        )
        contacts = [
            (self.tier1, "Zhang Min", "zhang.min@bjmolding.example", "primary", True),
            (self.tier1, "Chen Jie", "chen.jie@bjmolding.example", "security", True),
            (self.tier1, "Liu Yang", "liu.yang@bjmolding.example", "legal", False),
            (self.hebei, "Wang Fang", "wang.fang@hebei-mould.example", "primary", True),
            (
                self.stuttgart,
                "Katrin Vogel",
                "k.vogel@stuttgart-lighting.example",
                "security",
                True,
            ),
            (self.stuttgart, "Jonas Weber", "j.weber@stuttgart-lighting.example", "legal", False),
            (self.suzhou, "Zhou Lan", "zhou.lan@suzhou-trim.example", "primary", True),
            (self.kunshan, "Xu Qiang", "xu.qiang@kunshan-fabric.example", "primary", True),
            (self.ljubljana, "Ana Novak", "ana.novak@lj-optics.example", "primary", True),
        ]
        for supplier, name, email, role, reminded in contacts:
            services.contact_create(
                actor=a,
                supplier=supplier,
                name=name,
                email=email,
                role=role,
                receives_reminders=reminded,
            )
        self.bmt_user = self._user(
            self.logins["bmt-supplier"], supplier=self.tier1, first_name="Zhang", last_name="Min"
        )
        self.hebei_user = self._user(
            self.logins["hebei-supplier"], supplier=self.hebei, first_name="Wang", last_name="Fang"
        )

    def ndas(self) -> None:
        a = self.admin
        # The agreement the seed case turns on: it covers sub-vendors and requires flow-down.
        self.tier1_nda = services.nda_create(
            actor=a,
            reference=SEED_NDA_REFERENCE,
            supplier=self.tier1,
            signed_on=date(2024, 2, 20),
            effective_from=date(2024, 3, 1),
            expires_on=date(2029, 3, 1),
            covers_subvendors=True,
            flow_down_required=True,
            penalty_amount=Decimal("1000000.00"),
            penalty_currency="CNY",
            rectification_days=30,
        )
        # Its predecessor, expired before the leak: history, not liability.
        services.nda_create(
            actor=a,
            reference="NDA-XM-2021-008",
            supplier=self.tier1,
            signed_on=date(2020, 12, 10),
            effective_from=date(2021, 1, 1),
            expires_on=date(2024, 1, 1),
            covers_subvendors=False,
            penalty_amount=Decimal("300000.00"),
            penalty_currency="CNY",
        )
        self.stuttgart_nda = services.nda_create(
            actor=a,
            reference="NDA-XM-2023-031",
            supplier=self.stuttgart,
            signed_on=date(2023, 5, 15),
            effective_from=date(2023, 6, 1),
            expires_on=date(2028, 6, 1),
            covers_subvendors=True,
            flow_down_required=False,
            penalty_amount=Decimal("250000.00"),
            penalty_currency="EUR",
            rectification_days=45,
        )
        # Requires flow-down but does not cover sub-vendors: Kunshan is a coverage gap.
        self.suzhou_nda = services.nda_create(
            actor=a,
            reference="NDA-XM-2024-052",
            supplier=self.suzhou,
            signed_on=date(2024, 4, 2),
            effective_from=date(2024, 4, 15),
            expires_on=None,
            covers_subvendors=False,
            flow_down_required=True,
            penalty_amount=Decimal("500000.00"),
            penalty_currency="CNY",
            rectification_days=30,
        )

    def assets_and_disclosures(self) -> None:
        a = self.admin
        self.bumper_fr = services.asset_create(
            actor=a,
            code="MS11-BUMPER-FR",
            name="MS11 front bumper design drafts",
            project="MS11",
            classification="secret",
        )
        self.bumper_rr = services.asset_create(
            actor=a,
            code="MS11-BUMPER-RR",
            name="MS11 rear bumper design drafts",
            project="MS11",
            classification="secret",
        )
        self.headlamp = services.asset_create(
            actor=a,
            code="MS11-HEADLAMP-L",
            name="MS11 left headlamp optics specification",
            project="MS11",
            classification="confidential",
        )
        self.seat_trim = services.asset_create(
            actor=a,
            code="MS11-SEAT-TRIM",
            name="MS11 seat trim fabric samples",
            project="MS11",
            classification="confidential",
        )
        self.dashboard = services.asset_create(
            actor=a,
            code="MS12-DASH-CONCEPT",
            name="MS12 dashboard concept renders",
            project="MS12",
            classification="secret",
        )

        def disclose(asset, supplier, nda, on, version):
            return services.disclosure_create(
                actor=a, asset=asset, supplier=supplier, nda=nda, disclosed_on=on, version=version
            )

        disclose(self.bumper_fr, self.tier1, self.tier1_nda, date(2024, 10, 15), "v3")
        disclose(self.bumper_rr, self.tier1, self.tier1_nda, date(2024, 10, 15), "v3")
        # Passed on to the sub-vendor under the tier-1's NDA (which covers sub-vendors).
        self.leaked_disclosure = disclose(
            self.bumper_fr, self.hebei, self.tier1_nda, date(2024, 11, 5), "v3-sub"
        )
        disclose(self.bumper_rr, self.hebei, self.tier1_nda, date(2024, 11, 5), "v3-sub")
        disclose(self.headlamp, self.stuttgart, self.stuttgart_nda, date(2024, 9, 1), "v1")
        disclose(self.headlamp, self.ljubljana, self.stuttgart_nda, date(2024, 9, 20), "v1")
        disclose(self.seat_trim, self.suzhou, self.suzhou_nda, date(2024, 12, 1), "v2")
        # A coverage gap: no NDA reaches this sub-vendor.
        disclose(self.seat_trim, self.kunshan, None, date(2024, 12, 10), "v2")

    # --- The seed case -------------------------------------------------------------------

    def seed_incident(self) -> None:
        lead, reviewer, supplier_user = self.lead, self.reviewer, self.bmt_user
        incident = breach_services.incident_create(
            actor=lead,
            title="MS11 front and rear bumper renders on social media",
            description=(
                "Renders of the front and rear bumpers of the unreleased MS11 sedan appeared on "
                "social media on January 22. The drafts were passed by the tier-1 supplier to "
                "its sub-vendor, which leaked them."
            ),
            occurred_on=LEAK_DAY,
            discovered_on=LEAK_DAY,
            channel="social_media",
            severity="critical",
            source_supplier=self.hebei,
            assets=[self.bumper_fr, self.bumper_rr],
            owner=lead,
        )
        breach_services.incident_report_fingerprint(
            actor=lead, incident=incident, fingerprint=self.leaked_disclosure.fingerprint
        )
        breach_services.incident_transition(
            actor=lead, incident=incident, to="investigating", note="Watermark traced."
        )
        confirmed_on = date(2025, 1, 24)
        breach_services.incident_transition(
            actor=lead,
            incident=incident,
            to="confirmed",
            note="Sub-vendor leak; the tier-1 answers for its downstream under its NDA.",
            today=confirmed_on,
        )
        penalty = breach_services.penalty_transition(
            actor=lead,
            penalty=incident.penalties.get(),
            to="issued",
            note="Liquidated damages per the NDA clause.",
            today=date(2025, 1, 27),
        )
        breach_services.penalty_acknowledge(
            actor=supplier_user, penalty=penalty, note="Received; first instalment arranged."
        )
        breach_services.penalty_record_payment(
            actor=lead,
            penalty=penalty,
            amount=Decimal("400000.00"),
            paid_on=date(2025, 2, 20),
            reference="BMT-WIRE-0001",
        )

        plan = incident.rectification_plans.get()
        breach_services.plan_update(
            actor=supplier_user,
            plan=plan,
            summary=(
                "Upgrade security over our downstream operations: watermark and log every "
                "draft we pass on, bind every sub-vendor with a written NDA, audit access "
                "and train downstream staff."
            ),
        )
        drafted_on = date(2025, 2, 10)
        actions = [
            ("Watermark every draft sent to sub-vendors", date(2025, 3, 15), "IT security"),
            (
                "Bind Hebei Precision Mould Studio with a written NDA (flow-down)",
                self.today - timedelta(days=10),
                "Legal",
            ),
            ("Audit access logs of the drafts repository", self.today - timedelta(days=2), "IT"),
            ("Security training for downstream staff", self.today + timedelta(days=3), "HR"),
        ]
        created = [
            breach_services.action_create(
                actor=supplier_user,
                plan=plan,
                description=description,
                due_on=due_on,
                owner=owner,
                today=drafted_on,
            )
            for description, due_on, owner in actions
        ]
        breach_services.plan_transition(actor=supplier_user, plan=plan, to="submitted")
        breach_services.plan_transition(
            actor=reviewer, plan=plan, to="approved", note="Approved by the second reviewer."
        )
        breach_services.action_complete(
            actor=supplier_user,
            action=created[0],
            evidence_note="Watermarking tool deployed; sample export attached to the file.",
            completed_on=date(2025, 3, 10),
        )
        breach_services.incident_add_note(
            actor=lead,
            incident=incident,
            message="Zero tolerance message sent to every partner.",
        )
        self.seed = incident

    def other_incidents(self) -> None:
        lead = self.lead
        # Investigating: the foreign supplier.
        headlamp = breach_services.incident_create(
            actor=lead,
            title="MS11 headlamp sketch shown at a competitor's supplier day",
            occurred_on=self.today - timedelta(days=20),
            discovered_on=self.today - timedelta(days=15),
            channel="competitor",
            severity="high",
            source_supplier=self.ljubljana,
            assets=[self.headlamp],
        )
        breach_services.incident_transition(actor=lead, incident=headlamp, to="investigating")

        # Confirmed recently with a plan still owed and past due: reminders chase it.
        misdirected = breach_services.incident_create(
            actor=lead,
            title="MS11 headlamp specification e-mailed to a wrong address",
            occurred_on=self.today - timedelta(days=60),
            discovered_on=self.today - timedelta(days=55),
            channel="internal",
            severity="medium",
            source_supplier=self.stuttgart,
            assets=[self.headlamp],
        )
        breach_services.incident_transition(actor=lead, incident=misdirected, to="investigating")
        breach_services.incident_transition(
            actor=lead,
            incident=misdirected,
            to="confirmed",
            today=self.today - timedelta(days=49),
        )

        # Reported, with no NDA coverage: the parent's NDA does not cover sub-vendors.
        breach_services.incident_create(
            actor=lead,
            title="Press photo of MS11 seat trim samples",
            occurred_on=self.today - timedelta(days=6),
            discovered_on=self.today - timedelta(days=5),
            channel="press",
            severity="medium",
            source_supplier=self.kunshan,
            assets=[self.seat_trim],
        )

        # Reported, source unknown.
        breach_services.incident_create(
            actor=lead,
            title="Anonymous post claims MS12 interior details",
            occurred_on=self.today - timedelta(days=3),
            discovered_on=self.today - timedelta(days=2),
            channel="social_media",
            severity="low",
            assets=[self.dashboard],
        )

        # Dismissed: the "leak" was the buyer's own published teaser.
        teaser = breach_services.incident_create(
            actor=lead,
            title="Forum render of MS12 dashboard",
            occurred_on=date(2025, 3, 2),
            discovered_on=date(2025, 3, 3),
            channel="other",
            severity="low",
            assets=[self.dashboard],
        )
        breach_services.incident_transition(actor=lead, incident=teaser, to="investigating")
        breach_services.incident_transition(
            actor=lead,
            incident=teaser,
            to="dismissed",
            note="The render is the official teaser published by marketing.",
        )
