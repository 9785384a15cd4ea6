"""Staff sign-in with a second factor, in a real headless Chromium: with
STAFF_MFA_REQUIRED on, a compliance user without an authenticator is led to set one up
(the secret read from the page, the code computed as an authenticator app would), sees
its recovery codes once, signs out, signs in again with password then code and reaches
the dashboard; a wrong code is refused with a message."""

import time
from base64 import b32decode

import pytest

from tests.e2e.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser, live_server, settings):
    settings.STAFF_MFA_REQUIRED = True
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.csp_violations = []
    page.on(
        "console",
        lambda msg: (
            page.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    yield page
    context.close()


def totp(key: bytes, step_offset: int = 0) -> str:
    """What an authenticator app shows (or will show that many 30 s steps later)."""
    from django_otp.oath import TOTP

    code = TOTP(key)
    code.time = time.time() + 30 * step_offset
    return f"{code.token():06d}"


def sign_in_with_password(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_staff_enrol_then_sign_in_with_password_and_code(page, compliance_user):
    from playwright.sync_api import expect

    # Password first: staff without a second factor are led to set one up.
    sign_in_with_password(page, "compliance")
    expect(page.get_by_role("heading", name="Set up a second factor")).to_be_visible()
    expect(page.locator(".lockout")).to_contain_text("Staff must use a second factor")
    qr = page.locator("#mfa-qr")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0"), "the QR code renders"
    # Other pages stay closed until then.
    page.goto("/incidents/")
    expect(page.get_by_role("heading", name="Set up a second factor")).to_be_visible()

    secret = page.locator("#mfa-secret").inner_text()
    key = b32decode(secret.replace(" ", ""))
    page.fill("#id_code", totp(key))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page.get_by_role("heading", name="Incidents")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    # Password, then a wrong code: refused, with a message, and nothing opens.
    sign_in_with_password(page, "compliance")
    expect(page.get_by_role("heading", name="Second factor")).to_be_visible()
    page.fill("#id_code", "000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".errorlist")).to_contain_text("That code is not right")
    expect(page.get_by_role("heading", name="Second factor")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("heading", name="Second factor")).to_be_visible()

    # After a wrong code the device waits a second (django-otp's throttling); then the
    # app's next code (the enrolment used this step's) signs in.
    page.wait_for_timeout(1500)
    page.fill("#id_code", totp(key, step_offset=1))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.get_by_role("link", name="Account security").click()
    expect(page.locator("#mfa-status")).to_contain_text("An authenticator app is set up")
    assert page.csp_violations == [], page.csp_violations
