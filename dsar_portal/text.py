"""Plain text from people: what a form accepts in fields that reach pages, staff screens and e-mails.

Names and free text typed on the portal are shown to staff and, for names, written into e-mails the organisation
sends, sometimes to an address nobody has confirmed yet (a request's confirmation code, an agent's question to the
person they act for). So they must read as what they are: control characters and line breaks in a one-line field
could start a new paragraph of someone else's making, Unicode bidirectional controls could turn
``moc.elpmaxe//:sptth`` into a link that reads the other way, and a name must not carry a link at all. One set of
validators here, used by every public form, so the rules are the same everywhere.
"""

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The longest name we put in an e-mail to someone who did not write it (an agent's name and organisation, the
# name of the person they act for).
NAME_MAX_LENGTH = 100

# Unicode bidirectional formatting: embeddings and overrides (U+202A-U+202E), isolates (U+2066-U+2069), the
# left-to-right and right-to-left marks (U+200E, U+200F) and the Arabic letter mark (U+061C).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# Line and paragraph separators end a line as surely as "\n" does.
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
MULTI_LINE_ALLOWED = frozenset("\n\r\t\u2028\u2029")

# What makes text a link in a mail client or a browser: a scheme, an @ between two words (an e-mail address),
# or a dot between a word and two or more letters (a host name such as example.com or www.x). Initials such as
# "J.R.R. Tolkien" pass; "St.John" must be written "St. John". IDNA also reads the ideographic and full-width
# full stops as dots.
_DOT = "[.\u3002\uff0e\uff61]"
_LINK_LIKE = re.compile(
    r"[a-z][a-z0-9+.-]*:/"  # http://, file:/
    r"|\b(?:https?|ftp|mailto|tel|sms|data|javascript|file|callto|skype):"
    r"|\w@\w"
    rf"|\w{_DOT}[^\W\d_]{{2,}}"
    rf"|\d{_DOT}\d+{_DOT}\d+{_DOT}\d",
    re.IGNORECASE,
)


def _forbidden(value: str, *, allowed: frozenset[str]) -> bool:
    return any(
        char in BIDI_CONTROLS or (unicodedata.category(char) in {"Cc", "Zl", "Zp"} and char not in allowed)
        for char in value
    )


def validate_single_line(value: str) -> None:
    """Refuse line breaks, control characters and bidirectional controls in a one-line field."""
    if _forbidden(value, allowed=frozenset()):
        raise ValidationError(
            _("Please use plain text on one line: no line breaks, control or text-direction characters."),
            code="single_line",
        )


def validate_multi_line(value: str) -> None:
    """Refuse control and bidirectional characters in free text; line breaks and tabs are fine."""
    if _forbidden(value, allowed=MULTI_LINE_ALLOWED):
        raise ValidationError(
            _("Please use plain text: no control or text-direction characters."),
            code="plain_text",
        )


def looks_like_link(value: str) -> bool:
    """True if a mail client or browser could turn part of ``value`` into a link."""
    return bool(_LINK_LIKE.search(unicodedata.normalize("NFKC", value)))


def validate_name(value: str) -> None:
    """A person's or an organisation's name: one line of plain text with no link in it."""
    validate_single_line(value)
    if looks_like_link(value):
        raise ValidationError(
            _(
                "A name cannot contain a web or e-mail address. If it has a full stop between letters, "
                "put a space after the full stop."
            ),
            code="name_link",
        )


def name_for_email(value: str, *, max_length: int = NAME_MAX_LENGTH) -> str:
    """A stored name made safe to quote in an e-mail, whatever was accepted when it was stored.

    Forms already refuse what this removes; this is the second line for names stored before they did: the
    forbidden characters go, whitespace runs become one space, anything a mail client would link gets a space
    after its dots, colons and @, and the result is cut to ``max_length``.
    """
    kept = []
    for char in value:
        if char in LINE_BREAKS or char == "\t":
            kept.append(" ")
        elif char not in BIDI_CONTROLS and unicodedata.category(char) != "Cc":
            kept.append(char)
    cleaned = "".join(kept)
    cleaned = " ".join(cleaned.split())
    if looks_like_link(cleaned):
        cleaned = re.sub(rf"({_DOT}|:|@)(?=\S)", r"\1 ", unicodedata.normalize("NFKC", cleaned))
    if len(cleaned) > max_length:
        cleaned = cleaned[: max_length - 1].rstrip() + "…"
    return cleaned


class PlainTextFormMixin:
    """Every text field of the form refuses what plain text has no use for.

    One-line inputs refuse line breaks, text areas allow them; passwords, e-mail addresses (Django's validator
    already refuses these characters there) and choices are left alone.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if type(field) is not forms.CharField or isinstance(field.widget, forms.PasswordInput):
                continue
            if validate_name in field.validators:  # checks one line itself, and says so once
                continue
            multi_line = isinstance(field.widget, forms.Textarea)
            field.validators.append(validate_multi_line if multi_line else validate_single_line)
