"""Who sees what of leak tracing (DESIGN sections 7 and 10): the buyer's staff see
master files, every copy, every download and the traces; a supplier user sees the copies
of the disclosures to its own supplier (not its sub-vendors'), and its own downloads,
never a code or a fingerprint."""

from __future__ import annotations

from django.db.models import QuerySet

from suppliers.models import Disclosure
from suppliers.selectors import scope_for

from .models import CopyDownload, DisclosureCopy, MasterFile, Trace


def may_see_masters_and_traces(user) -> bool:
    """Master files and traces are the buyer's staff's only: a supplier user who learnt
    what the masters are, or what was traced, would know what to strip from a copy."""
    return scope_for(user).everything


def masters_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    qs = MasterFile.objects.all() if qs is None else qs
    return qs if may_see_masters_and_traces(user) else qs.none()


def copies_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    qs = DisclosureCopy.objects.all() if qs is None else qs
    scope = scope_for(user)
    if scope.everything:
        return qs
    if scope.own_supplier_id is None:
        return qs.none()
    return qs.filter(disclosure__supplier=scope.own_supplier_id)


def downloads_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    qs = CopyDownload.objects.all() if qs is None else qs
    scope = scope_for(user)
    if scope.everything:
        return qs
    return qs.filter(copy__in=copies_visible_to(user), user=user)


def traces_visible_to(user, qs: QuerySet | None = None) -> QuerySet:
    qs = Trace.objects.all() if qs is None else qs
    return qs if may_see_masters_and_traces(user) else qs.none()


def incident_traces(user, incident) -> list[Trace]:
    """The traces of `incident` that `user` may see, newest first, each with
    `named_matches`: its matches with the disclosure (supplier, asset) they name, or
    None where that disclosure is gone. The incident page and the dossier read this."""
    traces = list(
        traces_visible_to(user)
        .filter(incident=incident)
        .select_related("master", "created_by__supplier")
    )
    disclosure_ids = {m["disclosure"] for t in traces for m in t.matches}
    named = (
        Disclosure.objects.select_related("supplier", "asset").in_bulk(disclosure_ids)
        if disclosure_ids
        else {}
    )
    for trace in traces:
        trace.named_matches = [
            {**m, "disclosure_obj": named.get(m["disclosure"])} for m in trace.matches
        ]
    return traces
