"""The API's JSON renderer (orjson) writes the bytes DRF's own renderer writes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from breaches.choices import IncidentStatus
from config.renderers import JSONRenderer

SAMPLES = [
    {"id": 1, "name": "Brightline Plastics", "ok": True, "none": None, "list": [1, 2.5, "x"]},
    {"at": datetime(2026, 11, 24, 9, 30, 0, 120000, tzinfo=UTC), "on": date(2026, 1, 2)},
    {"whole": datetime(2026, 11, 24, 9, 30, tzinfo=UTC), "clock": time(8, 15)},
    {"money": Decimal("1000000.00"), "uuid": uuid.UUID(int=7), "span": timedelta(days=2)},
    {"lazy": gettext_lazy("Invalid token."), "detail": ErrorDetail("Bad.", code="invalid")},
    {"text": "line\u2028separator\u2029and 保密 data \u00e9", "status": IncidentStatus.CONFIRMED},
    {1: "int key", "nested": {"deeper": [{"a": [date(2025, 3, 3)]}]}},
    ReturnDict({"results": ReturnList([{"x": 1}], serializer=None)}, serializer=None),
    [],
    "plain string",
]


@pytest.mark.parametrize("data", SAMPLES)
def test_bytes_equal_drfs_renderer(data):
    assert JSONRenderer().render(data) == DRFJSONRenderer().render(data)


def test_requested_indent_and_nothing():
    data = {"a": [1, {"b": 2}]}
    accepted = "application/json; indent=2"
    assert JSONRenderer().render(data, accepted) == DRFJSONRenderer().render(data, accepted)
    assert b"\n  " in JSONRenderer().render(data, accepted)
    assert JSONRenderer().render(None) == b""


def test_what_orjson_refuses_falls_back_to_drf():
    big = {"n": 2**80}  # beyond 64 bits: orjson refuses, json writes it
    assert JSONRenderer().render(big) == DRFJSONRenderer().render(big)


def test_the_api_answers_with_it(client):
    from django.conf import settings

    assert settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"][0] == (
        "config.renderers.JSONRenderer"
    )
    response = client.get("/api/v1/incidents/")
    assert response.status_code == 401
    assert response.content == b'{"detail":"Authentication credentials were not provided."}'
