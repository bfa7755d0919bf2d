"""Every word people read in the templates goes through translation; e-mails keep link and code on lines of their own.

No browser needed: these read and render the templates the browser tests see.
"""

import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template.loader import render_to_string

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
TEMPLATES = sorted(p for p in TEMPLATES_DIR.rglob("*") if p.suffix in {".html", ".txt"})
REQUEST_EMAILS = sorted(p.name for p in (TEMPLATES_DIR / "requests_app" / "emails").glob("*.txt"))

_COMMENTS = re.compile(r"{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.S)
_BLOCK_I18N = re.compile(r"{%\s*blocktrans(?:late)?\b.*?%}.*?{%\s*endblocktrans(?:late)?\s*%}", re.S)
_TAG_I18N = re.compile(r"{%\s*trans(?:late)?\s.*?%}", re.S)
_TEMPLATE_SYNTAX = re.compile(r"{%.*?%}|{{.*?}}", re.S)
_TEXT_ATTRIBUTE = re.compile(r"""\b(alt|title|placeholder|aria-label|aria-description)\s*=\s*(["'])(.*?)\2""", re.S)
_HTML_MARKUP = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1>|<[^>]*>", re.S | re.I)
_ENTITY = re.compile(r"&[#a-zA-Z0-9]+;")
_WORD = re.compile(r"[^\W\d_]{2,}")


def unmarked_text(source: str, *, html: bool) -> list[str]:
    """Words left once translated text, template syntax (and HTML markup) are taken out."""
    text = _TEMPLATE_SYNTAX.sub(" ", _TAG_I18N.sub(" ", _BLOCK_I18N.sub(" ", _COMMENTS.sub(" ", source))))
    found = []
    if html:
        found += [m.group(0) for m in _TEXT_ATTRIBUTE.finditer(text) if _WORD.search(m.group(3))]
        text = _ENTITY.sub(" ", _HTML_MARKUP.sub(" ", text))
    found += [line.strip() for line in text.splitlines() if _WORD.search(line)]
    return found


def test_the_checker_finds_unmarked_text():
    assert unmarked_text("{% autoescape off %}Dear {{ request.requester_name }},", html=False) == ["Dear  ,"]
    assert unmarked_text('<a title="Home">{% translate "Start" %}</a><p>Hi &amp; bye</p>', html=True) == [
        'title="Home"',
        "Hi   bye",
    ]
    translated = "{% blocktranslate trimmed with n=a.b %}\nHello {{ n }}\n{% endblocktranslate %}"
    assert not unmarked_text(translated, html=False)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATES_DIR)))
def test_all_text_is_marked_for_translation(path: Path):
    found = unmarked_text(path.read_text(encoding="utf-8"), html=path.suffix == ".html")
    assert not found, f"Text not marked for translation in {path.relative_to(TEMPLATES_DIR)}: {found}"


def _email_context(**overrides) -> dict:
    request = SimpleNamespace(
        requester_name="Zoë O'Brien & Co <x>",
        reference="DSAR-AAAA-BBBB-CCCC-DDDD",
        due_on=date(2026, 12, 29),
        get_right_display="Access to your data",
    )
    organisation = SimpleNamespace(
        name="Example Organisation Ltd",
        contact_email="privacy@example.org",
        supervisory_authority_name="Information Commissioner's Office",
        supervisory_authority_url="https://ico.org.uk/make-a-complaint/",
        supervisory_authority_address="Wycliffe House, Water Lane, Wilmslow, Cheshire, SK9 5AF",
    )
    context = {
        "request": request,
        "organisation": organisation,
        "status_url": "[STATUS-URL]",
        "code": "[CODE]",
        "code_ttl_minutes": 30,
        "question": "Which account?",
        "reasons": "Many systems to search.",
        "ground": "An exemption applies",
        "outcome": "Fulfilled",
        "summary": "",
        "explanation": "Please send a recent utility bill.",
        "closes_on": date(2027, 1, 31),
        "amount": "10.00",
        "currency": "GBP",
        "fee_basis": "A further copy of data we have already given you",
        # The Art. 18(3) notice before a restriction is lifted (changes.restrictions).
        "scope": "Your order history",
        "lift_on": date(2027, 2, 1),
        "reason": "Your legal claim was settled.",
    }
    context.update(overrides)
    return context


# A message staff wrote (from a DPO's template) starts as they wrote it: its greeting is in their text.
WRITTEN_BY_STAFF = "staff_message.txt"


@pytest.mark.parametrize("name", [n for n in REQUEST_EMAILS if not n.startswith("_") and n != WRITTEN_BY_STAFF])
def test_request_email_renders_with_link_on_its_own_line(name: str):
    body = render_to_string(f"requests_app/emails/{name}", _email_context())
    lines = body.splitlines()
    assert "[STATUS-URL]" in lines, "the status link must be on a line of its own"
    assert lines[0] == "Dear Zoë O'Brien & Co <x>,", "plain text: nothing is HTML-escaped"
    assert "{" not in body and "  " not in body.replace("    [CODE]", ""), body
    assert "\n\n\n" not in body.strip(), body


def test_a_message_staff_wrote_is_sent_as_typed_with_the_link_on_its_own_line():
    text = "Dear Zoë O'Brien & Co <x>,\n\nPlease call us."
    body = render_to_string(f"requests_app/emails/{WRITTEN_BY_STAFF}", _email_context(text=text))
    lines = body.splitlines()
    assert body.startswith(text), "plain text: nothing is HTML-escaped"
    assert "[STATUS-URL]" in lines, "the status link must be on a line of its own"
    assert "\n\n\n" not in body.strip(), body


@pytest.mark.parametrize("name", ["email_confirmation.txt", "unconfirmed_reminder.txt"])
def test_code_emails_put_the_code_on_its_own_line(name: str):
    body = render_to_string(f"requests_app/emails/{name}", _email_context())
    assert "    [CODE]" in body.splitlines()
    assert "works for 30 minutes." in body
    assert "works for 1 minute." in render_to_string(f"requests_app/emails/{name}", _email_context(code_ttl_minutes=1))
