"""Seed a large, realistic, deterministic data set for benchmarks.

`python manage.py seed_scale --incidents 1000000 [--suppliers 20000] [--seed 42]
[--as-of YYYY-MM-DD] [--database-url postgres://...] [--force]`

Same seed, scale and as-of date give the same rows. The shape follows the workflows of
DESIGN section 4: suppliers in tiers 1-3 (inserted tier by tier, as the tree trigger
wants), a Zipf-like skew (a few suppliers with most of the incidents), NDAs that decide
liability by the liability rule, disclosures with unique fingerprints, and incidents
whose penalties, payments, plans and actions are in states the services could have
produced (closed incidents have settled penalties and verified plans, paid penalties
are paid in full by their payments, ~15% of plans are overdue on the as-of date).

PostgreSQL is loaded with COPY (psycopg 3), chunk by chunk in one transaction each, then
VACUUMed and ANALYZEd. SQLite (tests, quick looks) gets the same rows through executemany and is
refused above SQLITE_MAX_INCIDENTS. Rows are written with explicit ids, so the target
must hold no suppliers or incidents yet; `--force` empties the seeded tables first
(destructive: it is meant for a benchmark database).
"""

from __future__ import annotations

import bisect
import itertools
import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connections, transaction
from django.utils import timezone

SQLITE_MAX_INCIDENTS = 100_000
CHUNK_INCIDENTS = 20_000
SPAN_DAYS = 3 * 365  # incidents are spread over the three years before the as-of date
ZIPF_EXPONENT = 1.0

COLUMNS: dict[str, tuple[str, ...]] = {
    "suppliers_supplier": (
        "id",
        "name",
        "country",
        "tier",
        "status",
        "created_at",
        "updated_at",
        "parent_id",
    ),
    "suppliers_contact": (
        "id",
        "name",
        "email",
        "role",
        "receives_reminders",
        "created_at",
        "supplier_id",
    ),
    "suppliers_nda": (
        "id",
        "reference",
        "signed_on",
        "effective_from",
        "expires_on",
        "covers_subvendors",
        "flow_down_required",
        "penalty_amount",
        "penalty_currency",
        "rectification_days",
        "created_at",
        "updated_at",
        "supplier_id",
    ),
    "suppliers_confidentialasset": (
        "id",
        "code",
        "name",
        "project",
        "classification",
        "created_at",
    ),
    "suppliers_disclosure": (
        "id",
        "disclosed_on",
        "version",
        "fingerprint",
        "created_at",
        "asset_id",
        "nda_id",
        "supplier_id",
    ),
    "breaches_incident": (
        "id",
        "reference",
        "title",
        "description",
        "occurred_on",
        "discovered_on",
        "channel",
        "no_nda_coverage",
        "liability_overridden",
        "liability_override_reason",
        "leak_fingerprint",
        "severity",
        "status",
        "confirmed_at",
        "created_at",
        "updated_at",
        "nda_id",
        "owner_id",
        "responsible_supplier_id",
        "source_supplier_id",
    ),
    "breaches_incident_assets": ("id", "incident_id", "confidentialasset_id"),
    "breaches_incidentevent": (
        "id",
        "kind",
        "from_status",
        "to_status",
        "message",
        "created_at",
        "actor_id",
        "incident_id",
        "penalty_id",
        "plan_id",
    ),
    "breaches_penalty": (
        "id",
        "amount",
        "currency",
        "paid_amount",
        "proposed_on",
        "due_on",
        "status",
        "issued_at",
        "created_at",
        "updated_at",
        "incident_id",
        "issued_by_id",
        "supplier_id",
    ),
    "breaches_payment": (
        "id",
        "amount",
        "paid_on",
        "reference",
        "created_at",
        "recorded_by_id",
        "penalty_id",
    ),
    "breaches_rectificationplan": (
        "id",
        "requested_on",
        "due_on",
        "summary",
        "status",
        "changes_requested_reason",
        "submitted_at",
        "approved_at",
        "completed_at",
        "verified_at",
        "created_at",
        "updated_at",
        "incident_id",
        "supplier_id",
    ),
    "breaches_rectificationaction": (
        "id",
        "description",
        "owner",
        "created_on",
        "due_on",
        "status",
        "completed_on",
        "evidence_note",
        "created_at",
        "updated_at",
        "plan_id",
    ),
    "breaches_incidentsequence": ("id", "year", "last_number"),
}
# Emptied by --force, children first (SQLite deletes in this order).
SEEDED_TABLES = (
    "breaches_remindermessage",
    "breaches_reminder",
    "breaches_rectificationaction",
    "breaches_incidentevent",
    "breaches_payment",
    "breaches_rectificationplan",
    "breaches_penalty",
    "breaches_evidence",
    "breaches_incident_assets",
    "breaches_incident",
    "breaches_incidentsequence",
    "suppliers_disclosure",
    "suppliers_confidentialasset",
    "suppliers_nda",
    "suppliers_contact",
)

COUNTRIES = ["CN"] * 14 + ["DE", "JP", "KR", "US", "VN", "TW", "MX", "IN", "TH", "FR", "IT", "CZ"]
CITY = [
    "Beijing",
    "Shanghai",
    "Shenzhen",
    "Suzhou",
    "Hebei",
    "Ningbo",
    "Wuhan",
    "Chongqing",
    "Tianjin",
    "Dongguan",
    "Hefei",
    "Changzhou",
    "Foshan",
    "Xiamen",
]
TRADE = [
    "Precision Molding",
    "Mould Studio",
    "Automotive Trim",
    "Die Casting",
    "Glass Works",
    "Electronics",
    "Lighting Systems",
    "Seating",
    "Harness Tech",
    "Rendering Studio",
    "Tooling",
    "Composites",
    "Battery Components",
    "Stamping",
]
PROJECTS = ["MS11", "SU7", "YU7", "MX11", "SU9", "MS12", "HX5", "QZ3"]
PARTS = [
    ("BUMPER-FR", "front bumper drafts"),
    ("BUMPER-RR", "rear bumper drafts"),
    ("LAMP-HEAD", "headlamp design"),
    ("LAMP-TAIL", "tail lamp design"),
    ("GRILLE", "grille surface model"),
    ("SEAT-FR", "front seat frame"),
    ("DASH", "dashboard layout"),
    ("WHEEL", "wheel rim renders"),
    ("MIRROR", "side mirror housing"),
    ("SPOILER", "rear spoiler drawing"),
]
LEAK_KIND = ["Renders", "Drawings", "Photos", "CAD files", "Specifications", "Screenshots"]
ACTION_TEXT = [
    "Watermark every drawing handed to sub-vendors",
    "Restrict CAD workstation USB ports",
    "Bind every sub-vendor by a written NDA with flow-down",
    "Train design staff on confidentiality handling",
    "Log and review access to the project share weekly",
    "Encrypt design archives at rest",
    "Remove camera phones from the modelling room",
    "Audit the sub-vendor's storage of drafts",
    "Appoint a confidentiality officer for the project",
    "Revoke stale accounts on the file exchange",
]
OWNERS = ["IT security lead", "Plant manager", "Quality manager", "Legal counsel", "CISO"]
CHANNELS = ["social_media", "press", "competitor", "internal", "other"]
CHANNEL_W = [35, 10, 15, 25, 15]
SEVERITIES = ["low", "medium", "high", "critical"]
SEVERITY_W = [20, 45, 25, 10]
PENALTY_AMOUNTS = [Decimal(v) for v in ("100000.00", "250000.00", "500000.00", "1000000.00")]
CURRENCIES = ["CNY"] * 7 + ["EUR", "EUR", "USD"]
RECTIFICATION_DAYS = [14, 21, 30, 30, 30, 45, 60]
# Plan fates once the submission deadline has passed; requested + changes_requested
# (17% of those past their deadline) are the overdue plans.
PLAN_FATES = ["requested", "changes_requested", "submitted", "approved", "completed", "verified"]
PLAN_FATE_W = [11.0, 6.0, 4.5, 18.0, 6.0, 54.5]
EXTRA_PLAN_SHARE = 0.55  # confirmed leaks by a sub-vendor that must also rectify itself


@dataclass(frozen=True)
class Liable:
    supplier_id: int
    nda_id: int | None
    amount: Decimal | None
    currency: str | None
    rectification_days: int


@dataclass
class Counts:
    suppliers: int = 0
    contacts: int = 0
    ndas: int = 0
    assets: int = 0
    disclosures: int = 0
    incidents: int = 0
    incident_assets: int = 0
    events: int = 0
    penalties: int = 0
    payments: int = 0
    plans: int = 0
    overdue_plans: int = 0
    actions: int = 0


class Writer:
    """Writes rows to one database: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, alias: str):
        self.alias = alias
        self.connection = connections[alias]
        self.vendor = self.connection.vendor

    def write(self, table: str, rows: list[tuple]) -> None:
        if not rows:
            return
        columns = COLUMNS[table]
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                raw = cursor.cursor  # the psycopg cursor under Django's wrapper
                with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                ops = self.connection.ops
                adapted = [tuple(_adapt(ops, value) for value in row) for row in rows]
                placeholders = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",  # noqa: S608
                    adapted,
                )


def _adapt(ops, value):
    if isinstance(value, datetime):
        return ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return ops.adapt_datefield_value(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


class ZipfPicker:
    """Picks ids with probability ~ 1/rank^s over a shuffled order: a few ids get most."""

    def __init__(self, rng: random.Random, ids: list[int], exponent: float = ZIPF_EXPONENT):
        order = list(ids)
        rng.shuffle(order)
        self.order = order
        self.cum = list(
            itertools.accumulate(1.0 / (rank**exponent) for rank in range(1, len(order) + 1))
        )
        self.total = self.cum[-1]
        self.rng = rng

    def pick(self) -> int:
        return self.order[bisect.bisect(self.cum, self.rng.random() * self.total)]


def _at(day: date, seconds: int = 43_200) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=seconds)


class Generator:
    """Builds the rows. All randomness comes from one seeded RNG, consumed in a fixed
    order, so the rows depend on (seed, scale, as-of date) only."""

    def __init__(
        self,
        *,
        writer: Writer,
        incidents: int,
        suppliers: int,
        seed: int,
        as_of: date,
        staff_ids: list[int],
        log,
    ):
        self.writer = writer
        self.n_incidents = incidents
        self.n_suppliers = suppliers
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.last_day = as_of - timedelta(days=1)
        self.end_dt = _at(self.last_day, 86_399)
        self.start = as_of - timedelta(days=SPAN_DAYS)
        self.staff_ids = staff_ids
        self.log = log
        self.counts = Counts()
        self.supplier_names: dict[int, str] = {}
        self.parent: dict[int, int | None] = {}
        self.liable: dict[int, Liable | None] = {}
        self.nda_refs: dict[int, str] = {}
        self.disclosed: dict[int, list[tuple[int, str]]] = {}
        self.sequence: dict[int, int] = {}

    # -- helpers -----------------------------------------------------------------------

    def _clamp(self, day: date) -> date:
        return min(day, self.last_day)

    def _clamp_dt(self, moment: datetime) -> datetime:
        return min(moment, self.end_dt)

    def _later(self, moment: datetime, low_days: int, high_days: int) -> datetime:
        seconds = self.rng.randint(low_days * 86_400, high_days * 86_400)
        return self._clamp_dt(moment + timedelta(seconds=seconds))

    def _atomic_write(self, tables: list[tuple[str, list[tuple]]]) -> None:
        with transaction.atomic(using=self.writer.alias):
            for table, rows in tables:
                self.writer.write(table, rows)

    # -- suppliers, NDAs, contacts -------------------------------------------------------

    def suppliers(self) -> None:
        rng = self.rng
        n = self.n_suppliers
        tier_sizes = [max(1, n // 5), max(0, (n - n // 5) // 2)]
        tier_sizes.append(n - tier_sizes[0] - tier_sizes[1])
        created = _at(self.start - timedelta(days=900))
        next_id = 1
        previous_tier: list[int] = []
        for tier, size in enumerate(tier_sizes, start=1):
            rows = []
            parents = ZipfPicker(rng, previous_tier, 0.8) if previous_tier else None
            ids = []
            for _ in range(size):
                sid = next_id
                next_id += 1
                parent = parents.pick() if parents else None
                name = f"{rng.choice(CITY)} {rng.choice(TRADE)} {sid:05d} Co. Ltd"
                status = rng.choices(["active", "suspended", "terminated"], [92, 5, 3])[0]
                moment = created + timedelta(minutes=sid)
                rows.append(
                    (sid, name, rng.choice(COUNTRIES), tier, status, moment, moment, parent)
                )
                self.supplier_names[sid] = name
                self.parent[sid] = parent
                ids.append(sid)
            # One tier at a time: the tree trigger checks each row against its parent.
            self._atomic_write([("suppliers_supplier", rows)])
            previous_tier = ids
        self.counts.suppliers = n
        self.log(f"suppliers: {n} (tiers {tier_sizes})")

    def ndas_and_contacts(self) -> None:
        rng = self.rng
        nda_rows, contact_rows = [], []
        own_nda: dict[int, tuple[int, bool, Decimal, str, int]] = {}
        nda_id = contact_id = 0
        for sid in sorted(self.supplier_names):
            tier = (
                1
                if self.parent[sid] is None
                else (2 if self.parent[self.parent[sid]] is None else 3)
            )
            share = {1: 1.0, 2: 0.30, 3: 0.12}[tier]
            created = _at(self.start - timedelta(days=800))
            if tier == 1 and rng.random() < 0.25:
                # An older agreement, expired before the period: history, no liability.
                nda_id += 1
                effective = self.start - timedelta(days=rng.randint(800, 1500))
                expires = self.start - timedelta(days=rng.randint(1, 100))
                nda_rows.append(
                    (
                        nda_id,
                        f"NDA-S{sid:05d}-OLD",
                        effective - timedelta(days=rng.randint(0, 30)),
                        effective,
                        expires,
                        rng.random() < 0.5,
                        False,
                        rng.choice(PENALTY_AMOUNTS),
                        "CNY",
                        30,
                        created,
                        created,
                        sid,
                    )
                )
            if rng.random() < share:
                nda_id += 1
                effective = self.start - timedelta(days=rng.randint(30, 700))
                expires = (
                    None
                    if rng.random() < 0.6
                    else self.as_of + timedelta(days=rng.randint(180, 1500))
                )
                covers = rng.random() < (0.85 if tier == 1 else 0.5)
                amount = rng.choice(PENALTY_AMOUNTS)
                currency = rng.choice(CURRENCIES)
                days = rng.choice(RECTIFICATION_DAYS)
                reference = f"NDA-S{sid:05d}-{effective.year}"
                nda_rows.append(
                    (
                        nda_id,
                        reference,
                        effective - timedelta(days=rng.randint(0, 30)),
                        effective,
                        expires,
                        covers,
                        covers and rng.random() < 0.8,
                        amount,
                        currency,
                        days,
                        created,
                        created,
                        sid,
                    )
                )
                own_nda[sid] = (nda_id, covers, amount, currency, days)
                self.nda_refs[nda_id] = reference
            for k in range(rng.randint(1, 3)):
                contact_id += 1
                role = "security" if k == 0 else rng.choice(["primary", "legal", "other"])
                contact_rows.append(
                    (
                        contact_id,
                        f"Contact {k + 1} of supplier {sid}",
                        f"{role}{k}@s{sid}.example.com",
                        role,
                        k == 0 or rng.random() < 0.3,
                        created,
                        sid,
                    )
                )
        # The liability rule, once per supplier: its own NDA, else the nearest ancestor's
        # NDA covering sub-vendors (every active NDA is active over the whole period).
        for sid in self.supplier_names:
            liable = None
            node, depth = sid, 0
            while node is not None:
                nda = own_nda.get(node)
                if nda is not None and (depth == 0 or nda[1]):
                    liable = Liable(node, nda[0], nda[2], nda[3], nda[4])
                    break
                node, depth = self.parent[node], depth + 1
            self.liable[sid] = liable
        self._atomic_write([("suppliers_nda", nda_rows), ("suppliers_contact", contact_rows)])
        self.counts.ndas, self.counts.contacts = len(nda_rows), len(contact_rows)
        self.log(f"ndas: {len(nda_rows)}, contacts: {len(contact_rows)}")

    def _root(self, sid: int) -> int:
        while self.parent[sid] is not None:
            sid = self.parent[sid]
        return sid

    # -- assets and disclosures ----------------------------------------------------------

    def assets_and_disclosures(self, picker: ZipfPicker) -> None:
        rng = self.rng
        n_assets = max(10, self.n_incidents // 100)
        asset_rows = []
        created = _at(self.start - timedelta(days=400))
        for aid in range(1, n_assets + 1):
            project = PROJECTS[aid % len(PROJECTS)]
            part, label = PARTS[(aid // len(PROJECTS)) % len(PARTS)]
            classification = rng.choices(["internal", "confidential", "secret"], [10, 50, 40])[0]
            asset_rows.append(
                (
                    aid,
                    f"{project}-{part}-{aid:06d}",
                    f"{project} {label}",
                    project,
                    classification,
                    created,
                )
            )
        self._atomic_write([("suppliers_confidentialasset", asset_rows)])
        self.counts.assets = n_assets
        asset_picker = ZipfPicker(rng, list(range(1, n_assets + 1)), 0.7)

        n_disclosures = self.n_incidents
        first = self.start - timedelta(days=365)
        step = (SPAN_DAYS + 365) * 86_400 / max(1, n_disclosures)
        rows: list[tuple] = []
        for did in range(1, n_disclosures + 1):
            sid = picker.pick()
            aid = asset_picker.pick()
            moment = self._clamp_dt(_at(first, int((did - 1) * step)))
            liable = self.liable[sid]
            # 5% handed over outside any agreement: the coverage gaps staff must chase.
            nda_id = liable.nda_id if liable is not None and rng.random() < 0.95 else None
            fingerprint = f"{rng.getrandbits(96):024x}{did:08x}"
            rows.append(
                (did, moment.date(), f"v{rng.randint(1, 5)}", fingerprint, moment, aid, nda_id, sid)
            )
            seen = self.disclosed.setdefault(sid, [])
            if len(seen) < 8:
                seen.append((aid, fingerprint))
            if len(rows) >= CHUNK_INCIDENTS * 2:
                self._atomic_write([("suppliers_disclosure", rows)])
                rows = []
        self._atomic_write([("suppliers_disclosure", rows)])
        self.counts.disclosures = n_disclosures
        self.log(f"assets: {n_assets}, disclosures: {n_disclosures}")
        self.asset_picker = asset_picker

    # -- incidents and what follows ------------------------------------------------------

    def incidents(self, picker: ZipfPicker) -> None:
        rng = self.rng
        n = self.n_incidents
        step = SPAN_DAYS * 86_400 / n
        start_dt = _at(self.start, 0)
        ids = {"asset": 0, "event": 0, "penalty": 0, "payment": 0, "plan": 0, "action": 0}
        buffers: dict[str, list[tuple]] = {table: [] for table in COLUMNS}
        for iid in range(1, n + 1):
            created = start_dt + timedelta(
                seconds=int((iid - 1) * step + rng.random() * step * 0.9)
            )
            self._incident(iid, created, picker, ids, buffers)
            if iid % CHUNK_INCIDENTS == 0 or iid == n:
                self._flush(buffers)
                self.log(f"incidents: {iid}/{n}")
        sequence_rows = [
            (k, year, last) for k, (year, last) in enumerate(sorted(self.sequence.items()), 1)
        ]
        self._atomic_write([("breaches_incidentsequence", sequence_rows)])

    def _flush(self, buffers: dict[str, list[tuple]]) -> None:
        order = [
            "breaches_incident",
            "breaches_incident_assets",
            "breaches_incidentevent",
            "breaches_penalty",
            "breaches_payment",
            "breaches_rectificationplan",
            "breaches_rectificationaction",
        ]
        self._atomic_write([(table, buffers[table]) for table in order])
        for table in order:
            buffers[table] = []

    def _incident(self, iid, created, picker, ids, buffers) -> None:
        rng = self.rng
        counts = self.counts
        created_day = created.date()
        age = (self.as_of - created_day).days
        source = picker.pick() if rng.random() >= 0.05 else None
        liable = self.liable[source] if source is not None else None
        occurred = created_day - timedelta(days=rng.randint(0, 40))
        discovered = min(created_day, occurred + timedelta(days=rng.randint(0, 14)))
        owner = rng.choice(self.staff_ids)
        channel = rng.choices(CHANNELS, CHANNEL_W)[0]
        severity = rng.choices(SEVERITIES, SEVERITY_W)[0]

        # What happened to it: still open, dismissed, or confirmed (and then how far).
        overridden = False
        if source is None:
            status = rng.choices(["reported", "investigating", "dismissed"], [30, 40, 30])[0]
        elif age < 5:
            status = rng.choices(["reported", "investigating"], [60, 40])[0]
        else:
            roll = rng.random()
            if roll < 0.03:
                status = "reported"
            elif roll < 0.08:
                status = "investigating"
            elif roll < 0.15:
                status = "dismissed"
            else:
                status = "confirmed"
            if status == "confirmed" and liable is None:
                # No NDA reaches the source: staff decide, half the time against the tier-1.
                if rng.random() < 0.5:
                    overridden = True
                    root = self._root(source)
                    liable = Liable(root, None, None, None, 30)
                else:
                    status = "investigating"

        responsible = liable.supplier_id if liable is not None else None
        nda_id = liable.nda_id if liable is not None else None
        assets = self._incident_assets(source)
        fingerprint = ""
        if source is not None and self.disclosed.get(source) and rng.random() < 0.1:
            fingerprint = rng.choice(self.disclosed[source])[1]

        confirmed_at = None
        plans: list[tuple[int, str]] = []  # (supplier, fate)
        if status == "confirmed":
            confirmed_day = self._clamp(
                created_day + timedelta(days=rng.randint(1, min(20, age - 1)))
            )
            confirmed_at = _at(confirmed_day, rng.randint(28_800, 64_800))
            due = confirmed_day + timedelta(days=liable.rectification_days)
            fate = self._plan_fate(due)
            if fate == "completed":
                status = rng.choice(["confirmed", "resolved"])
            elif fate == "verified":
                status = "resolved" if rng.random() < 0.3 else "closed"
            plans.append((responsible, fate))
            if source != responsible and rng.random() < EXTRA_PLAN_SHARE:
                if status == "closed":
                    extra = "verified"
                elif status == "resolved":
                    extra = rng.choice(["completed", "verified"])
                else:
                    extra = self._plan_fate(due)
                plans.append((source, extra))

        year = created.year
        number = self.sequence.get(year, 0) + 1
        self.sequence[year] = number
        kind = rng.choice(LEAK_KIND)
        leaked = assets[0][1] if assets else "unreleased designs"
        title = f"{kind} of {leaked} on {channel.replace('_', ' ')}"
        coverage = (
            f"Liable: {self.supplier_names[responsible]}"
            + (f" under {self.nda_refs[nda_id]}." if nda_id else " (decided by staff).")
            if responsible
            else "No NDA coverage: staff must decide liability."
        )
        updated = confirmed_at or created
        buffers["breaches_incident"].append(
            (
                iid,
                f"INC-{year}-{number:06d}",
                title[:200],
                f"{kind} surfaced via {channel.replace('_', ' ')}; traced during investigation.",
                occurred,
                discovered,
                channel,
                responsible is None or overridden,
                overridden,
                "No NDA reaches the source; the tier-1 that engaged it answers."
                if overridden
                else "",
                fingerprint,
                severity,
                status,
                confirmed_at,
                created,
                updated,
                nda_id,
                owner,
                responsible,
                source,
            )
        )
        counts.incidents += 1
        for asset_id, _code in assets:
            ids["asset"] += 1
            buffers["breaches_incident_assets"].append((ids["asset"], iid, asset_id))
        counts.incident_assets += len(assets)
        ids["event"] += 1
        buffers["breaches_incidentevent"].append(
            (ids["event"], "created", "", "reported", coverage, created, owner, iid, None, None)
        )
        counts.events += 1
        if confirmed_at is None:
            return
        if nda_id is not None:
            self._penalty(iid, status, responsible, liable, confirmed_at, owner, ids, buffers)
        for supplier_id, fate in plans:
            self._plan(
                iid, supplier_id, fate, confirmed_at, liable.rectification_days, ids, buffers
            )

    def _incident_assets(self, source: int | None) -> list[tuple[int, str]]:
        rng = self.rng
        pool = self.disclosed.get(source, []) if source is not None else []
        chosen: dict[int, str] = {}
        for _ in range(rng.choice([1, 1, 2])):
            if pool and rng.random() < 0.8:
                asset_id = rng.choice(pool)[0]
            else:
                asset_id = self.asset_picker.pick()
            chosen.setdefault(asset_id, f"{PROJECTS[asset_id % len(PROJECTS)]} drafts")
        return sorted(chosen.items())

    def _plan_fate(self, due: date) -> str:
        if due >= self.as_of:
            return "requested" if self.rng.random() < 0.7 else "submitted"
        return self.rng.choices(PLAN_FATES, PLAN_FATE_W)[0]

    def _penalty(self, iid, status, supplier_id, liable, confirmed_at, owner, ids, buffers):
        rng = self.rng
        if status == "closed":
            pstatus = rng.choices(["paid", "waived"], [70, 30])[0]
        elif status == "resolved":
            pstatus = rng.choices(["paid", "waived", "issued", "disputed"], [50, 15, 25, 10])[0]
        else:
            pstatus = rng.choices(
                ["proposed", "issued", "disputed", "paid", "waived"], [25, 40, 10, 20, 5]
            )[0]
        amount = liable.amount
        proposed_on = confirmed_at.date()
        issued_by = issued_at = due_on = None
        if pstatus in ("issued", "disputed", "paid") or (
            pstatus == "waived" and rng.random() < 0.5
        ):
            issued_by = owner
            issued_at = self._later(confirmed_at, 1, 10)
            due_on = max(proposed_on, issued_at.date()) + timedelta(days=30)
        ids["penalty"] += 1
        pid = ids["penalty"]
        payments: list[Decimal] = []
        if pstatus == "paid":
            if rng.random() < 0.3:
                first = (amount * Decimal(rng.randint(30, 70)) / 100).quantize(Decimal("0.01"))
                payments = [first, amount - first]
            else:
                payments = [amount]
        elif pstatus == "issued" and rng.random() < 0.1:
            payments = [(amount / 4).quantize(Decimal("0.01"))]
        paid = sum(payments, Decimal("0.00"))
        moment = issued_at or confirmed_at
        for k, part in enumerate(payments, start=1):
            moment = self._later(moment, 5, 40)
            ids["payment"] += 1
            buffers["breaches_payment"].append(
                (ids["payment"], part, moment.date(), f"PAY-{pid}-{k}", moment, owner, pid)
            )
        self.counts.payments += len(payments)
        buffers["breaches_penalty"].append(
            (
                pid,
                amount,
                liable.currency,
                paid,
                proposed_on,
                due_on,
                pstatus,
                issued_at,
                confirmed_at,
                moment,
                iid,
                issued_by,
                supplier_id,
            )
        )
        self.counts.penalties += 1

    def _plan(self, iid, supplier_id, fate, confirmed_at, days, ids, buffers):
        rng = self.rng
        requested_on = confirmed_at.date()
        due_on = requested_on + timedelta(days=days)
        submitted = approved = completed = verified = None
        summary = reason = ""
        if fate != "requested":
            submitted = self._later(confirmed_at, 3, max(3, days))
            summary = "Watermarking, access control and written flow-down to every sub-vendor."
        if fate == "changes_requested":
            reason = "Cover the sub-vendors' storage of drafts and give dates for each measure."
        if fate in ("approved", "completed", "verified"):
            approved = self._later(submitted, 1, 14)
        if fate in ("completed", "verified"):
            completed = self._later(approved, 20, 120)
        if fate == "verified":
            verified = self._later(completed, 1, 20)
        ids["plan"] += 1
        plan_id = ids["plan"]
        updated = verified or completed or approved or submitted or confirmed_at
        buffers["breaches_rectificationplan"].append(
            (
                plan_id,
                requested_on,
                due_on,
                summary,
                fate,
                reason,
                submitted,
                approved,
                completed,
                verified,
                confirmed_at,
                updated,
                iid,
                supplier_id,
            )
        )
        self.counts.plans += 1
        if fate in ("requested", "changes_requested") and due_on < self.as_of:
            self.counts.overdue_plans += 1
        if fate == "requested":
            n_actions = rng.randint(0, 3)
        elif fate in ("changes_requested", "submitted"):
            n_actions = rng.randint(1, 5)
        else:
            n_actions = rng.randint(2, 5)
        for _ in range(n_actions):
            created_on = self._clamp(requested_on + timedelta(days=rng.randint(0, 5)))
            action_due = created_on + timedelta(days=rng.randint(14, 90))
            done = fate in ("completed", "verified") or (fate == "approved" and rng.random() < 0.5)
            completed_on = None
            note = ""
            if done:
                latest = completed.date() if completed else self.last_day
                completed_on = min(latest, action_due + timedelta(days=rng.randint(-10, 10)))
                completed_on = max(created_on, completed_on)
                note = "Checked on site; photos and logs attached to the plan file."
            created_at = _at(created_on, rng.randint(28_800, 64_800))
            ids["action"] += 1
            buffers["breaches_rectificationaction"].append(
                (
                    ids["action"],
                    rng.choice(ACTION_TEXT),
                    rng.choice(OWNERS),
                    created_on,
                    action_due,
                    "done" if done else "open",
                    completed_on,
                    note,
                    created_at,
                    _at(completed_on) if completed_on else created_at,
                    plan_id,
                )
            )
        self.counts.actions += n_actions

    # -- all of it -----------------------------------------------------------------------

    def run(self) -> Counts:
        self.suppliers()
        self.ndas_and_contacts()
        picker = ZipfPicker(self.rng, sorted(self.supplier_names))
        self.assets_and_disclosures(picker)
        self.incidents(picker)
        return self.counts


class Command(BaseCommand):
    help = "Seed a large, deterministic, realistic data set for benchmarks (COPY on PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, default=20_000)
        parser.add_argument(
            "--suppliers",
            type=int,
            default=None,
            help="Default: incidents / 50, between 20 and 20,000.",
        )
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--as-of",
            type=date.fromisoformat,
            default=None,
            help="The day the data set is 'now' (overdue plans count from it). Default today.",
        )
        parser.add_argument(
            "--database-url",
            default=None,
            help="Seed this database instead of the default one (must be migrated).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Empty the seeded tables first if the database already holds data.",
        )

    def handle(self, *args, **options):
        alias = self._alias(options["database_url"])
        connection = connections[alias]
        n_incidents = options["incidents"]
        if n_incidents < 1:
            raise CommandError("--incidents must be at least 1.")
        n_suppliers = options["suppliers"] or min(20_000, max(20, n_incidents // 50))
        if n_suppliers < 3:
            raise CommandError("--suppliers must be at least 3 (one per tier).")
        if connection.vendor not in ("postgresql", "sqlite"):
            raise CommandError(f"Unsupported database vendor {connection.vendor}.")
        if connection.vendor == "sqlite" and n_incidents > SQLITE_MAX_INCIDENTS:
            raise CommandError(
                f"SQLite is for small seeds (up to {SQLITE_MAX_INCIDENTS} incidents); "
                "use PostgreSQL (DATABASE_URL or --database-url) for a large one."
            )
        as_of = options["as_of"] or timezone.localdate()
        if self._has_data(connection):
            if not options["force"]:
                raise CommandError(
                    "The database already holds suppliers or incidents; seed an empty "
                    "database, or pass --force to empty the seeded tables first."
                )
            self._empty(connection)
        started = time.monotonic()
        verbosity = options["verbosity"]

        def log(message: str) -> None:
            if verbosity >= 1:
                self.stdout.write(f"[{time.monotonic() - started:7.1f}s] {message}")

        staff_ids = self._staff(alias)
        generator = Generator(
            writer=Writer(alias),
            incidents=n_incidents,
            suppliers=n_suppliers,
            seed=options["seed"],
            as_of=as_of,
            staff_ids=staff_ids,
            log=log,
        )
        counts = generator.run()
        self._finish(connection)
        log("sequences reset, VACUUM ANALYZE done")
        if verbosity >= 1:
            summary = ", ".join(f"{k}={v}" for k, v in vars(counts).items())
            self.stdout.write(
                self.style.SUCCESS(
                    f"Seeded as of {as_of} (seed {options['seed']}) in "
                    f"{time.monotonic() - started:.1f}s: {summary}"
                )
            )

    @staticmethod
    def _alias(database_url: str | None) -> str:
        if not database_url:
            return "default"
        import environ

        alias = "seed_scale"
        config = environ.Env.db_url_config(database_url)
        connections.settings[alias] = connections.configure_settings({alias: config})[alias]
        return alias

    @staticmethod
    def _has_data(connection) -> bool:
        with connection.cursor() as cursor:
            for table in ("suppliers_supplier", "breaches_incident"):
                cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")  # noqa: S608
                if cursor.fetchone():
                    return True
        return False

    @staticmethod
    def _empty(connection) -> None:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                tables = ", ".join((*SEEDED_TABLES, "suppliers_supplier"))
                # Django's foreign keys are deferred: settle pending checks first (inside a
                # test's transaction). CASCADE reaches suppliers_user (supplier users go).
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
                return
            for table in SEEDED_TABLES:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            cursor.execute("DELETE FROM suppliers_user WHERE supplier_id IS NOT NULL")
            for tier in range(10, 0, -1):
                cursor.execute("DELETE FROM suppliers_supplier WHERE tier = %s", [tier])

    @staticmethod
    def _staff(alias: str) -> list[int]:
        """The compliance staff who own the incidents (no password: they cannot log in)."""
        from suppliers.choices import Role
        from suppliers.models import User

        ids = []
        for k in range(1, 9):
            user, created = User.objects.using(alias).get_or_create(
                username=f"seed-staff-{k:02d}",
                defaults={"role": Role.COMPLIANCE, "email": f"staff{k}@buyer.example.com"},
            )
            if created:
                user.set_unusable_password()
                user.save(using=alias, update_fields=["password"])
            ids.append(user.pk)
        return ids

    @staticmethod
    def _finish(connection) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for table in COLUMNS:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                    )
                # VACUUM as well when it may run (not inside a transaction, as in tests):
                # autovacuum would otherwise visit the freshly loaded tables during the
                # first measurements, and index-only scans need the visibility map.
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
            else:
                cursor.execute("ANALYZE")
