"""`python manage.py load_demo`: the seed case as demo data, built through the services
(so the liability rule, the timeline and every constraint apply), plus demo logins.
Idempotent: when the tier-1 supplier of the seed case exists the command does nothing.

The story is told relative to the day it is loaded: the leak 75 days ago, then its
discovery, confirmation, the penalty issued and partly paid, the plan requested,
submitted and approved, its actions due after that approval, some of them overdue now.
Each step runs on the clock of the day it happened (time-machine), so every record and
timeline event carries the date the story gives it. Then the reminder sweep runs once
for today, so the reminder history is not empty on a fresh `make run`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import time_machine
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from breaches import reminders
from breaches import services as breach_services
from suppliers import services
from suppliers.choices import DEFAULT_TIME_ZONE, Language, Role
from suppliers.models import Supplier, User

TIER1_NAME = "Beijing Molding Technology Co. Ltd"
TIER1_LOCAL_NAME = "北京模塑科技有限公司"
# The leak is this many days before the day the demo is loaded.
LEAK_DAYS_AGO = 75


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
        if Supplier.objects.filter(name__iexact=TIER1_NAME).exists():
            self.stdout.write("Demo data already loaded (seed supplier found); nothing to do.")
            return
        today = timezone.localdate()
        with transaction.atomic():
            summary = DemoBuilder(today=today).build()
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}."))
        # The first sweep, as beat would run it today; its mails go out through the worker.
        sweep = reminders.run_sweep(as_of=today)
        self.stdout.write(
            f"Reminder sweep for {today}: {sweep.created} reminder(s) recorded, "
            f"{len(sweep.message_ids)} message(s) for the worker to send."
        )

    def print_logins(self) -> None:
        existing = set(User.objects.values_list("username", flat=True))
        self.stdout.write("  Demo logins (username / password - role):")
        for login in DEMO_LOGINS:
            missing = "" if login.username in existing else "  [not loaded]"
            self.stdout.write(f"    {login.username:<15} {login.password:<22} {login.who}{missing}")


class DemoBuilder:
    """Builds the demo world through the services, as the people of the seed case did,
    each step on the day it happened."""

    def __init__(self, *, today: date) -> None:
        self.today = today

    def day(self, days_ago: int) -> date:
        """The date `days_ago` days before the load day (negative: after it)."""
        return self.today - timedelta(days=days_ago)

    @contextmanager
    def on(self, days_ago: int, hour: int = 2) -> Iterator[None]:
        """Run the services on that day's clock (hour in UTC: 02:00 is 10:00 in Beijing)."""
        instant = datetime.combine(self.day(days_ago), time(hour), tzinfo=UTC)
        with time_machine.travel(instant, tick=False):
            yield

    def build(self) -> str:
        with self.on(730):
            self.users()
            self.suppliers()
        self.ndas()
        self.assets_and_disclosures()
        self.seed_incident()
        self.other_incidents()
        return (
            "6 suppliers, 4 NDAs, 5 assets, 6 incidents (the MS11 bumper leak "
            f"{LEAK_DAYS_AGO} days ago: confirmed, penalised, partly paid and under rectification)"
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
        # The Chinese suppliers' registered names in Chinese (local_name), beside the
        # English names the story and the tests use.
        a = self.admin
        self.tier1 = services.supplier_create(
            actor=a, name=TIER1_NAME, local_name=TIER1_LOCAL_NAME, country="CN"
        )
        self.hebei = services.supplier_create(
            actor=a,
            name="Hebei Precision Mould Studio",
            local_name="河北精密模具工作室",
            country="CN",
            parent=self.tier1,
        )
        self.stuttgart = services.supplier_create(
            actor=a, name="Stuttgart Lighting Systems GmbH", country="DE"
        )
        self.suzhou = services.supplier_create(
            actor=a,
            name="Suzhou Interior Trim Co. Ltd",
            local_name="苏州内饰件有限公司",
            country="CN",
        )
        self.kunshan = services.supplier_create(
            actor=a,
            name="Kunshan Fabric Cutting Workshop",
            local_name="昆山织物裁剪加工厂",
            country="CN",
            parent=self.suzhou,
        )
        self.ljubljana = services.supplier_create(
            actor=a, name="Ljubljana Optics d.o.o.", country="SI", parent=self.stuttgart
        )
        # (supplier, name, email, role, receives reminders[, language, time zone]): Zhang Min
        # reads her reminders in Chinese; the European contacts in their own time zones.
        contacts = [
            (
                self.tier1,
                "Zhang Min",
                "zhang.min@bjmolding.example",
                "primary",
                True,
                "zh-hans",
                "Asia/Shanghai",
            ),
            (self.tier1, "Chen Jie", "chen.jie@bjmolding.example", "security", True),
            (self.tier1, "Liu Yang", "liu.yang@bjmolding.example", "legal", False),
            (self.hebei, "Wang Fang", "wang.fang@hebei-mould.example", "primary", True),
            (
                self.stuttgart,
                "Katrin Vogel",
                "k.vogel@stuttgart-lighting.example",
                "security",
                True,
                "en",
                "Europe/Berlin",
            ),
            (
                self.stuttgart,
                "Jonas Weber",
                "j.weber@stuttgart-lighting.example",
                "legal",
                False,
                "en",
                "Europe/Berlin",
            ),
            (self.suzhou, "Zhou Lan", "zhou.lan@suzhou-trim.example", "primary", True),
            (self.kunshan, "Xu Qiang", "xu.qiang@kunshan-fabric.example", "primary", True),
            (
                self.ljubljana,
                "Ana Novak",
                "ana.novak@lj-optics.example",
                "primary",
                True,
                "en",
                "Europe/Ljubljana",
            ),
        ]
        for supplier, name, email, role, reminded, *locale in contacts:
            language, time_zone = locale or (Language.ENGLISH, DEFAULT_TIME_ZONE)
            services.contact_create(
                actor=a,
                supplier=supplier,
                name=name,
                email=email,
                role=role,
                receives_reminders=reminded,
                language=language,
                time_zone=time_zone,
            )
        self.bmt_user = self._user(
            self.logins["bmt-supplier"], supplier=self.tier1, first_name="Zhang", last_name="Min"
        )
        self.hebei_user = self._user(
            self.logins["hebei-supplier"], supplier=self.hebei, first_name="Wang", last_name="Fang"
        )

    def _nda(self, *, number: str, signed_days_ago: int, **terms):
        """An NDA registered the day it was signed; its reference carries that year."""
        signed_on = self.day(signed_days_ago)
        with self.on(signed_days_ago):
            return services.nda_create(
                actor=self.admin,
                reference=f"NDA-XM-{signed_on.year}-{number}",
                supplier=terms.pop("supplier"),
                signed_on=signed_on,
                **terms,
            )

    def ndas(self) -> None:
        # Its predecessor, expired before the leak: history, not liability.
        self._nda(
            number="008",
            signed_days_ago=720,
            supplier=self.tier1,
            effective_from=self.day(715),
            expires_on=self.day(400),
            covers_subvendors=False,
            penalty_amount=Decimal("300000.00"),
            penalty_currency="CNY",
        )
        # The agreement the seed case turns on: it covers sub-vendors and requires flow-down.
        self.tier1_nda = self._nda(
            number="017",
            signed_days_ago=410,
            supplier=self.tier1,
            effective_from=self.day(400),
            expires_on=self.day(-1100),
            covers_subvendors=True,
            flow_down_required=True,
            penalty_amount=Decimal("1000000.00"),
            penalty_currency="CNY",
            rectification_days=30,
        )
        self.stuttgart_nda = self._nda(
            number="031",
            signed_days_ago=700,
            supplier=self.stuttgart,
            effective_from=self.day(690),
            expires_on=self.day(-1000),
            covers_subvendors=True,
            flow_down_required=False,
            penalty_amount=Decimal("250000.00"),
            penalty_currency="EUR",
            rectification_days=45,
        )
        # Requires flow-down but does not cover sub-vendors: Kunshan is a coverage gap.
        self.suzhou_nda = self._nda(
            number="052",
            signed_days_ago=380,
            supplier=self.suzhou,
            effective_from=self.day(370),
            expires_on=None,
            covers_subvendors=False,
            flow_down_required=True,
            penalty_amount=Decimal("500000.00"),
            penalty_currency="CNY",
            rectification_days=30,
        )

    def assets_and_disclosures(self) -> None:
        a = self.admin
        with self.on(400):
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

        def disclose(asset, supplier, nda, days_ago, version):
            with self.on(days_ago):
                return services.disclosure_create(
                    actor=a,
                    asset=asset,
                    supplier=supplier,
                    nda=nda,
                    disclosed_on=self.day(days_ago),
                    version=version,
                )

        disclose(self.bumper_fr, self.tier1, self.tier1_nda, 200, "v3")
        disclose(self.bumper_rr, self.tier1, self.tier1_nda, 200, "v3")
        # Passed on to the sub-vendor under the tier-1's NDA (which covers sub-vendors).
        self.leaked_disclosure = disclose(self.bumper_fr, self.hebei, self.tier1_nda, 180, "v3-sub")
        disclose(self.bumper_rr, self.hebei, self.tier1_nda, 180, "v3-sub")
        disclose(self.headlamp, self.stuttgart, self.stuttgart_nda, 300, "v1")
        disclose(self.headlamp, self.ljubljana, self.stuttgart_nda, 280, "v1")
        disclose(self.seat_trim, self.suzhou, self.suzhou_nda, 150, "v2")
        # A coverage gap: no NDA reaches this sub-vendor.
        disclose(self.seat_trim, self.kunshan, None, 140, "v2")

    # --- The seed case -------------------------------------------------------------------

    def seed_incident(self) -> None:
        lead, reviewer, supplier_user = self.lead, self.reviewer, self.bmt_user
        leak_day = self.day(LEAK_DAYS_AGO)
        with self.on(LEAK_DAYS_AGO, hour=9):
            incident = breach_services.incident_create(
                actor=lead,
                title="MS11 front and rear bumper renders on social media",
                description=(
                    "Renders of the front and rear bumpers of the unreleased MS11 sedan "
                    f"appeared on social media on {leak_day:%B} {leak_day.day}. The drafts "
                    "were passed by the tier-1 supplier to its sub-vendor, which leaked them."
                ),
                occurred_on=leak_day,
                discovered_on=leak_day,
                channel="social_media",
                severity="critical",
                source_supplier=self.hebei,
                assets=[self.bumper_fr, self.bumper_rr],
                owner=lead,
            )
        with self.on(74):
            breach_services.incident_report_fingerprint(
                actor=lead, incident=incident, fingerprint=self.leaked_disclosure.fingerprint
            )
            breach_services.incident_transition(
                actor=lead, incident=incident, to="investigating", note="Watermark traced."
            )
        # Confirming proposes the NDA's penalty and requests a plan due in 30 days.
        with self.on(72):
            breach_services.incident_transition(
                actor=lead,
                incident=incident,
                to="confirmed",
                note="Sub-vendor leak; the tier-1 answers for its downstream under its NDA.",
            )
        with self.on(70):
            penalty = breach_services.penalty_transition(
                actor=lead,
                penalty=incident.penalties.get(),
                to="issued",
                note="Liquidated damages per the NDA clause.",
            )
        with self.on(69):
            breach_services.penalty_acknowledge(
                actor=supplier_user, penalty=penalty, note="Received; first instalment arranged."
            )

        plan = incident.rectification_plans.get()
        with self.on(60):
            breach_services.plan_update(
                actor=supplier_user,
                plan=plan,
                summary=(
                    "Upgrade security over our downstream operations: watermark and log every "
                    "draft we pass on, bind every sub-vendor with a written NDA, audit access "
                    "and train downstream staff."
                ),
            )
            actions = [
                ("Watermark every draft sent to sub-vendors", 40, "IT security"),
                ("Bind Hebei Precision Mould Studio with a written NDA (flow-down)", 10, "Legal"),
                ("Audit access logs of the drafts repository", 2, "IT"),
                ("Security training for downstream staff", -3, "HR"),
            ]
            created = [
                breach_services.action_create(
                    actor=supplier_user,
                    plan=plan,
                    description=description,
                    due_on=self.day(due_days_ago),
                    owner=owner,
                )
                for description, due_days_ago, owner in actions
            ]
        with self.on(58):
            breach_services.plan_transition(actor=supplier_user, plan=plan, to="submitted")
        with self.on(55):
            breach_services.plan_transition(
                actor=reviewer, plan=plan, to="approved", note="Approved by the second reviewer."
            )
        with self.on(50):
            breach_services.incident_add_note(
                actor=lead,
                incident=incident,
                message="Zero tolerance message sent to every partner.",
                visibility="shared",
            )
        with self.on(45):
            breach_services.penalty_record_payment(
                actor=lead,
                penalty=penalty,
                amount=Decimal("400000.00"),
                paid_on=self.day(45),
                reference="BMT-WIRE-0001",
            )
        with self.on(41):
            breach_services.action_complete(
                actor=supplier_user,
                action=created[0],
                evidence_note="Watermarking tool deployed; sample export attached to the file.",
            )
        self.seed = incident

    def other_incidents(self) -> None:
        lead = self.lead
        # Investigating: the foreign supplier.
        with self.on(15):
            headlamp = breach_services.incident_create(
                actor=lead,
                title="MS11 headlamp sketch shown at a competitor's supplier day",
                occurred_on=self.day(20),
                discovered_on=self.day(15),
                channel="competitor",
                severity="high",
                source_supplier=self.ljubljana,
                assets=[self.headlamp],
            )
        with self.on(14):
            breach_services.incident_transition(actor=lead, incident=headlamp, to="investigating")

        # Confirmed with a plan still owed and past due (45 days): reminders chase it.
        with self.on(55):
            misdirected = breach_services.incident_create(
                actor=lead,
                title="MS11 headlamp specification e-mailed to a wrong address",
                occurred_on=self.day(60),
                discovered_on=self.day(55),
                channel="internal",
                severity="medium",
                source_supplier=self.stuttgart,
                assets=[self.headlamp],
            )
        with self.on(53):
            breach_services.incident_transition(
                actor=lead, incident=misdirected, to="investigating"
            )
        with self.on(49):
            breach_services.incident_transition(actor=lead, incident=misdirected, to="confirmed")
        # Four eyes: issuing it below the NDA clause waits for the second reviewer.
        with self.on(2):
            breach_services.penalty_transition(
                actor=lead,
                penalty=misdirected.penalties.get(),
                to="issued",
                amount=Decimal("50000.00"),
                note="Sent to a distributor by mistake and recalled within the hour.",
            )

        # Reported, with no NDA coverage: the parent's NDA does not cover sub-vendors.
        with self.on(5):
            breach_services.incident_create(
                actor=lead,
                title="Press photo of MS11 seat trim samples",
                occurred_on=self.day(6),
                discovered_on=self.day(5),
                channel="press",
                severity="medium",
                source_supplier=self.kunshan,
                assets=[self.seat_trim],
            )

        # Reported, source unknown.
        with self.on(2):
            breach_services.incident_create(
                actor=lead,
                title="Anonymous post claims MS12 interior details",
                occurred_on=self.day(3),
                discovered_on=self.day(2),
                channel="social_media",
                severity="low",
                assets=[self.dashboard],
            )

        # Dismissed: the "leak" was the buyer's own published teaser.
        with self.on(269):
            teaser = breach_services.incident_create(
                actor=lead,
                title="Forum render of MS12 dashboard",
                occurred_on=self.day(270),
                discovered_on=self.day(269),
                channel="other",
                severity="low",
                assets=[self.dashboard],
            )
        with self.on(268):
            breach_services.incident_transition(actor=lead, incident=teaser, to="investigating")
            breach_services.incident_transition(
                actor=lead,
                incident=teaser,
                to="dismissed",
                note="The render is the official teaser published by marketing.",
            )
