"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

The live server runs in a thread of this process, so the e-mails the portal
sends land in ``django.core.mail.outbox`` (pytest-django's locmem backend) and
Celery tasks run eagerly (see tests/conftest.py). ``live_server`` adds its
host (localhost) to ALLOWED_HOSTS itself.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Response, expect, sync_playwright

BROWSER_DIR = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("DSAR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Short timeouts: every page is local, so anything slower is a failure, not a wait.
ACTION_TIMEOUT_MS = 5_000
NAVIGATION_TIMEOUT_MS = 10_000
# What a page shows after a click that does work on the server (building an archive, rendering a PDF) may take longer
# on a loaded two-core CI machine than a click itself.
expect.set_options(timeout=10_000)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test here that drives Chromium is marked ``browser``, so ``-m "not browser"`` skips them."""
    for item in items:
        if BROWSER_DIR in Path(item.path).resolve().parents and "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (`make browser` installs it)"
        if os.environ.get("CI") or os.environ.get("DSAR_REQUIRE_SERVICES"):
            pytest.fail(message)  # in CI a missing browser must not pass as a skip
        pytest.skip(message)
    # Playwright's sync API runs an asyncio event loop in this thread; Django then
    # refuses ORM calls from test code (SynchronousOnlyOperation) although they are
    # in fact synchronous. The documented workaround, set only while the browser runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_errors() -> list[str]:
    """What the browser complained about during the test; checked after the test by ``new_context``."""
    return []


@pytest.fixture
def new_context(browser: Browser, live_server, browser_errors: list[str]) -> Iterator[Callable[[], BrowserContext]]:
    """Make fresh browser contexts (own cookies: another device, or another person).

    Every page in them reports script errors, failed sub-resources (CSS) and
    Content-Security-Policy violations (the CSP forbids inline styles and
    scripts, so a template that uses one is caught here); the test fails if
    there were any.
    """
    contexts: list[BrowserContext] = []

    def on_console(message) -> None:
        # A 400 page (a form shown again with errors) is logged as a failed load; sub-resources are checked below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            browser_errors.append(f"console: {message.text}")

    def on_response(response: Response) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            browser_errors.append(f"{response.status} for {response.url}")

    def make() -> BrowserContext:
        # Reduced motion: Bootstrap then draws a button's hover and focus colours at once instead of fading to them,
        # so axe never measures contrast mid-fade (a button under the pointer after a click read 1.33:1 mid-fade).
        context = browser.new_context(
            base_url=live_server.url,
            locale="en-GB",
            viewport={"width": 1280, "height": 900},
            reduced_motion="reduce",
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        context.on("console", on_console)
        context.on("weberror", lambda error: browser_errors.append(f"page error: {error.error}"))
        context.on("response", on_response)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not browser_errors, "The browser reported errors:\n" + "\n".join(browser_errors)


@pytest.fixture
def page(new_context: Callable[[], BrowserContext]) -> Page:
    """A page in its own, fresh browser context."""
    return new_context().new_page()
