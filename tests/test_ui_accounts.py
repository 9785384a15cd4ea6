"""Accounts in the browser: compliance invites supplier users (a set-password link by
mail), sends resets, deactivates and reactivates; everyone may reset a forgotten
password; each person changes its own password, language and time zone. Also the
site-wide pages: logout asked on a GET, the site's 404 under DEBUG, a plain 500."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from suppliers import services
from suppliers.choices import Role
from suppliers.models import User
from tests.e2e.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+(/accounts/reset/[^\s]+/)")


def body(response) -> str:
    return response.content.decode()


def _invite(client, to_supplier, **extra):
    data = {
        "role": "supplier",
        "supplier": to_supplier.pk,
        "username": "li.na",
        "email": "li.na@bmt.example",
        "first_name": "Na",
        "last_name": "Li",
    }
    data.update(extra)
    return client.post(
        reverse("suppliers:user-invite"), data, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5"
    )


def test_compliance_invites_a_supplier_user_who_sets_a_password(
    client, compliance_user, tier1, django_capture_on_commit_callbacks
):
    client.force_login(compliance_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(client, tier1)
    assert response.status_code == 302, body(response)
    user = User.objects.get(username="li.na")
    assert (user.role, user.supplier, user.has_usable_password()) == (Role.SUPPLIER, tier1, False)
    assert user.language == "zh-hans"  # from the browser's Accept-Language
    assert user.time_zone == "Asia/Shanghai"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["li.na@bmt.example"]
    assert "li.na" in message.body
    assert tier1.name in message.body
    path = LINK.search(message.body).group(1)

    client.logout()
    form = client.get(path, follow=True)
    assert "Choose a password" in body(form)
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-long-Passphrase-77", "new_password2": "a-long-Passphrase-77"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-long-Passphrase-77")
    # The link works once.
    assert "already used or has expired" in body(client.get(path, follow=True))


def test_compliance_cannot_invite_staff(client, compliance_user):
    client.force_login(compliance_user)
    response = client.post(
        reverse("suppliers:user-invite"),
        {"role": "admin", "username": "boss", "email": "boss@example.com"},
    )
    assert response.status_code == 400
    assert not User.objects.filter(username="boss").exists()
    with pytest.raises(services.PermissionDenied):
        services.user_invite(
            actor=compliance_user, username="boss", email="b@example.com", role=Role.ADMIN
        )


def test_invite_refuses_a_taken_user_name_and_a_missing_supplier(client, compliance_user, tier1):
    client.force_login(compliance_user)
    taken = _invite(client, tier1, username=compliance_user.username.upper())
    assert taken.status_code == 400
    assert "taken" in body(taken)
    no_supplier = _invite(client, tier1, supplier="", username="x1")
    assert no_supplier.status_code == 400
    assert "belongs to a supplier" in body(no_supplier)
    assert not User.objects.filter(username="x1").exists()


def test_reset_by_email_deactivate_and_reactivate(
    client, compliance_user, supplier_user, django_capture_on_commit_callbacks
):
    client.force_login(compliance_user)
    detail = reverse("suppliers:user-detail", args=[supplier_user.pk])
    assert client.get(detail).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("suppliers:user-reset", args=[supplier_user.pk]))
    assert len(mail.outbox) == 1
    assert LINK.search(mail.outbox[0].body)

    other = client.__class__()
    other.force_login(supplier_user)
    client.post(reverse("suppliers:user-active", args=[supplier_user.pk]), {"active": "false"})
    supplier_user.refresh_from_db()
    assert not supplier_user.is_active
    # Its sessions ended at once.
    assert SESSION_KEY not in other.session
    assert other.get(reverse("dashboard")).status_code == 302
    # No reset mail for a deactivated account: it says why.
    response = client.post(reverse("suppliers:user-reset", args=[supplier_user.pk]), follow=True)
    assert "deactivated" in body(response)
    assert len(mail.outbox) == 1
    client.post(reverse("suppliers:user-active", args=[supplier_user.pk]), {"active": "true"})
    supplier_user.refresh_from_db()
    assert supplier_user.is_active


def test_compliance_manages_supplier_accounts_only(client, compliance_user):
    auditor_user = UserFactory(username="watcher-x", role=Role.AUDITOR)
    client.force_login(compliance_user)
    listing = body(client.get(reverse("suppliers:user-list")))
    assert auditor_user.username not in listing
    assert client.get(reverse("suppliers:user-detail", args=[auditor_user.pk])).status_code == 404
    response = client.post(
        reverse("suppliers:user-active", args=[auditor_user.pk]), {"active": "false"}
    )
    assert response.status_code == 404
    auditor_user.refresh_from_db()
    assert auditor_user.is_active


@pytest.mark.parametrize("role", ["auditor_user", "supplier_user"])
def test_auditors_and_supplier_users_manage_no_accounts(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("suppliers:user-list")).status_code == 403
    assert client.get(reverse("suppliers:user-invite")).status_code == 403


def test_admin_lists_every_account(client, admin_user, supplier_user):
    auditor_user = UserFactory(username="watcher-x", role=Role.AUDITOR)
    client.force_login(admin_user)
    listing = body(client.get(reverse("suppliers:user-list")))
    assert auditor_user.username in listing
    assert supplier_user.username in listing
    only_suppliers = body(client.get(reverse("suppliers:user-list"), {"role": "supplier"}))
    assert auditor_user.username not in only_suppliers


def test_forgotten_password_flow_for_everyone(client, supplier_user):
    page = client.get(reverse("login"))
    assert reverse("password_reset") in body(page)
    response = client.post(reverse("password_reset"), {"email": supplier_user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    path = LINK.search(mail.outbox[0].body).group(1)
    form = client.get(path, follow=True)
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Another-long-pass-91", "new_password2": "Another-long-pass-91"},
    )
    supplier_user.refresh_from_db()
    assert supplier_user.check_password("Another-long-pass-91")
    # An unknown address gets the same answer and no mail (no account enumeration).
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1


def test_my_settings_language_time_zone_and_password(client, supplier_user):
    client.force_login(supplier_user)
    url = reverse("suppliers:my-settings")
    assert client.get(url).status_code == 200
    bad = client.post(url, {"form": "settings", "language": "en", "time_zone": "Mars/Olympus"})
    assert bad.status_code == 400
    supplier_user.refresh_from_db()
    assert supplier_user.time_zone == "Asia/Shanghai"
    response = client.post(
        url, {"form": "settings", "language": "zh-hans", "time_zone": "Europe/Berlin"}
    )
    assert response.status_code == 302
    supplier_user.refresh_from_db()
    assert (supplier_user.language, supplier_user.time_zone) == ("zh-hans", "Europe/Berlin")
    wrong = client.post(
        url,
        {
            "form": "password",
            "old_password": "wrong",
            "new_password1": "Brand-new-pass-2026",
            "new_password2": "Brand-new-pass-2026",
        },
    )
    assert wrong.status_code == 400
    changed = client.post(
        url,
        {
            "form": "password",
            "old_password": PASSWORD,
            "new_password1": "Brand-new-pass-2026",
            "new_password2": "Brand-new-pass-2026",
        },
    )
    assert changed.status_code == 302
    supplier_user.refresh_from_db()
    assert supplier_user.check_password("Brand-new-pass-2026")
    assert client.get(url).status_code == 200  # this session stays signed in


def test_time_zone_is_validated_by_the_service(supplier_user):
    with pytest.raises(services.ValidationError):
        services.user_update_settings(
            actor=supplier_user, user=supplier_user, language="en", time_zone="Not/AZone"
        )
    with pytest.raises(services.PermissionDenied):
        services.user_update_settings(
            actor=UserFactory(role="compliance"),
            user=supplier_user,
            language="en",
            time_zone="UTC",
        )


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN,zh;q=0.9", "zh-hans"),
        ("zh-Hans", "zh-hans"),
        ("zh-TW,en;q=0.5", "en"),
        ("de-DE,de;q=0.9", "en"),
        ("", "en"),
        ("en-GB", "en"),
    ],
)
def test_language_from_the_browser(header, language):
    assert services.language_from_header(header) == language


def test_users_api_exposes_language_and_time_zone(client, admin_user, tier1):
    client.force_login(admin_user)
    response = client.post(
        "/api/v1/users/",
        {"username": "api-user", "role": "supplier", "supplier": tier1.pk, "email": "a@b.example"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    assert response.status_code == 201, response.content
    assert response.json()["language"] == "zh-hans"
    assert response.json()["time_zone"] == "Asia/Shanghai"
    user_id = response.json()["id"]
    bad = client.patch(
        f"/api/v1/users/{user_id}/", {"time_zone": "Nowhere/City"}, content_type="application/json"
    )
    assert bad.status_code == 400, bad.content
    assert "time_zone" in bad.json()
    ok = client.patch(
        f"/api/v1/users/{user_id}/",
        {"time_zone": "America/New_York", "language": "en"},
        content_type="application/json",
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["time_zone"] == "America/New_York"


# --- Site-wide pages -------------------------------------------------------------------


def test_logout_get_asks_with_a_form_that_posts(client, compliance_user):
    client.force_login(compliance_user)
    response = client.get(reverse("logout"))
    assert response.status_code == 200
    assert 'method="post"' in body(response)
    assert SESSION_KEY in client.session  # a GET signs nobody out
    client.post(reverse("logout"))
    assert SESSION_KEY not in client.session


def test_404_is_the_sites_page(client, compliance_user):
    client.force_login(compliance_user)
    response = client.get(reverse("suppliers:detail", args=[999999]))
    assert response.status_code == 404
    assert "There is nothing here" in body(response)


def test_404_under_debug_is_the_sites_page_too(client, compliance_user, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "config.middleware.SiteNotFoundPageMiddleware"]
    client.force_login(compliance_user)
    with override_settings(DEBUG=True):
        for url in (reverse("suppliers:detail", args=[999999]), "/no-such-page/"):
            response = client.get(url)
            assert response.status_code == 404, url
            assert "There is nothing here" in body(response), url
            assert "URLconf" not in body(response), url
        api = client.get("/api/v1/suppliers/999999/")
        assert api.status_code == 404
        assert api["Content-Type"].startswith("application/json")


def test_500_page_is_plain_and_standalone(client, settings):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Something went wrong" in html
    assert "{%" not in html


def test_forgotten_password_mails_are_limited_per_hour(client, supplier_user):
    from config.views import PASSWORD_RESETS_PER_HOUR

    for _ in range(PASSWORD_RESETS_PER_HOUR + 3):
        response = client.post(reverse("password_reset"), {"email": supplier_user.email})
        assert response.status_code == 302
        assert response.url == reverse("password_reset_done")
    assert len(mail.outbox) == PASSWORD_RESETS_PER_HOUR
