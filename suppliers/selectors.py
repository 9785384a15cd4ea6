"""Reads that carry business rules: who is liable for a leak, who may have leaked it,
where NDA coverage has gaps, and what each user may see. Reused by API, UI, admin and
tasks so that a rule lives in exactly one place."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from config.formats import written_in

from .choices import MAX_TIER, Role
from .models import NDA, ConfidentialAsset, Contact, Disclosure, Supplier, User

# --- Liability -------------------------------------------------------------------------


@dataclass(frozen=True)
class Liability:
    """Who answers for a leak by `source`, and under which agreement."""

    responsible_supplier: Supplier
    nda: NDA


def _active_ndas(ndas: Iterable[NDA], on: date) -> list[NDA]:
    # The most recently effective agreement wins when several are active at once.
    return sorted(
        (nda for nda in ndas if nda.is_active_on(on)),
        key=lambda nda: (nda.effective_from, nda.pk),
        reverse=True,
    )


def _chain(source: Supplier) -> list[Supplier]:
    """`source` then its ancestors, nearest first, loaded in one query per level."""
    return [source, *source.ancestors()]


def resolve_liability(source: Supplier | None, *, on: date) -> Liability | None:
    """The liability rule: walk up from the source supplier through its parents; the
    responsible supplier is the nearest one (the source included) holding an NDA active
    on `on` whose terms reach the source: the source's own NDA, or an ancestor's NDA that
    covers sub-vendors. None means "no NDA coverage": staff must decide."""
    if source is None:
        return None
    chain = _chain(source)
    ndas_by_supplier: dict[int, list[NDA]] = defaultdict(list)
    for nda in NDA.objects.filter(supplier__in=[s.pk for s in chain]):
        ndas_by_supplier[nda.supplier_id].append(nda)
    return _resolve_in_chain(chain, ndas_by_supplier, on)


def _resolve_in_chain(
    chain: list[Supplier], ndas_by_supplier: dict[int, list[NDA]], on: date
) -> Liability | None:
    for depth, supplier in enumerate(chain):
        for nda in _active_ndas(ndas_by_supplier.get(supplier.pk, []), on):
            if depth == 0 or nda.covers_subvendors:
                return Liability(responsible_supplier=supplier, nda=nda)
    return None


# --- Leak tracing ----------------------------------------------------------------------


@dataclass
class Suspect:
    """A recipient of a leaked asset, with its chain up to the party liable for it."""

    disclosure: Disclosure
    chain: list[Supplier]
    liability: Liability | None
    fingerprint_match: bool = False
    # Whether the incident names the disclosure's asset: a fingerprint of another asset's
    # disclosure is listed and said so, never made the prime suspect (DESIGN, leak tracing).
    asset_named: bool = True

    @property
    def recipient(self) -> Supplier:
        return self.disclosure.supplier

    @property
    def prime(self) -> bool:
        """The fingerprint found on the leaked copy is this disclosure's, of a leaked asset."""
        return self.fingerprint_match and self.asset_named


def incident_suspects(incident, *, fingerprint: str | None = None) -> list[Suspect]:
    """The disclosures of the incident's leaked assets, each recipient with its chain up
    to the liable party. A disclosure whose fingerprint matches a leaked copy is the
    prime suspect and comes first. A fingerprint of a disclosure of an asset the incident
    does not name is listed too, flagged `asset_named=False` and never prime."""
    fingerprint = (fingerprint or incident.leak_fingerprint or "").strip().lower()
    disclosures = list(
        Disclosure.objects.filter(asset__in=incident.assets.all())
        .select_related("asset", "supplier", "nda")
        .order_by("disclosed_on", "id")
    )
    if fingerprint and not any(d.fingerprint == fingerprint for d in disclosures):
        matched = (
            Disclosure.objects.filter(fingerprint=fingerprint)
            .select_related("asset", "supplier", "nda")
            .first()
        )
        if matched is not None:
            disclosures.append(matched)
    parents = _parent_map()
    suppliers = _suppliers_by_id(
        {sid for d in disclosures for sid in _walk_up(d.supplier_id, parents)}
    )
    ndas = _ndas_by_supplier(suppliers.keys())
    suspects = []
    named_assets = set(incident.assets.values_list("pk", flat=True))
    for disclosure in disclosures:
        chain = [suppliers[sid] for sid in _walk_up(disclosure.supplier_id, parents)]
        suspects.append(
            Suspect(
                disclosure=disclosure,
                chain=chain,
                liability=_resolve_in_chain(chain, ndas, incident.occurred_on),
                fingerprint_match=bool(fingerprint) and disclosure.fingerprint == fingerprint,
                asset_named=disclosure.asset_id in named_assets,
            )
        )
    suspects.sort(
        key=lambda s: (
            not s.prime,
            not s.asset_named,
            s.disclosure.supplier_id != incident.source_supplier_id,
        )
    )
    return suspects


def disclosure_by_fingerprint(fingerprint: str) -> Disclosure | None:
    return (
        Disclosure.objects.select_related("asset", "supplier", "nda")
        .filter(fingerprint=fingerprint.strip().lower())
        .first()
    )


# --- NDA coverage ----------------------------------------------------------------------


@dataclass
class CoverageGap:
    """A sub-vendor that is not bound as it should be."""

    supplier: Supplier
    reason: str  # "no_nda_reach" or "flow_down_missing"
    disclosure: Disclosure | None = None
    parent_nda: NDA | None = None
    detail: str = ""


def coverage_gaps(
    *, as_of: date | None = None, suppliers: QuerySet | None = None
) -> list[CoverageGap]:
    """Sub-vendors that received a disclosure while no NDA reached them (their own, or an
    ancestor's covering sub-vendors), and sub-vendors whose parent's active NDA requires
    flow-down while they hold no active NDA of their own."""
    as_of = as_of or timezone.localdate()
    parents = _parent_map()
    subvendor_ids = {sid for sid, parent in parents.items() if parent is not None}
    if suppliers is not None:
        subvendor_ids &= set(suppliers.values_list("pk", flat=True))
    if not subvendor_ids:
        return []
    involved = {sid for s in subvendor_ids for sid in _walk_up(s, parents)}
    by_id = _suppliers_by_id(involved)
    ndas = _ndas_by_supplier(involved)
    gaps: list[CoverageGap] = []
    for disclosure in (
        Disclosure.objects.filter(supplier__in=subvendor_ids)
        .select_related("asset", "nda")
        .order_by("disclosed_on", "id")
    ):
        chain = [by_id[sid] for sid in _walk_up(disclosure.supplier_id, parents)]
        if _resolve_in_chain(chain, ndas, disclosure.disclosed_on) is None:
            disclosure.supplier = chain[0]
            gaps.append(
                CoverageGap(
                    supplier=chain[0],
                    reason="no_nda_reach",
                    disclosure=disclosure,
                    detail=(
                        gettext("Received %(asset)s on %(day)s while no NDA reached it.")
                        % {"asset": disclosure.asset.code, "day": disclosure.disclosed_on}
                    ),
                )
            )
    for sid in sorted(subvendor_ids):
        supplier = by_id[sid]
        if _active_ndas(ndas.get(sid, []), as_of):
            continue
        parent_ndas = [
            nda for nda in _active_ndas(ndas.get(parents[sid], []), as_of) if nda.flow_down_required
        ]
        if parent_ndas:
            gaps.append(
                CoverageGap(
                    supplier=supplier,
                    reason="flow_down_missing",
                    parent_nda=parent_ndas[0],
                    detail=(
                        gettext(
                            "%(reference)s requires flow-down, but %(supplier)s has no NDA of "
                            "its own."
                        )
                        % {"reference": parent_ndas[0].reference, "supplier": supplier.name}
                    ),
                )
            )
    return gaps


# --- Supplier tree helpers -------------------------------------------------------------


def _parent_map() -> dict[int, int | None]:
    return dict(Supplier.objects.values_list("pk", "parent_id"))


def _walk_up(supplier_id: int, parents: dict[int, int | None]) -> list[int]:
    chain = [supplier_id]
    node = parents.get(supplier_id)
    while node is not None and len(chain) < MAX_TIER:
        chain.append(node)
        node = parents.get(node)
    return chain


def lineages() -> dict[int, tuple[int, ...]]:
    """Every supplier's chain up the tree, itself first and its tier-1 last (one query).
    A supplier is in the world of each supplier of its chain: what a report grouped by
    supplier folds its rows along."""
    parents = _parent_map()
    return {pk: tuple(_walk_up(pk, parents)) for pk in parents}


def _suppliers_by_id(ids: Iterable[int]) -> dict[int, Supplier]:
    return {s.pk: s for s in Supplier.objects.filter(pk__in=list(ids))}


def _ndas_by_supplier(supplier_ids: Iterable[int]) -> dict[int, list[NDA]]:
    grouped: dict[int, list[NDA]] = defaultdict(list)
    for nda in NDA.objects.filter(supplier__in=list(supplier_ids)):
        grouped[nda.supplier_id].append(nda)
    return grouped


def descendant_ids(supplier_id: int) -> set[int]:
    """The supplier's sub-vendors at every depth (one query per tier)."""
    found: set[int] = set()
    frontier = {supplier_id}
    for _ in range(MAX_TIER):
        frontier = (
            set(Supplier.objects.filter(parent__in=frontier).values_list("pk", flat=True)) - found
        )
        if not frontier:
            break
        found |= frontier
    return found


def subtree_ids(supplier_id: int) -> set[int]:
    return {supplier_id, *descendant_ids(supplier_id)}


# --- What each user may see ------------------------------------------------------------


@dataclass
class Scope:
    """What a user may see: everything (staff), or one supplier's world."""

    user: User
    everything: bool
    own_supplier_id: int | None = None
    world_ids: set[int] = field(default_factory=set)  # own supplier + its sub-vendors

    @property
    def key(self) -> tuple:
        """Equal for two users exactly when they see the same rows (a cache key)."""
        if self.everything:
            return ("everything",)
        return ("supplier", self.own_supplier_id, frozenset(self.world_ids))


def scope_for(user) -> Scope:
    """Cached on the user object for the request."""
    cached = getattr(user, "_breach_scope", None)
    if cached is not None:
        return cached
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        scope = Scope(user=user, everything=False)
    elif user.role == Role.SUPPLIER:
        scope = Scope(
            user=user,
            everything=False,
            own_supplier_id=user.supplier_id,
            world_ids=subtree_ids(user.supplier_id) if user.supplier_id else set(),
        )
    else:
        scope = Scope(user=user, everything=True)
    user._breach_scope = scope
    return scope


def suppliers_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    qs = Supplier.objects.all() if qs is None else qs
    scope = scope_for(user)
    return qs if scope.everything else qs.filter(pk__in=scope.world_ids)


def contacts_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    qs = Contact.objects.all() if qs is None else qs
    scope = scope_for(user)
    return qs if scope.everything else qs.filter(supplier__in=scope.world_ids)


def ndas_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    """A supplier user sees its own supplier's NDAs only: a sub-vendor's user never sees
    its parent's, even the one it works under (may_see_nda is the same rule for one)."""
    qs = NDA.objects.all() if qs is None else qs
    scope = scope_for(user)
    return qs if scope.everything else qs.filter(supplier=scope.own_supplier_id)


def person_shown_to(viewer, *, username: str | None, role: str | None, supplier=None) -> str:
    """How a person (an actor, an owner, an uploader) is named to `viewer`. The buyer's
    staff see user names; a supplier user sees its own supplier's people by name and
    anyone else by role and organisation ("Compliance, Xiaomi Auto"): the buyer's staff
    stay anonymous to suppliers. No person (the system) is an empty string."""
    if username is None:
        return ""
    scope = scope_for(viewer)
    if scope.everything:
        return username
    if role == Role.SUPPLIER and supplier is not None:
        if supplier.pk == scope.own_supplier_id:
            return username
        return gettext("%(role)s, %(organisation)s") % {
            "role": Role.SUPPLIER.label,
            "organisation": supplier.name,
        }
    return gettext("%(role)s, %(organisation)s") % {
        "role": Role(role).label if role in Role.values else role,
        "organisation": settings.BUYER_NAME,
    }


def person_shown(viewer, person) -> str:
    """person_shown_to for a User (its supplier loaded or loadable)."""
    if person is None:
        return ""
    return person_shown_to(
        viewer,
        username=person.get_username(),
        role=person.role,
        supplier=person.supplier if person.supplier_id else None,
    )


def may_see_fingerprints(user) -> bool:
    """The watermark fingerprint of a disclosure is the buyer's secret: a recipient that
    knows its mark knows what to strip. Only the buyer's staff see fingerprints, or
    anything derived from them (a leaked copy's fingerprint, a filter by one)."""
    return scope_for(user).everything


def may_see_nda(user, nda_supplier_id: int | None) -> bool:
    """Whether `user` may see an NDA of that supplier (ndas_visible_to for one NDA)."""
    scope = scope_for(user)
    return nda_supplier_id is not None and (
        scope.everything or nda_supplier_id == scope.own_supplier_id
    )


def disclosures_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    qs = Disclosure.objects.all() if qs is None else qs
    scope = scope_for(user)
    return qs if scope.everything else qs.filter(supplier__in=scope.world_ids)


def assets_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    qs = ConfidentialAsset.objects.all() if qs is None else qs
    scope = scope_for(user)
    if scope.everything:
        return qs
    return qs.filter(pk__in=Disclosure.objects.filter(supplier__in=scope.world_ids).values("asset"))


@dataclass(frozen=True)
class MailLocale:
    """The language and time zone (names, as stored) one person's mail is written in."""

    language: str
    time_zone: str

    def written(self):
        """A block in which gettext, templates, format_instant and format_money write
        for this person."""
        return written_in(self.language, self.time_zone)


def mail_locale_for(email: str, *, supplier_ids: Iterable[int] = ()) -> MailLocale:
    """How the person at `email` reads its mail (DESIGN section 11), the rule of every
    mail the product sends (reminders, digests, notifications): the settings of the
    active account with that address (the person's own choice), else those of a supplier
    contact with that address (one of `supplier_ids`' first, then a reminder contact),
    else the product's defaults."""
    address = (email or "").strip()
    found = (
        User.objects.filter(email__iexact=address, is_active=True)
        .order_by("pk")
        .values_list("language", "time_zone")
        .first()
    )
    if found is None:
        contacts = list(
            Contact.objects.filter(email__iexact=address)
            .order_by("-receives_reminders", "pk")
            .values_list("supplier_id", "language", "time_zone")
        )
        wanted = set(supplier_ids)
        chosen = next((c for c in contacts if c[0] in wanted), contacts[0] if contacts else None)
        found = chosen[1:] if chosen else None
    language, time_zone = found or ("", "")
    return MailLocale(
        language=language or settings.LANGUAGE_CODE,
        time_zone=time_zone or settings.DEFAULT_USER_TIME_ZONE,
    )
