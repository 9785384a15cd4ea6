"""Reminder mail and the weekly digest reach each recipient in its language and time zone
(DESIGN section 11): a contact's (or a user's) `language` and `time_zone` decide the
subject, the text and the HTML; instants are shown in its zone, named; money as its
language writes it; due dates are calendar days and read the same everywhere. Mail is
grouped per address, and each address keeps its own language."""

# Chinese is written with its full-width punctuation, which is what is checked.
# ruff: noqa: RUF001

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import translation

from breaches import reminders, tasks
from breaches.choices import PenaltyStatus, PlanStatus
from breaches.models import Penalty
from suppliers.choices import Role
from tests.factories import (
    ContactFactory,
    IncidentFactory,
    PenaltyFactory,
    SupplierFactory,
    UserFactory,
)
from tests.reminder_helpers import DUE, day, deliver_pending, make_action, make_manager, make_plan

pytestmark = pytest.mark.django_db

# The instant the mail goes out: 20:00 in Beijing, 07:00 in New York (EST, UTC-5).
SENT = datetime(2025, 3, 6, 12, 0, tzinfo=UTC)


def contact(email: str, *, language: str, time_zone: str, supplier=None):
    supplier = supplier or SupplierFactory()
    ContactFactory(
        supplier=supplier,
        email=email,
        receives_reminders=True,
        language=language,
        time_zone=time_zone,
    )
    return supplier


def deliver_at(instant: datetime = SENT) -> dict[str, int]:
    with time_machine.travel(instant, tick=False):
        return deliver_pending()


def mail_to(outbox, address: str):
    (mail,) = [m for m in outbox if m.to == [address]]
    return mail, mail.alternatives[0][0]


@pytest.fixture(autouse=True)
def _english_around():
    # Whatever a test renders, the language of the process is left as it was.
    with translation.override("en"):
        yield


def test_a_chinese_contact_gets_its_reminder_in_chinese_and_an_english_one_in_english(
    mailoutbox,
):
    zh = contact("zhang.min@bjmolding.example", language="zh-hans", time_zone="Asia/Shanghai")
    en = contact("k.vogel@lighting.example", language="en", time_zone="America/New_York")
    zh_plan = make_plan(supplier=zh, contact_email=None)
    en_plan = make_plan(supplier=en, contact_email=None)
    reminders.run_sweep(as_of=day(3), enqueue=False)

    assert deliver_at() == {"sent": 2}

    chinese, chinese_html = mail_to(mailoutbox, "zhang.min@bjmolding.example")
    assert chinese.subject == "整改提醒：1 项逾期"
    for body in (chinese.body, chinese_html):
        assert "您好" in body
        assert "Hello" not in body
        assert "供应商泄密事件跟踪系统" in body
        assert "整改计划（待提交）" in body
        assert "逾期 3 天" in body
        assert zh_plan.incident.reference in body
        assert "2025-03-03" in body  # the due date, as stored
        assert "2025-03-06 20:00 Asia/Shanghai" in body  # the instant, in its zone
        assert "Rectification" not in body
    assert '<html lang="zh-hans">' in chinese_html

    english, english_html = mail_to(mailoutbox, "k.vogel@lighting.example")
    assert english.subject == "Rectification reminder: 1 overdue"
    for body in (english.body, english_html):
        assert "Hello," in body
        assert "Rectification plan (submission)" in body
        assert "3 days overdue" in body
        assert en_plan.incident.reference in body
        assert "2025-03-03" in body
        assert "2025-03-06 07:00 America/New_York" in body
        assert "您好" not in body
    assert '<html lang="en">' in english_html


@pytest.mark.parametrize(
    ("time_zone", "shown"),
    [
        ("Asia/Shanghai", "2025-03-06 20:00 Asia/Shanghai"),
        ("America/New_York", "2025-03-06 07:00 America/New_York"),
    ],
)
def test_times_in_a_reminder_are_in_the_contacts_time_zone(mailoutbox, time_zone, shown):
    supplier = contact("li.na@supplier.example", language="zh-hans", time_zone=time_zone)
    make_plan(supplier=supplier, contact_email=None)
    reminders.run_sweep(as_of=day(3), enqueue=False)

    deliver_at()

    mail, html = mail_to(mailoutbox, "li.na@supplier.example")
    assert f"发送时间：{shown}。" in mail.body
    assert shown in html
    assert "UTC" not in mail.body


def test_one_address_one_language_when_a_sweep_groups_mail_per_recipient(mailoutbox):
    """At level 3 the same items go to the supplier's contact, the incident owner and a
    compliance manager: one message each, each in its reader's language and zone."""
    owner = UserFactory(
        username="owner",
        role=Role.COMPLIANCE,
        email="owner@buyer.example",
        language="zh-hans",
        time_zone="Asia/Shanghai",
    )
    manager = make_manager()
    manager.language, manager.time_zone = "en", "Europe/Berlin"
    manager.save()
    supplier = contact("ops@supplier.example", language="en", time_zone="America/New_York")
    plan = make_plan(supplier=supplier, owner=owner, contact_email=None)
    approved = make_plan(
        supplier=supplier,
        owner=owner,
        status=PlanStatus.APPROVED,
        due_on=day(-60),
        contact_email=None,
    )
    make_action(plan=approved, description="Lock the CAD vault")
    result = reminders.run_sweep(as_of=day(14), enqueue=False)
    assert set(result.messages) == {
        "ops@supplier.example",
        "owner@buyer.example",
        "manager@example.com",
    }

    assert deliver_at() == {"sent": 3}

    owners, _ = mail_to(mailoutbox, "owner@buyer.example")
    assert owners.subject == "整改提醒：2 项逾期（已升级至合规经理）"
    assert "整改措施：Lock the CAD vault" in owners.body
    assert plan.incident.reference in owners.body
    assert "2025-03-06 20:00 Asia/Shanghai" in owners.body
    contacts, _ = mail_to(mailoutbox, "ops@supplier.example")
    assert (
        contacts.subject == "Rectification reminder: 2 overdue (escalated to compliance managers)"
    )
    assert "Action: Lock the CAD vault" in contacts.body
    assert "2025-03-06 07:00 America/New_York" in contacts.body
    managers, _ = mail_to(mailoutbox, "manager@example.com")
    assert managers.subject == contacts.subject
    assert "2025-03-06 13:00 Europe/Berlin" in managers.body


def test_the_language_of_one_mail_does_not_leak_into_the_next(mailoutbox):
    zh = contact("a@zh.example", language="zh-hans", time_zone="Asia/Shanghai")
    en = contact("b@en.example", language="en", time_zone="Asia/Shanghai")
    make_plan(supplier=zh, contact_email=None)
    make_plan(supplier=en, contact_email=None)
    reminders.run_sweep(as_of=day(1), enqueue=False)

    deliver_at()

    assert translation.get_language() == "en"
    english, _ = mail_to(mailoutbox, "b@en.example")
    assert english.subject.startswith("Rectification reminder:")
    chinese, _ = mail_to(mailoutbox, "a@zh.example")
    assert chinese.subject.startswith("整改提醒")


def test_a_due_soon_notice_in_chinese(mailoutbox):
    supplier = contact("soon@zh.example", language="zh-hans", time_zone="Asia/Shanghai")
    make_plan(supplier=supplier, contact_email=None, due_on=DUE)
    reminders.run_sweep(as_of=day(-3), enqueue=False)

    deliver_at(SENT - timedelta(days=9))

    mail, html = mail_to(mailoutbox, "soon@zh.example")
    assert mail.subject == "整改提醒：1 项即将到期"
    assert "3 天后到期" in mail.body
    assert "3 天后到期" in html
    assert "截止日期为 2025-03-03" in mail.body


def test_money_in_a_payment_reminder_is_written_as_the_language_writes_it(mailoutbox):
    zh = contact("finance@zh.example", language="zh-hans", time_zone="Asia/Shanghai")
    en = contact("finance@en.example", language="en", time_zone="Asia/Shanghai")
    for supplier in (zh, en):
        penalty = PenaltyFactory(
            incident=IncidentFactory(responsible_supplier=supplier),
            supplier=supplier,
            amount=Decimal("1000000.00"),
            proposed_on=DUE - timedelta(days=30),
            due_on=DUE,
        )
        Penalty.objects.filter(pk=penalty.pk).update(status=PenaltyStatus.ISSUED)
    reminders.run_sweep(as_of=day(3), enqueue=False)

    deliver_at()

    chinese, _ = mail_to(mailoutbox, "finance@zh.example")
    assert "违约金付款：未付金额 ¥1,000,000.00" in chinese.body
    english, _ = mail_to(mailoutbox, "finance@en.example")
    assert "Payment of the penalty: CN¥1,000,000.00 outstanding" in english.body


def test_the_weekly_digest_reaches_each_manager_in_its_language(mailoutbox):
    zh = make_manager("zh-manager")
    zh.language, zh.time_zone = "zh-hans", "Asia/Shanghai"
    zh.save()
    en = make_manager("en-manager")
    en.language, en.time_zone = "en", "America/New_York"
    en.save()
    supplier = SupplierFactory(
        name="Beijing Molding Technology Co. Ltd", local_name="北京模塑科技有限公司"
    )
    late = make_plan(supplier=supplier, due_on=day(-10))

    with time_machine.travel(SENT, tick=False):
        tasks.send_weekly_digest.apply(kwargs={"as_of": DUE.isoformat()})
        deliver_pending()

    chinese, chinese_html = mail_to(mailoutbox, "zh-manager@example.com")
    assert chinese.subject == "每周逾期汇总 2025-03-03：1 家供应商共 1 项逾期"
    for body in (chinese.body, chinese_html):
        assert "北京模塑科技有限公司" in body
        assert late.incident.reference in body
        assert "逾期 10 天" in body
        assert "2025-03-06 20:00 Asia/Shanghai" in body
    english, english_html = mail_to(mailoutbox, "en-manager@example.com")
    assert english.subject == "Weekly overdue digest 2025-03-03: 1 overdue item at 1 supplier"
    for body in (english.body, english_html):
        assert "Beijing Molding Technology Co. Ltd" in body
        assert "10 days overdue" in body
        assert "2025-03-06 07:00 America/New_York" in body


def test_an_address_that_is_an_account_too_reads_as_the_account(mailoutbox):
    """The rule of every mail (notifications too): the person's own account settings come
    before what staff set on a supplier contact with the same address."""
    supplier = contact("wang.fang@hebei.example", language="en", time_zone="America/New_York")
    UserFactory(
        username="wang.fang",
        role=Role.SUPPLIER,
        supplier=supplier,
        email="Wang.Fang@hebei.example",
        language="zh-hans",
        time_zone="Asia/Shanghai",
    )
    make_plan(supplier=supplier, contact_email=None)
    reminders.run_sweep(as_of=day(3), enqueue=False)

    deliver_at()

    mail, _ = mail_to(mailoutbox, "wang.fang@hebei.example")
    assert mail.subject == "整改提醒：1 项逾期"
    assert "2025-03-06 20:00 Asia/Shanghai" in mail.body
