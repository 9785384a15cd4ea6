"""The registers walked in headless Chromium, role by role: compliance adds a contact,
invites a supplier user, records and terminates an NDA, registers an asset, records and
revokes a disclosure; the invited supplier user sets its password from the mail, then
changes its language, time zone and password; an auditor reads the registers and finds
nothing to change. Any console error or CSP violation fails the walk.

The second test saves every new page at desktop (1280) and phone (390) width: into
E2E_SCREENSHOTS (e.g. docs/screenshots) when set, else into a temporary directory."""

import os
import re
from datetime import date
from pathlib import Path

import pytest

from tests.e2e.conftest import PASSWORD, open_watched_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LINK = re.compile(r"https?://[^/\s]+(/accounts/reset/[^\s]+/)")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def login(page, username: str, password: str = PASSWORD) -> None:
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def flash(page, text: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator(".flash").first).to_contain_text(text)


def pick(page, select: str, text: str, option_label: str) -> None:
    """Use a searchable picker as a person would: type into its filter box, then pick."""
    page.locator(f"{select}").locator("xpath=preceding-sibling::input[1]").fill(text)
    page.select_option(select, label=option_label)


def test_registers_role_by_role(
    browser, live_server, media, compliance_user, auditor_user, tier1, subvendor, tier1_nda
):
    from django.core import mail
    from playwright.sync_api import expect

    from suppliers.models import NDA, Disclosure, User

    page = open_watched_page(browser, live_server.url)

    # Compliance: a contact that receives reminders, from the supplier page.
    login(page, "compliance")
    page.get_by_role("link", name="Suppliers", exact=True).click()
    page.get_by_role("link", name=tier1.name).click()
    page.get_by_role("link", name="Add contact").click()
    page.fill("#id_name", "Li Wei")
    page.fill("#id_email", "li.wei@bmt.example")
    page.select_option("#id_role", "security")
    page.check("#id_receives_reminders")
    page.get_by_role("button", name="Save").click()
    flash(page, "Contact Li Wei added")
    contacts = page.locator("section", has=page.get_by_role("heading", name="Contacts"))
    expect(contacts).to_contain_text("li.wei@bmt.example")
    expect(contacts).to_contain_text("Receives reminders")

    # It invites a user of that supplier.
    contacts.get_by_role("link", name="Invite a user").click()
    page.fill("#id_username", "li.na")
    page.fill("#id_email", "li.na@bmt.example")
    page.get_by_role("button", name="Send invitation").click()
    flash(page, "an invitation to set a password went to li.na@bmt.example")
    expect(page.locator(".page-head")).to_contain_text("Invited, no password yet")
    invitation = mail.outbox[-1]
    assert invitation.to == ["li.na@bmt.example"]

    # An NDA with its signed document, found through the searchable supplier picker.
    page.get_by_role("link", name="NDAs", exact=True).click()
    page.get_by_role("link", name="New NDA").click()
    pick(page, "#id_supplier", "hebei", subvendor.name)
    page.fill("#id_reference", "NDA-HB-2025-001")
    page.fill("#id_signed_on", "2025-01-10")
    page.fill("#id_effective_from", "2025-02-01")
    page.fill("#id_expires_on", "2028-02-01")
    page.fill("#id_penalty_amount", "300000.00")
    pick(page, "#id_penalty_currency", "yuan", "CNY — Yuan Renminbi")
    page.fill("#id_clause_text", "Clause 9: 300,000 CNY per breach, sub-vendors included.")
    page.set_input_files(
        "#id_signed_document",
        {"name": "nda-hb-signed.pdf", "mimeType": "application/pdf", "buffer": PDF},
    )
    page.get_by_role("button", name="Save").click()
    flash(page, "NDA NDA-HB-2025-001 recorded")
    expect(page.locator("main")).to_contain_text("nda-hb-signed.pdf")
    expect(page.locator("main")).to_contain_text("Clause 9")

    # ... and terminates it, with a date and a reason.
    page.fill("#id_terminated_on", "2025-12-31")
    page.fill("#id_reason", "Sub-vendor relationship ended.")
    page.get_by_role("button", name="Terminate NDA").click()
    flash(page, "terminated as of 2025-12-31")
    expect(page.locator(".page-head .badge")).to_have_text("Terminated")
    expect(page.locator("main")).to_contain_text("Sub-vendor relationship ended.")
    assert NDA.objects.get(reference="NDA-HB-2025-001").terminated_on == date(2025, 12, 31)

    # An asset, then a disclosure of it to the sub-vendor under the tier-1's NDA.
    page.get_by_role("link", name="Assets", exact=True).click()
    page.get_by_role("link", name="New asset").click()
    page.fill("#id_code", "ms11-grille")
    page.fill("#id_name", "MS11 grille drafts")
    page.fill("#id_project", "MS11")
    page.get_by_role("button", name="Save").click()
    flash(page, "MS11-GRILLE registered")
    page.goto(f"/suppliers/{subvendor.pk}/")
    page.get_by_role("link", name="Record disclosure").click()
    page.select_option("#id_asset", label="MS11-GRILLE")
    page.select_option("#id_nda", label="NDA-XM-2024-017")
    page.fill("#id_disclosed_on", "2024-01-15")  # before the NDA took effect: refused
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".errorlist").first).to_contain_text("took effect on 2024-03-01")
    page.fill("#id_disclosed_on", "2025-03-03")
    page.fill("#id_version", "v1")
    page.get_by_role("button", name="Save").click()
    flash(page, "Disclosure of MS11-GRILLE recorded")

    # It revokes that disclosure; it stays listed, marked.
    page.get_by_role("link", name="Disclosures", exact=True).click()
    page.select_option("#id_asset", label="MS11-GRILLE")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="MS11-GRILLE").click()
    page.fill("#id_reason", "Sent to the wrong team; copy returned.")
    page.get_by_role("button", name="Revoke disclosure").click()
    flash(page, "Disclosure revoked")
    expect(page.locator(".page-head")).to_contain_text("Revoked")
    expect(page.locator("#change-history")).to_contain_text("Sent to the wrong team")
    assert Disclosure.objects.get(asset__code="MS11-GRILLE").revoked_at is not None
    page.get_by_role("link", name="Disclosures", exact=True).click()
    expect(page.locator("tr.revoked")).to_contain_text("MS11-GRILLE")
    page.get_by_role("button", name="Log out").click()
    assert page.problems == [], page.problems

    # The supplier user: sets its password from the invitation, then its settings.
    path = LINK.search(invitation.body).group(1)
    page.goto(path)
    page.fill("#id_new_password1", "Grille-and-bumper-2026")
    page.fill("#id_new_password2", "Grille-and-bumper-2026")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="Password set")).to_be_visible()
    login(page, "li.na", "Grille-and-bumper-2026")
    page.get_by_role("link", name="My settings").click()
    page.select_option("#id_language", "zh-hans")
    pick(page, "#id_time_zone", "berlin", "Europe/Berlin")
    page.get_by_role("button", name="Save settings").click()
    # From here on the person reads Chinese: the confirmation already says so.
    flash(page, "您的设置已保存。")
    page.fill("#id_old_password", "Grille-and-bumper-2026")
    page.fill("#id_new_password1", "Another-grille-2027")
    page.fill("#id_new_password2", "Another-grille-2027")
    page.get_by_role("button", name="修改密码").click()
    flash(page, "您的密码已修改。")
    invited = User.objects.get(username="li.na")
    assert (invited.language, invited.time_zone) == ("zh-hans", "Europe/Berlin")
    assert invited.check_password("Another-grille-2027")
    # A supplier user sees no fingerprint and no account pages.
    page.goto("/disclosures/")
    expect(page.locator("main")).not_to_contain_text("指纹")
    expect(page.locator(".site-nav").get_by_role("link", name="用户", exact=True)).to_have_count(0)
    # Logging out by typing the address asks first.
    page.goto("/accounts/logout/")
    page.get_by_role("button", name="退出登录").last.click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    # The next person at this browser switches back to English on the sign-in page.
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.problems == [], page.problems

    # The auditor reads every register and is offered nothing to change.
    login(page, "auditor")
    for link, heading in (
        ("NDAs", "NDAs"),
        ("Assets", "Confidential assets"),
        ("Disclosures", "Disclosures"),
        ("Contacts", "Contacts"),
    ):
        page.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        expect(page.locator(".page-head .actions")).to_have_count(0)
    page.get_by_role("link", name="NDAs", exact=True).click()
    page.get_by_role("link", name="NDA-XM-2024-017").click()
    expect(page.get_by_role("button", name="Terminate NDA")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.locator(".site-nav")).not_to_contain_text("Users")
    assert page.problems == [], page.problems
    page.context.close()


def test_screenshots_of_the_register_pages(
    browser,
    live_server,
    media,
    compliance_user,
    tier1,
    subvendor,
    tier1_nda,
    bumper_asset,
    bumper_disclosure,
    supplier_user,
    tmp_path,
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from suppliers import services
    from tests.factories import ContactFactory

    out = Path(os.environ.get("E2E_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    ContactFactory(supplier=tier1, name="Li Wei", email="li.wei@bmt.example", role="security")
    ContactFactory(
        supplier=tier1,
        name="Zhao Min",
        email="zhao.min@bmt.example",
        role="legal",
        receives_reminders=False,
    )
    ContactFactory(supplier=subvendor, name="Wang Fang", email="wang.fang@hebei.example")
    services.nda_update(
        actor=compliance_user,
        nda=tier1_nda,
        clause_text=(
            "7.1 The Supplier shall keep every Confidential Asset secret and answers for any "
            "disclosure by its sub-vendors.\n\n7.2 Liquidated damages: CNY 1,000,000 per breach."
        ),
        signed_document=SimpleUploadedFile("NDA-XM-2024-017-signed.pdf", PDF),
    )
    ended = services.nda_create(
        actor=compliance_user,
        reference="NDA-HB-2023-004",
        supplier=subvendor,
        signed_on=date(2023, 5, 2),
        effective_from=date(2023, 6, 1),
        penalty_amount="200000.00",
    )
    services.nda_terminate(
        actor=compliance_user,
        nda=ended,
        terminated_on=date(2024, 2, 29),
        reason="Replaced by the tier-1's NDA covering sub-vendors.",
    )
    services.disclosure_update(
        actor=compliance_user,
        disclosure=bumper_disclosure,
        version="v2",
        reason="Version recorded wrong",
    )
    grille = services.asset_create(actor=compliance_user, code="MS11-GRILLE", name="MS11 grille")
    revoked = services.disclosure_create(
        actor=compliance_user,
        asset=grille,
        supplier=subvendor,
        nda=tier1_nda,
        disclosed_on=date(2025, 3, 3),
    )
    services.disclosure_revoke(
        actor=compliance_user, disclosure=revoked, reason="Sent to the wrong team; returned."
    )
    pages = {
        "contact-list": "/contacts/",
        "contact-form": f"/contacts/new/?supplier={tier1.pk}",
        "nda-list": "/ndas/",
        "nda-detail": f"/ndas/{tier1_nda.pk}/",
        "nda-detail-terminated": f"/ndas/{ended.pk}/",
        "nda-form": "/ndas/new/",
        "asset-list": "/assets/",
        "asset-detail": f"/assets/{bumper_asset.pk}/",
        "disclosure-list": "/disclosures/",
        "disclosure-detail": f"/disclosures/{revoked.pk}/",
        "disclosure-correct": f"/disclosures/{bumper_disclosure.pk}/edit/",
        "supplier-detail-contacts": f"/suppliers/{tier1.pk}/",
        "user-list": "/users/",
        "user-invite": "/users/new/",
        "user-detail": f"/users/{supplier_user.pk}/",
        "my-settings": "/account/settings/",
        "logout-confirm": "/accounts/logout/",
    }
    anonymous = {"password-reset": "/accounts/password-reset/"}
    for size, (width, height) in {"desktop": (1280, 900), "phone": (390, 844)}.items():
        page = open_watched_page(browser, live_server.url, width=width, height=height)
        for name, path in anonymous.items():
            page.goto(path)
            page.screenshot(path=str(out / f"{name}-{size}.png"), full_page=True)
        login(page, "compliance")
        for name, path in pages.items():
            response = page.goto(path)
            assert response.status == 200, (path, response.status)
            page.screenshot(path=str(out / f"{name}-{size}.png"), full_page=True)
        response = page.goto(f"/suppliers/{tier1.pk + 999}/")
        assert response.status == 404
        page.screenshot(path=str(out / f"not-found-{size}.png"), full_page=True)
        assert page.problems == [], page.problems
        page.context.close()
