"""Keyboard users: a skip link first, and a focus ring they can always see."""

from playwright.sync_api import Page, expect

FOCUSED_OUTLINE = """() => {
    const element = document.activeElement;
    const style = getComputedStyle(element);
    return {tag: element.tagName, text: element.textContent.trim(), style: style.outlineStyle,
            width: parseFloat(style.outlineWidth)};
}"""


def assert_focus_visible(page: Page) -> dict:
    focused = page.evaluate(FOCUSED_OUTLINE)
    assert focused["style"] != "none" and focused["width"] >= 2, f"no visible focus outline on {focused}"
    return focused


def test_skip_link_is_first_and_moves_focus_to_main(page: Page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    assert_focus_visible(page)

    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    # The next Tab continues inside main, past the header's links.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Ask for your data")).to_be_focused()


def test_focus_is_visible_on_links_and_buttons(page: Page):
    page.goto("/status/lost-link/")
    seen = {}
    for _ in range(12):
        page.keyboard.press("Tab")
        focused = assert_focus_visible(page)
        seen[focused["tag"]] = focused["text"]
        if focused["tag"] == "BUTTON":
            break
    # The header's navigation links (Bootstrap's .nav-link), the form fields and the button were all reached.
    assert {"A", "INPUT", "BUTTON"} <= seen.keys(), seen
    assert seen["BUTTON"] == "Send me a link"
