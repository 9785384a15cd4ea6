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


def _console_lines(client_call) -> list[str]:
    """What the console handler of settings.LOGGING prints for django.request while
    client_call runs, built from the settings so the test sees the real wiring."""
    import io
    import logging
    import logging.config

    from django.conf import settings

    config = settings.LOGGING
    handler_config = config["handlers"]["console"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(config["formatters"]["plain"]["format"]))
    for name in handler_config["filters"]:
        factory = config["filters"][name]["()"]
        module, _, attr = factory.rpartition(".")
        handler.addFilter(getattr(__import__(module, fromlist=[attr]), attr)())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        client_call()
    finally:
        logger.removeHandler(handler)
    return stream.getvalue().splitlines()


@pytest.mark.django_db
def test_a_refused_page_act_is_logged_as_one_line_with_its_reason(auditor_user):
    client = Client()
    client.force_login(auditor_user)
    lines = _console_lines(lambda: client.get("/incidents/new/"))
    assert len(lines) == 1, lines
    assert "Forbidden (Permission denied): /incidents/new/" in lines[0], lines
    assert "Only compliance staff report incidents." in lines[0], lines


def test_a_server_error_keeps_its_traceback(rf):
    from django.http import HttpResponse
    from django.utils.log import log_response

    def fail():
        try:
            raise RuntimeError("a real defect")
        except RuntimeError as exc:
            log_response(
                "Internal Server Error: %s",
                "/incidents/",
                response=HttpResponse(status=500),
                request=rf.get("/incidents/"),
                exception=exc,
            )

    lines = _console_lines(fail)
    assert any("Traceback" in line for line in lines), lines
    assert any("RuntimeError: a real defect" in line for line in lines), lines


@pytest.mark.django_db
@pytest.mark.parametrize(("proxies", "logged"), [(0, "10.0.0.2"), (1, "198.51.100.4")])
def test_the_log_names_the_client_address_as_the_lockout_does(
    settings, compliance_user, caplog, proxies, logged
):
    settings.TRUSTED_PROXY_COUNT = proxies
    client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1, 198.51.100.4")
    with caplog.at_level("INFO", logger="breaches.security"):
        client.post("/accounts/login/", {"username": "compliance", "password": "nope-wrong-1"})
    messages = [record.getMessage() for record in caplog.records]
    assert f"login failed username=compliance from={logged}" in messages, messages


@pytest.mark.django_db
def test_second_factor_events_are_logged_without_codes(settings, compliance_user, caplog):
    from django_otp.oath import TOTP

    from suppliers import mfa

    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = mfa.pending_authenticator(compliance_user)
    totp = TOTP(device.bin_key)
    first = f"{totp.token():06d}"
    client = Client()
    with caplog.at_level("INFO", logger="breaches.security"):
        mfa.confirm_authenticator(compliance_user, first)
        client.post(
            "/accounts/login/", {"username": "compliance", "password": "correct-horse-battery"}
        )
        client.post("/accounts/verify/", {"code": "000000"})
        totp.time = totp.time + 30  # the next step's code: this step's is used
        client.post("/accounts/verify/", {"code": f"{totp.token():06d}"})
    messages = [record.getMessage() for record in caplog.records]
    assert "second factor enrolled user=compliance" in messages, messages
    assert "second factor refused user=compliance" in messages, messages
    assert "second factor verified user=compliance device=TOTPDevice" in messages, messages
    assert not any(first in m or "000000" in m for m in messages), messages
