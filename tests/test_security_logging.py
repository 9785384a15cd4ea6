"""Authentication events reach the security log; passwords never do."""

import pytest
from django.test import Client


@pytest.mark.django_db
def test_login_success_failure_and_logout_are_logged(compliance_user, caplog):
    client = Client()
    with caplog.at_level("INFO", logger="breaches.security"):
        client.post("/accounts/login/", {"username": "compliance", "password": "nope-wrong-1"})
        client.post(
            "/accounts/login/", {"username": "compliance", "password": "correct-horse-battery"}
        )
        client.post("/accounts/logout/")
    messages = [record.getMessage() for record in caplog.records]
    assert any("login failed username=compliance" in m for m in messages), messages
    assert any("login succeeded user=compliance role=compliance" in m for m in messages), messages
    assert any("logout user=compliance" in m for m in messages), messages
    assert not any("nope-wrong-1" in m or "correct-horse" in m for m in messages), messages
