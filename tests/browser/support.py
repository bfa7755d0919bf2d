"""Helpers for the browser tests: axe-core, e-mails, screenshots."""

import os
import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core import mail
from playwright.sync_api import Page

# WCAG 2.0, 2.1 and 2.2 at levels A and AA. (axe has no wcag22a tag: the 2.2
# level A criteria it can test carry the older tags.) Best practices are not required.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Set DSAR_BROWSER_SCREENSHOTS=/some/dir to keep screenshots of key pages for a visual check.
SCREENSHOT_DIR = os.environ.get("DSAR_BROWSER_SCREENSHOTS", "")

_axe = Axe()


def format_axe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation['help']}")
        lines.append(f"  {violation.get('helpUrl', '')}")
        for node in violation["nodes"]:
            lines.append(f"    at {', '.join(str(target) for target in node['target'])}")
            lines.append(f"       {node['html'][:300]}")
            lines.extend(f"       {line}" for line in (node.get("failureSummary") or "").splitlines())
    return "\n".join(lines)


def assert_accessible(page: Page, where: str = "") -> None:
    """Run axe-core on the page as it is now; fail on any WCAG 2.x A or AA violation."""
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    violations = _axe.run(page, options=options).response["violations"]
    assert not violations, (
        f"{len(violations)} accessibility violation(s) on {where or page.url}:\n{format_axe_violations(violations)}"
    )


def screenshot(page: Page, name: str) -> None:
    """Keep a full-page screenshot when DSAR_BROWSER_SCREENSHOTS names a folder."""
    if SCREENSHOT_DIR:
        page.screenshot(path=str(Path(SCREENSHOT_DIR) / f"{name}.png"), full_page=True)


# --- E-mails the portal sent ----------------------------------------------------------------

CODE_RE = re.compile(r"^[ \t]*(\d{6})[ \t]*$", re.MULTILINE)


def emails_to(address: str) -> list:
    return [message for message in mail.outbox if address in message.to]


def confirmation_code(message) -> str:
    """The 6-digit code, which the e-mail puts on a line of its own."""
    match = CODE_RE.search(message.body)
    assert match, f"No 6-digit code on a line of its own in the e-mail:\n{message.body}"
    return match.group(1)


def status_link_path(message) -> str:
    """The path of the private status link in an e-mail.

    The link's host is settings.DSAR_PUBLIC_URL, not the live server's, so
    tests open the path on the live server.
    """
    match = re.search(re.escape(settings.DSAR_PUBLIC_URL) + r"(/status/link/[A-Za-z0-9_-]+/)", message.body)
    assert match, f"No status link in the e-mail:\n{message.body}"
    return match.group(1)


# --- Doing what a person does ---------------------------------------------------------------


def submit_access_request(page: Page, *, name: str = "Ada Lovelace", email: str = "ada@example.com") -> str:
    """File the simplest access request through the form; returns the reference the status page shows."""
    page.goto("/request/access/")
    page.get_by_label("Your full name").fill(name)
    page.get_by_label("Your e-mail address").fill(email)
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url("**/status/DSAR-*/")
    return page.locator("#reference").inner_text().strip()
