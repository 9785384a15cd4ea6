"""Language and time for people (DESIGN section 11): the language switch on every page
(kept on the person once signed in), the browser's language for invited people, account
mails in the recipient's language with instants in its time zone, a person's own
settings through the API, and suppliers' registered names in their own script."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from suppliers.choices import Role
from suppliers.models import User
from tests.factories import ContactFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+(/accounts/reset/[^\s]+/)")
CHINESE_BROWSER = "zh-CN,zh;q=0.9,en;q=0.5"
ENGLISH_BROWSER = "en-GB,en;q=0.9"


def body(response) -> str:
    return response.content.decode()


# --- The language switch ------------------------------------------------------------------


def test_login_page_offers_the_switch_and_it_changes_the_language(client):
    page = body(client.get(reverse("login")))
    assert f'action="{reverse("set_language")}"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert 'value="zh-hans"' in page
    assert "简体中文" in page
    assert "English" in page
    assert f'name="next" value="{reverse("login")}"' in page
    assert '<html lang="en">' in page

    switched = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": reverse("login")}
    )
    assert switched.status_code == 302
    assert switched.url == reverse("login")
    chinese = body(client.get(reverse("login")))
    assert '<html lang="zh-hans">' in chinese
    assert "忘记密码" in chinese
    assert "Forgot your password?" not in chinese


def test_the_switch_refuses_to_send_anyone_off_site(client):
    response = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response.url


def test_a_signed_in_person_switching_keeps_the_choice(client, supplier_user):
    assert supplier_user.language == "en"
    client.force_login(supplier_user)
    page = body(client.get(reverse("dashboard")))
    assert f'action="{reverse("set_language")}"' in page  # in the footer

    response = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": reverse("suppliers:list")}
    )
    assert response.status_code == 302
    assert response.url == reverse("suppliers:list")
    supplier_user.refresh_from_db()
    assert supplier_user.language == "zh-hans"
    # Without the cookie (another browser) the page still follows the person.
    client.cookies.pop("django_language", None)
    listing = body(client.get(reverse("suppliers:list")))
    assert '<html lang="zh-hans">' in listing
    assert "<h1>供应商</h1>" in listing

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    supplier_user.refresh_from_db()
    assert supplier_user.language == "en"


def test_the_language_chosen_on_the_sign_in_page_stays_after_signing_in(client, supplier_user):
    assert supplier_user.language == "en"
    client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("login")})
    signed_in = client.post(
        reverse("login"),
        {"username": supplier_user.username, "password": "correct-horse-battery"},
    )
    assert signed_in.status_code == 302, body(signed_in)
    supplier_user.refresh_from_db()
    assert supplier_user.language == "zh-hans"
    assert '<html lang="zh-hans">' in body(client.get(reverse("dashboard")))


def test_signing_in_without_a_choice_keeps_the_persons_language(client, supplier_user):
    client.post(
        reverse("login"),
        {"username": supplier_user.username, "password": "correct-horse-battery"},
        HTTP_ACCEPT_LANGUAGE=CHINESE_BROWSER,
    )
    supplier_user.refresh_from_db()
    assert supplier_user.language == "en"


def test_an_unknown_language_changes_nothing(client, supplier_user):
    client.force_login(supplier_user)
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    supplier_user.refresh_from_db()
    assert supplier_user.language == "en"


def test_the_switch_is_a_post(client, supplier_user):
    client.force_login(supplier_user)
    assert client.get(reverse("set_language"), {"language": "zh-hans"}).status_code == 405
    supplier_user.refresh_from_db()
    assert supplier_user.language == "en"


# --- The browser's language for invited people -------------------------------------------------


def _invite(client, supplier, **extra):
    data = {
        "role": "supplier",
        "supplier": supplier.pk,
        "username": "wang.fang",
        "email": "wang.fang@bmt.example",
        **extra,
    }
    return client.post(reverse("suppliers:user-invite"), data, HTTP_ACCEPT_LANGUAGE=ENGLISH_BROWSER)


def test_the_invitation_form_offers_the_inviters_language(client, compliance_user, tier1):
    compliance_user.language = "zh-hans"
    compliance_user.save()
    client.force_login(compliance_user)
    page = body(client.get(reverse("suppliers:user-invite")))
    assert '<option value="zh-hans" selected>' in page


def test_the_inviter_may_choose_the_invitations_language(
    client, compliance_user, tier1, django_capture_on_commit_callbacks
):
    client.force_login(compliance_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(client, tier1, language="zh-hans")
    assert response.status_code == 302, body(response)
    assert User.objects.get(username="wang.fang").language == "zh-hans"
    # The invitation is written in that language, whoever sends it.
    assert len(mail.outbox) == 1
    assert "您好" in mail.outbox[0].body
    assert "泄密事件跟踪系统" in mail.outbox[0].subject


def test_accepting_an_invitation_takes_the_browsers_language(
    client, compliance_user, tier1, django_capture_on_commit_callbacks
):
    client.force_login(compliance_user)
    with django_capture_on_commit_callbacks(execute=True):
        _invite(client, tier1, language="en")
    invited = User.objects.get(username="wang.fang")
    assert invited.language == "en"
    path = LINK.search(mail.outbox[0].body).group(1)

    client.logout()
    form = client.get(path, follow=True, HTTP_ACCEPT_LANGUAGE=CHINESE_BROWSER)
    assert "设置密码" in body(form)
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-long-Passphrase-77", "new_password2": "a-long-Passphrase-77"},
        HTTP_ACCEPT_LANGUAGE=CHINESE_BROWSER,
    )
    assert done.status_code == 302
    invited.refresh_from_db()
    assert invited.check_password("a-long-Passphrase-77")
    assert invited.language == "zh-hans"
    assert invited.time_zone == "Asia/Shanghai"


def test_the_language_switch_before_accepting_is_the_choice(
    client, compliance_user, tier1, django_capture_on_commit_callbacks
):
    client.force_login(compliance_user)
    with django_capture_on_commit_callbacks(execute=True):
        _invite(client, tier1, language="zh-hans")
    path = LINK.search(mail.outbox[0].body).group(1)
    client.logout()
    client.post(reverse("set_language"), {"language": "en", "next": path})
    form = client.get(path, follow=True, HTTP_ACCEPT_LANGUAGE=CHINESE_BROWSER)
    assert "Choose a password" in body(form)
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-long-Passphrase-77", "new_password2": "a-long-Passphrase-77"},
        HTTP_ACCEPT_LANGUAGE=CHINESE_BROWSER,
    )
    assert User.objects.get(username="wang.fang").language == "en"


def test_a_password_reset_keeps_a_chosen_language(client, supplier_user):
    supplier_user.language = "en"
    supplier_user.last_login = supplier_user.date_joined
    supplier_user.save()
    client.post(
        reverse("password_reset"),
        {"email": supplier_user.email},
        HTTP_ACCEPT_LANGUAGE=CHINESE_BROWSER,
    )
    path = LINK.search(mail.outbox[0].body).group(1)
    form = client.get(path, follow=True, HTTP_ACCEPT_LANGUAGE=CHINESE_BROWSER)
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Another-long-pass-91", "new_password2": "Another-long-pass-91"},
        HTTP_ACCEPT_LANGUAGE=CHINESE_BROWSER,
    )
    supplier_user.refresh_from_db()
    assert supplier_user.check_password("Another-long-pass-91")
    assert supplier_user.language == "en"


# --- Account mails in the recipient's language and time zone ----------------------------------


def test_a_reset_mail_speaks_the_owners_language_not_the_askers(client, tier1):
    owner = UserFactory(
        username="li.lei",
        role=Role.SUPPLIER,
        supplier=tier1,
        language="zh-hans",
        time_zone="Asia/Shanghai",
    )
    client.post(
        reverse("password_reset"), {"email": owner.email}, HTTP_ACCEPT_LANGUAGE=ENGLISH_BROWSER
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "设置泄密事件跟踪系统的新密码"
    assert message.body.startswith("li.lei")
    assert "您好" in message.body
    assert "该链接仅可使用一次" in message.body
    assert "Asia/Shanghai" in message.body  # the expiry, in the owner's zone, named
    assert LINK.search(message.body)


def test_a_staff_sent_mail_is_in_the_recipients_language_and_zone(
    client, compliance_user, tier1, django_capture_on_commit_callbacks
):
    recipient = UserFactory(
        username="hans",
        role=Role.SUPPLIER,
        supplier=tier1,
        language="en",
        time_zone="Europe/Berlin",
    )
    compliance_user.language = "zh-hans"
    compliance_user.save()
    client.force_login(compliance_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("suppliers:user-reset", args=[recipient.pk]))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Choose a new password for the breach tracker"
    assert "Hello hans," in message.body
    expiry = re.search(r"three days \((\d{4}-\d\d-\d\d \d\d:\d\d) ([A-Za-z_/]+)\)", message.body)
    assert expiry, message.body
    assert expiry.group(2) == "Europe/Berlin"


def test_an_invitation_names_the_supplier_in_chinese(
    client, compliance_user, django_capture_on_commit_callbacks
):
    supplier = SupplierFactory(name="Beijing Molding Technology Co. Ltd")
    client.force_login(compliance_user)
    with django_capture_on_commit_callbacks(execute=True):
        _invite(client, supplier, language="zh-hans")
    text = mail.outbox[0].body
    assert "wang.fang" in text
    assert "Beijing Molding Technology Co. Ltd" in text
    assert "请通过以下链接设置密码" in text


# --- A person's own language and time zone through the API -------------------------------------


def test_a_person_reads_and_changes_its_own_settings_through_the_api(client, supplier_user):
    client.force_login(supplier_user)
    me = client.get("/api/v1/users/me/")
    assert me.status_code == 200, me.content
    assert me.json()["language"] == "en"
    assert me.json()["time_zone"] == "Asia/Shanghai"

    changed = client.patch(
        "/api/v1/users/me/",
        {"language": "zh-hans", "time_zone": "Europe/Berlin", "role": "admin"},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    supplier_user.refresh_from_db()
    assert (supplier_user.language, supplier_user.time_zone) == ("zh-hans", "Europe/Berlin")
    assert supplier_user.role == Role.SUPPLIER  # the rest is read-only here

    bad = client.patch(
        "/api/v1/users/me/", {"time_zone": "Mars/Olympus"}, content_type="application/json"
    )
    assert bad.status_code == 400
    assert "time_zone" in bad.json()
    # Still none of the other accounts.
    assert client.get("/api/v1/users/").status_code == 403


def test_api_refusals_follow_accept_language(client, supplier_user):
    client.force_login(supplier_user)
    bad = client.patch(
        "/api/v1/users/me/",
        {"time_zone": "Mars/Olympus"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=CHINESE_BROWSER,
    )
    assert bad.status_code == 400
    assert "不是有效的时区名称" in bad.json()["time_zone"][0]


# --- Pages --------------------------------------------------------------------------------------


def test_suppliers_show_their_registered_local_name(client, auditor_user):
    supplier = SupplierFactory(
        name="Beijing Molding Technology Co. Ltd", local_name="北京模塑科技有限公司"
    )
    client.force_login(auditor_user)
    expected = '· <span class="local-name" lang="zh-Hans">北京模塑科技有限公司</span>'
    assert expected in body(client.get(reverse("suppliers:list")))
    assert expected in body(client.get(reverse("suppliers:detail", args=[supplier.pk])))


def test_the_supplier_form_edits_the_local_name(client, compliance_user):
    supplier = SupplierFactory(name="Beijing Molding Technology Co. Ltd")
    client.force_login(compliance_user)
    url = reverse("suppliers:edit", args=[supplier.pk])
    assert 'name="local_name"' in body(client.get(url))
    response = client.post(
        url,
        {
            "name": supplier.name,
            "local_name": "北京模塑科技有限公司",
            "country": "CN",
            "status": "active",
        },
    )
    assert response.status_code == 302, body(response)
    supplier.refresh_from_db()
    assert supplier.local_name == "北京模塑科技有限公司"


def test_the_contact_list_shows_each_contacts_language(client, auditor_user):
    ContactFactory(name="Zhang Wei", language="zh-hans", time_zone="Asia/Shanghai")
    ContactFactory(name="Anna Schmidt", language="en", time_zone="Europe/Berlin")
    client.force_login(auditor_user)
    page = body(client.get(reverse("suppliers:contact-list")))
    assert '<span lang="zh-hans">简体中文</span>' in page
    assert '<span lang="en">English</span>' in page
    assert "Europe/Berlin" in page


def test_a_chinese_page_is_chinese(client, compliance_user, tier1):
    compliance_user.language = "zh-hans"
    compliance_user.time_zone = "Asia/Shanghai"
    compliance_user.save()
    client.force_login(compliance_user)
    page = body(client.get(reverse("suppliers:detail", args=[tier1.pk])))
    assert '<html lang="zh-hans">' in page
    for text in ("层级 1", "分包商", "保密协议", "联系人", "工作台"):
        assert text in page, text


def test_my_settings_speak_the_new_language_at_once(client, supplier_user):
    client.force_login(supplier_user)
    response = client.post(
        reverse("suppliers:my-settings"),
        {"form": "settings", "language": "zh-hans", "time_zone": "Asia/Shanghai"},
        follow=True,
    )
    page = body(response)
    assert '<html lang="zh-hans">' in page
    assert "您的设置已保存。" in page
    # The sign-in page after signing out speaks it too.
    assert client.cookies["django_language"].value == "zh-hans"
    client.post(reverse("logout"))
    assert '<html lang="zh-hans">' in body(client.get(reverse("login")))


def test_a_chinese_change_history_names_old_and_new_values(client, compliance_user, tier1_nda):
    # The shared history table says "from" and "to" as old and new values (原值, 新值),
    # whatever another catalogue makes of those words (a mail's sender and recipient).
    compliance_user.language = "zh-hans"
    compliance_user.save()
    client.force_login(compliance_user)
    page = body(client.get(reverse("suppliers:nda-detail", args=[tier1_nda.pk])))
    for text in ("变更记录", "原值", "新值", "操作人", "已创建"):
        assert text in page, text


def test_an_empty_time_zone_sent_as_a_form_is_refused(client, supplier_user):
    """Found by schemathesis' negative phase: `time_zone=` as a form field answered 200."""
    client.force_login(supplier_user)
    response = client.patch(
        "/api/v1/users/me/",
        "language=en&time_zone=",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400, response.content
    assert "time_zone" in response.json()
    supplier_user.refresh_from_db()
    assert supplier_user.time_zone == "Asia/Shanghai"


def test_filter_labels_follow_the_reader_after_the_schema_was_read(client, compliance_user):
    """The defect: django-filter keeps the label it derives from a model field on the
    filter, and the OpenAPI schema reads the classes' filters; after one schema request
    in English, a Chinese page's filter form said "Status"."""
    client.force_login(compliance_user)
    assert client.get("/api/v1/schema/").status_code == 200
    assert 'for="id_status">Status' in body(client.get(reverse("suppliers:list")))
    compliance_user.language = "zh-hans"
    compliance_user.save(update_fields=["language"])
    chinese = body(client.get(reverse("suppliers:list")))
    assert 'for="id_status">Status' not in chinese
    assert 'for="id_status">状态' in chinese
