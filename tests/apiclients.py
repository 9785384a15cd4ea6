"""Helpers for the API tests: clients signed in as a given user."""

from __future__ import annotations

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def client_for(user=None, *, token: bool = False) -> APIClient:
    """An API client for `user` (anonymous when None): forced authentication by default,
    or a real `Authorization: Token` header with token=True."""
    client = APIClient()
    if user is None:
        return client
    if token:
        key, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key.key}")
    else:
        client.force_authenticate(user)
    return client


def results(response) -> list:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def build_world(*, supplier, subvendor=None, nda, asset, tag: str, actor):
    """One supplier's world with a row of every model, for permission and query tests:
    an incident under investigation (for incident acts), a confirmed one with an issued
    penalty, a requested plan with an action, and an approved plan with an open action."""
    from datetime import date, timedelta
    from types import SimpleNamespace

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from breaches import services
    from breaches.choices import IncidentStatus, PenaltyStatus, PlanStatus
    from tests.factories import (
        ActionFactory,
        ContactFactory,
        DisclosureFactory,
        EventFactory,
        IncidentFactory,
        PenaltyFactory,
        PlanFactory,
        ReminderFactory,
    )

    source = subvendor or supplier
    disclosure = DisclosureFactory(asset=asset, supplier=source, nda=nda)
    contact = ContactFactory(supplier=supplier, email=f"security@{tag}.example")
    incident = IncidentFactory(
        title=f"{tag} leak under investigation",
        source_supplier=source,
        responsible_supplier=supplier,
        nda=nda,
        status=IncidentStatus.INVESTIGATING,
    )
    incident.assets.set([asset])
    confirmed = IncidentFactory(
        title=f"{tag} confirmed leak",
        source_supplier=source,
        responsible_supplier=supplier,
        nda=nda,
        status=IncidentStatus.CONFIRMED,
    )
    approved_incident = IncidentFactory(
        title=f"{tag} earlier leak",
        source_supplier=source,
        responsible_supplier=supplier,
        nda=nda,
        status=IncidentStatus.CONFIRMED,
    )
    penalty = PenaltyFactory(
        incident=confirmed,
        supplier=supplier,
        status=PenaltyStatus.ISSUED,
        proposed_on=date(2025, 2, 1),
    )
    today = timezone.localdate()
    plan = PlanFactory(incident=confirmed, supplier=supplier, summary=f"{tag} plan")
    action = ActionFactory(plan=plan)
    approved_plan = PlanFactory(
        incident=approved_incident,
        supplier=supplier,
        summary=f"{tag} approved plan",
        status=PlanStatus.APPROVED,
        requested_on=today - timedelta(days=40),
        due_on=today - timedelta(days=10),
    )
    approved_action = ActionFactory(
        plan=approved_plan, created_on=today - timedelta(days=40), due_on=today - timedelta(days=5)
    )
    reminder = ReminderFactory(plan=plan)
    event = EventFactory(incident=incident, actor=actor)
    evidence = services.incident_add_evidence(
        actor=actor,
        incident=incident,
        upload=SimpleUploadedFile("note.txt", f"evidence of {tag}\n".encode(), "text/plain"),
    )
    return SimpleNamespace(
        supplier=supplier,
        subvendor=subvendor,
        nda=nda,
        asset=asset,
        disclosure=disclosure,
        contact=contact,
        incident=incident,
        confirmed=confirmed,
        penalty=penalty,
        plan=plan,
        action=action,
        approved_plan=approved_plan,
        approved_action=approved_action,
        reminder=reminder,
        event=event,
        evidence=evidence,
    )
