"""The incident serializer builds its output directly for speed: it must stay exactly
what DRF's field-by-field representation gives, for every shape of incident."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from breaches.api.serializers import IncidentSerializer
from breaches.models import Incident
from suppliers.choices import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_direct_representation_equals_drf_field_by_field():
    call_command(
        "seed_scale", incidents=120, suppliers=12, seed=5, as_of=timezone.localdate(), verbosity=0
    )
    admin = UserFactory(role=Role.ADMIN)
    request = APIRequestFactory().get("/api/v1/incidents/")
    request.user = admin
    incidents = Incident.objects.select_related(
        "source_supplier", "responsible_supplier", "nda", "owner"
    ).prefetch_related("assets")
    serializer = IncidentSerializer(context={"request": request})
    shapes = set()
    for incident in incidents:
        fast = serializer._read(incident)
        slow = serializers.ModelSerializer.to_representation(serializer, incident)
        assert list(fast) == list(slow), incident.reference
        assert fast == dict(slow), incident.reference
        shapes.add((incident.source_supplier_id is None, incident.nda_id is None, incident.status))
    # Unknown sources, no NDA and every status went through the comparison.
    assert (True, True, "reported") in shapes or (True, True, "investigating") in shapes
    assert any(nda_missing for _, nda_missing, _ in shapes)
    assert {status for *_, status in shapes} >= {"confirmed", "closed", "dismissed"}
