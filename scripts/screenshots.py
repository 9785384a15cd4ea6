"""Screenshots of the main pages for docs/screenshots/ (`make screenshots`).

Builds a throw-away SQLite database (migrations, then `load_demo` when the project has
it, else the seed case built here through the services), serves it with runserver on a
free local port, and drives Debian's headless Chromium through Playwright to save the
dashboard, an incident detail and a plan detail at desktop (1366x900) and phone
(390x844) widths.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
LOGIN = ("screenshots", "Screenshots-Only-Pass-2026")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_seed_case() -> None:
    """The seed case of DESIGN section 1 and a little history, through the services."""
    from breaches import services as b
    from suppliers import services as s
    from suppliers.models import User

    staff = User.objects.get(username=LOGIN[0])
    from django.utils import timezone

    today = timezone.localdate()
    tier1 = s.supplier_create(actor=staff, name="Beijing Molding Technology Co. Ltd", country="CN")
    sub = s.supplier_create(
        actor=staff, name="Hebei Precision Mould Studio", country="CN", parent=tier1
    )
    s.supplier_create(actor=staff, name="Tianjin Surface Finishing", country="CN", parent=sub)
    glass = s.supplier_create(actor=staff, name="Unrelated Glass Works", country="DE")
    lamps = s.supplier_create(actor=staff, name="Suzhou Lamp Optics", country="CN")
    nda = s.nda_create(
        actor=staff,
        reference="NDA-XM-2024-017",
        supplier=tier1,
        signed_on=date(2024, 2, 20),
        effective_from=date(2024, 3, 1),
        expires_on=date(2028, 3, 1),
        covers_subvendors=True,
        flow_down_required=True,
        penalty_amount="1000000.00",
        penalty_currency="CNY",
    )
    s.nda_create(
        actor=staff,
        reference="NDA-XM-2024-031",
        supplier=glass,
        signed_on=date(2024, 5, 1),
        effective_from=date(2024, 5, 1),
        penalty_amount="250000.00",
        penalty_currency="EUR",
    )
    s.nda_create(
        actor=staff,
        reference="NDA-XM-2024-044",
        supplier=lamps,
        signed_on=date(2024, 6, 1),
        effective_from=date(2024, 6, 1),
        penalty_amount="400000.00",
        penalty_currency="CNY",
        rectification_days=14,
    )
    front = s.asset_create(
        actor=staff, code="MS11-BUMPER-FR", name="MS11 front bumper drafts", project="MS11"
    )
    rear = s.asset_create(
        actor=staff, code="MS11-BUMPER-RR", name="MS11 rear bumper drafts", project="MS11"
    )
    lamp = s.asset_create(actor=staff, code="MS11-LAMP-HL", name="MS11 headlamp", project="MS11")
    s.disclosure_create(
        actor=staff, asset=front, supplier=tier1, nda=nda, disclosed_on=date(2024, 10, 2)
    )
    s.disclosure_create(
        actor=staff, asset=front, supplier=sub, nda=nda, disclosed_on=date(2024, 11, 5)
    )
    s.disclosure_create(
        actor=staff, asset=rear, supplier=sub, nda=nda, disclosed_on=date(2024, 11, 5)
    )
    s.disclosure_create(actor=staff, asset=lamp, supplier=lamps, disclosed_on=date(2024, 12, 1))

    seed = b.incident_create(
        actor=staff,
        title="MS11 bumper renders on social media",
        description="Renders of the front and rear bumpers of the unreleased MS11 sedan "
        "appeared on social media.",
        occurred_on=today - timedelta(days=40),
        discovered_on=today - timedelta(days=40),
        channel="social_media",
        severity="critical",
        source_supplier=sub,
        assets=[front, rear],
    )
    b.incident_transition(actor=staff, incident=seed, to="investigating", note="Tracing drafts.")
    b.incident_transition(
        actor=staff, incident=seed, to="confirmed", today=today - timedelta(days=30)
    )
    penalty = seed.penalties.get()
    penalty = b.penalty_transition(actor=staff, penalty=penalty, to="issued")
    b.penalty_record_payment(
        actor=staff, penalty=penalty, amount="400000.00", paid_on=today, reference="CNAPS-0042"
    )
    plan = seed.rectification_plans.get()
    supplier_user = s.user_create(
        actor=None,
        username="bmt-security",
        password=LOGIN[1],
        role="supplier",
        supplier=tier1,
    )
    b.plan_update(
        actor=supplier_user,
        plan=plan,
        summary="Upgrade security over drafts, including at every sub-vendor.",
    )
    actions = [
        ("Watermark every draft sent to sub-vendors", today - timedelta(days=5)),
        ("Flow-down NDAs signed by every sub-vendor", today + timedelta(days=20)),
        ("Quarterly audit of sub-vendor access logs", today + timedelta(days=60)),
    ]
    created = [
        b.action_create(
            actor=supplier_user,
            plan=plan,
            description=text,
            due_on=due,
            owner="BMT security office",
            today=today - timedelta(days=20),
        )
        for text, due in actions
    ]
    b.plan_transition(actor=supplier_user, plan=plan, to="submitted")
    b.plan_transition(actor=staff, plan=plan, to="approved")
    b.action_complete(
        actor=supplier_user, action=created[1], evidence_note="Signed NDAs archived in DMS."
    )

    # Some history for the charts and an overdue plan for the dashboard.
    for months_ago, title, source, severity in [
        (2, "Headlamp sketch shown at a trade fair", lamps, "high"),
        (4, "Glass supplier slide deck forwarded", glass, "medium"),
        (7, "Bumper tooling photo in a forum", sub, "low"),
        (9, "Interior colour board leaked to press", None, "medium"),
    ]:
        incident = b.incident_create(
            actor=staff,
            title=title,
            occurred_on=today - timedelta(days=30 * months_ago),
            discovered_on=today - timedelta(days=30 * months_ago - 2),
            channel="press" if source is None else "competitor",
            severity=severity,
            source_supplier=source,
        )
        if source is lamps:
            b.incident_transition(actor=staff, incident=incident, to="investigating")
            b.incident_transition(
                actor=staff, incident=incident, to="confirmed", today=today - timedelta(days=25)
            )


def prepare_database(env: dict) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command, get_commands

    from suppliers import services as s

    call_command("migrate", interactive=False, verbosity=0)
    has_demo = "load_demo" in get_commands()
    if has_demo:
        call_command("load_demo")
    s.user_create(actor=None, username=LOGIN[0], password=LOGIN[1], role="compliance")
    if not has_demo:
        build_seed_case()


def targets() -> dict[str, str]:
    from breaches.models import RectificationPlan

    plan = (
        RectificationPlan.objects.filter(actions__isnull=False).order_by("id").first()
        or RectificationPlan.objects.order_by("id").first()
    )
    if plan is None:
        raise SystemExit("No rectification plan in the data: nothing to show.")
    return {
        "dashboard": "/",
        "incident-detail": f"/incidents/{plan.incident_id}/",
        "plan-detail": f"/plans/{plan.pk}/",
    }


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (local server)
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"The server at {url} did not come up.")


def shoot(base_url: str, pages: dict[str, str]) -> list[Path]:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    saved = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for size_name, (width, height) in SIZES.items():
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            page.goto(f"{base_url}/accounts/login/")
            page.fill("#id_username", LOGIN[0])
            page.fill("#id_password", LOGIN[1])
            page.click("button[type=submit]")
            page.wait_for_url(f"{base_url}/")
            for name, path in pages.items():
                page.goto(f"{base_url}{path}")
                target = OUT / f"{name}-{size_name}.png"
                page.screenshot(path=str(target), full_page=True)
                saved.append(target)
            context.close()
        browser.close()
    return saved


def main() -> None:
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="breach-shots-") as tmp:
        env = {
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{tmp}/screenshots.sqlite3",
            "DJANGO_VAR_DIR": tmp,
            "CELERY_TASK_ALWAYS_EAGER": "1",
            "EMAIL_URL": "consolemail://",
        }
        prepare_database(env)
        pages = targets()
        port = free_port()
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_for(f"{base_url}/accounts/login/")
            for path in shoot(base_url, pages):
                print(f"saved {path.relative_to(ROOT)}")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
