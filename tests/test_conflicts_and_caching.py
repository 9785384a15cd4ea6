"""Conflicts the database catches are a 409 told in words, never the database's text;
answers to a signed-in user are never cached."""

from __future__ import annotations

import pytest

from suppliers.api.serializers import SupplierSerializer
from suppliers.models import Supplier
from tests.apiclients import client_for

pytestmark = pytest.mark.django_db

DATABASE_WORDS = ("constraint", "DETAIL", "Key (", "UNIQUE", "unique_ci", "IntegrityError")


@pytest.fixture
def race(monkeypatch):
    """Two requests creating the same supplier at once: both pass validation before
    either is saved, so the second meets the database's unique constraint."""
    monkeypatch.setattr(Supplier, "validate_unique", lambda self, exclude=None: None)
    monkeypatch.setattr(Supplier, "validate_constraints", lambda self, exclude=None: None)
    monkeypatch.setattr(SupplierSerializer, "validate_name", lambda self, value: value)


def test_a_unique_clash_in_a_race_is_a_409_in_words(race, compliance_user, tier1):
    response = client_for(compliance_user).post(
        "/api/v1/suppliers/", {"name": tier1.name.upper(), "country": "CN"}, format="json"
    )
    assert response.status_code == 409, response.content
    body = response.content.decode()
    assert "conflicts with a record saved at the same time" in body, body
    for word in DATABASE_WORDS:
        assert word not in body, (word, body)
    assert Supplier.objects.count() == 1


def test_a_unique_clash_in_a_race_is_a_409_page(race, client, compliance_user, tier1):
    client.force_login(compliance_user)
    response = client.post(
        "/suppliers/new/", {"name": tier1.name, "country": "CN", "status": "active"}
    )
    assert response.status_code == 409, response.status_code
    html = response.content.decode()
    assert "conflicts with a record saved at the same time" in html
    for word in DATABASE_WORDS:
        assert word not in html, word
    assert Supplier.objects.count() == 1


@pytest.mark.parametrize("token", [False, True])
def test_api_answers_to_a_signed_in_user_are_private_and_not_stored(compliance_user, token):
    response = client_for(compliance_user, token=token).get("/api/v1/suppliers/")
    assert response.status_code == 200
    cache_control = response.headers["Cache-Control"]
    assert "private" in cache_control
    assert "no-store" in cache_control


def test_pages_of_a_signed_in_user_are_private_and_not_stored(client, auditor_user):
    client.force_login(auditor_user)
    for path in ("/", "/incidents/", "/suppliers/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response.headers["Cache-Control"], path
        assert "private" in response.headers["Cache-Control"], path


def test_healthz_answers_ok_when_both_are_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_reports_a_dead_broker_at_once(client, monkeypatch):
    import time

    from config.celery import app

    dead = "redis://127.0.0.1:9/0"  # nothing listens
    monkeypatch.setattr(app.conf, "broker_url", dead)
    monkeypatch.setenv("CELERY_BROKER_URL", dead)  # Celery reads it before its settings
    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.content
    assert response.json()["broker"] != "ok"
    assert response.json()["database"] == "ok"
    assert elapsed < 2, elapsed


def test_healthz_answers_within_two_seconds_when_a_check_hangs(client, monkeypatch):
    import time

    from config import health

    def hung():
        time.sleep(5)
        return True, "ok"

    monkeypatch.setattr(health, "_database_ok", hung)
    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.content
    assert response.json()["database"] == "timeout"
    assert elapsed < 2, elapsed


def test_no_mail_server_or_task_holds_a_worker_for_ever():
    from django.core.mail import get_connection

    from config.celery import app

    smtp = get_connection("django.core.mail.backends.smtp.EmailBackend")
    assert smtp.timeout is not None
    assert 0 < smtp.timeout <= 60
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit
