"""DESIGN section 11 in a real headless Chromium: a browser that asks for Chinese
(Accept-Language zh-CN) gets the sign-in page in Chinese, signs in, and walks the seed
case (the demo data of `load_demo`) as compliance staff and as the tier-1 supplier's
user. Every page is in Chinese: its headings, column heads, labels, buttons, navigation
and status badges carry Chinese text, the page says `lang="zh-hans"`, and instants are
shown in Asia/Shanghai with the zone named. Screenshots at desktop and phone width go to
docs/screenshots/ (zh-*.png)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from tests.e2e.conftest import DESKTOP, open_watched_page, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CJK = re.compile(r"[\u4e00-\u9fff]")
# What reads the same in both languages: codes, references, formats and names of things.
NEUTRAL = re.compile(
    r"^(?:[\s\d.,:;()·/%+\-\u2013\u2014…#*¥$€]*|[A-Z]{3}|CSV|XLSX|PDF|API|English|简体中文|"
    r"(?:INC|NDA|MS\d+)[-\w]*.*|[A-Z]{2,4}-[\w-]+|.*@.*|\S+\.(?:png|jpe?g|pdf|txt)|Webhook)$"
)
LABELS = "h1, h2, h3, th, label, button, .site-nav a, .badge, .btn, legend, dt"


@pytest.fixture
def demo(settings, tmp_path):
    """The demo data; its compliance lead and tier-1 supplier user read Chinese, as people
    do who accepted their invitation in a Chinese browser (their language is taken from
    it then: tests/test_ui_languages.py)."""
    from suppliers.models import User

    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", stdout=io.StringIO())
    User.objects.filter(username__in=["compliance", "bmt-supplier"]).update(language="zh-hans")


@pytest.fixture
def page(browser, live_server, demo):
    page = open_watched_page(
        browser, live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai", **DESKTOP
    )
    yield page
    page.context.close()


def english_left(page) -> list[str]:
    """The labels of the page (headings, column heads, form labels, buttons, navigation,
    badges) that carry no Chinese and are not codes or names."""
    texts = page.locator(LABELS).evaluate_all(
        "els => els.filter(e => e.offsetParent !== null || e.closest('nav'))"
        ".map(e => e.innerText.trim())"
    )
    return [t for t in texts if t and not CJK.search(t) and not NEUTRAL.match(t)]


def check_chinese(page, name: str) -> None:
    assert page.locator("html").get_attribute("lang") == "zh-hans", name
    left = english_left(page)
    assert not left, f"{name}: English left on the page: {left}"
    for stamp in page.locator("main time[datetime]").all()[:5]:
        shown, instant = stamp.inner_text(), stamp.get_attribute("datetime")
        assert shown.endswith("Asia/Shanghai"), f"{name}: {shown!r} does not name its zone"
        utc = datetime.strptime(instant, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        local = utc.astimezone(ZoneInfo("Asia/Shanghai"))
        assert shown.startswith(f"{local:%Y-%m-%d %H:%M}"), f"{name}: {shown} is not {local}"


def sign_in(page, username: str, password: str) -> None:
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    check_chinese(page, "login")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()


def walk(page, paths: dict[str, str], *, shots: set[str]) -> None:
    for name, path in paths.items():
        response = page.goto(path)
        assert response.status == 200, f"{name}: {path} answered {response.status}"
        check_chinese(page, name)
        if name in shots:
            shoot(page, f"zh-{name}")


def test_a_chinese_browser_walks_the_seed_case_in_chinese(page):
    from breaches.models import Penalty, RectificationPlan
    from suppliers.models import NDA, Supplier

    page.goto("/accounts/login/")
    shoot(page, "zh-login")
    penalty = Penalty.objects.select_related("incident").order_by("id").first()
    leak = penalty.incident
    plan = RectificationPlan.objects.filter(incident=leak).first()
    tier1 = Supplier.objects.get(name="Beijing Molding Technology Co. Ltd")
    nda = NDA.objects.filter(supplier=tier1).first()

    sign_in(page, "compliance", "compliance-demo-2025")
    walk(
        page,
        {
            "dashboard": "/",
            "incidents": "/incidents/",
            "incident": f"/incidents/{leak.pk}/",
            "penalties": "/penalties/",
            "penalty": f"/penalties/{penalty.pk}/",
            "plans": "/plans/",
            "plan": f"/plans/{plan.pk}/",
            "deadlines": "/deadlines/",
            "reminders": "/reminders/",
            "suppliers": "/suppliers/",
            "supplier": f"/suppliers/{tier1.pk}/",
            "ndas": "/ndas/",
            "nda": f"/ndas/{nda.pk}/",
            "assets": "/assets/",
            "disclosures": "/disclosures/",
            "contacts": "/contacts/",
            "users": "/users/",
            "notifications": "/notifications/",
            "settings": "/account/settings/",
            "security": "/account/security/",
        },
        shots={"dashboard", "incident", "penalty", "plan", "supplier", "deadlines"},
    )
    # The seed's supplier is named in Chinese beside its English name.
    page.goto(f"/suppliers/{tier1.pk}/")
    assert "北京模塑科技有限公司" in page.locator("main").inner_text()
    page.get_by_role("button", name="退出登录").click()

    sign_in(page, "bmt-supplier", "supplier-demo-2025")
    walk(
        page,
        {
            "dashboard-supplier": "/",
            "incident-supplier": f"/incidents/{leak.pk}/",
            "plan-supplier": f"/plans/{plan.pk}/",
            "penalty-supplier": f"/penalties/{penalty.pk}/",
        },
        shots={"dashboard-supplier", "plan-supplier"},
    )
    assert page.problems == [], page.problems
