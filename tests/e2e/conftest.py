"""What the browser tests share: Debian's headless Chromium driven by Playwright."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls in the fixtures
# are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (apt-get install -y chromium chromium-driver)"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_watched_page(browser, base_url: str, *, width: int = 1280, height: int = 900, **context):
    """A new page whose `problems` list collects what must fail a browser test: console
    errors (CSP violations among them), uncaught page errors and server errors (5xx).
    Chromium's "Failed to load resource" lines are left out: a form answered 400 with its
    errors, or a 404 page, is the product working (the browser's favicon probe too)."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, base_url=base_url, **context
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.problems = []
    page.on(
        "console",
        lambda msg: (
            page.problems.append(f"console {msg.type}: {msg.text}")
            if (msg.type == "error" and not msg.text.startswith("Failed to load resource"))
            or "Content Security Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.on(
        "response",
        lambda response: (
            page.problems.append(f"server error {response.status}: {response.url}")
            if response.status >= 500
            else None
        ),
    )
    return page


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def shoot(page, name: str) -> None:
    """The page as it is into docs/screenshots/, at desktop then phone width (full
    length), back to desktop: `<name>-desktop.png`, `<name>-phone.png`."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width_name}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
