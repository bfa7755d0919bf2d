"""The layout works on a phone: nothing wider than the screen."""

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("path", ["/", "/request/access/", "/request/portability/", "/status/lost-link/"])
def test_pages_fit_a_phone_screen_without_sideways_scrolling(page: Page, path: str):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(path)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path} is {overflow}px wider than a 360px screen"
    assert page.get_by_role("link", name="Skip to main content").count() == 1
