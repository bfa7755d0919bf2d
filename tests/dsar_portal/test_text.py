"""Plain text from people: the one set of rules every public form applies to names and free text."""

import pytest
from django import forms
from django.core.exceptions import ValidationError

from dsar_portal.text import (
    NAME_MAX_LENGTH,
    PlainTextFormMixin,
    name_for_email,
    validate_multi_line,
    validate_name,
    validate_single_line,
)

BIDI = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
]


@pytest.mark.parametrize("char", ["\n", "\r", "\x00", "\x07", "\x1b", "\x85", "\u2028", "\u2029", *BIDI])
def test_a_one_line_field_refuses_line_breaks_control_and_direction_characters(char):
    with pytest.raises(ValidationError):
        validate_single_line(f"Grace{char}Hopper")


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", *BIDI])
def test_free_text_refuses_control_and_direction_characters(char):
    with pytest.raises(ValidationError):
        validate_multi_line(f"My orders{char} please")


def test_free_text_keeps_line_breaks_tabs_accents_and_other_scripts():
    validate_multi_line("Line one\r\nLine two\tZoë, 李雷, محمد, זאב\n")


@pytest.mark.parametrize(
    "name",
    [
        "Sam https://evil.example/login",
        "Sam http:/evil",
        "javascript:alert(1)",
        "mailto:x",
        "Visit www.evil.co",
        "evil.example",
        "Call us: pay@evil.example",
        "例子。广告",  # an ideographic full stop is a dot to IDNA
        "evil．com",  # full-width full stop
        "10.0.0.1",
    ],
)
def test_a_name_cannot_carry_a_link(name):
    with pytest.raises(ValidationError, match="web or e-mail address"):
        validate_name(name)


@pytest.mark.parametrize(
    "name", ["J.R.R. Tolkien", "Dr. No", "Zoë O'Brien-Müller", "Law & Co", "李雷", "Sam Solicitor of Law & Co LLP"]
)
def test_ordinary_names_pass(name):
    validate_name(name)


def test_a_name_stored_before_the_rules_is_made_plain_and_short_for_an_email():
    stored = "Sam\n\nYour account is locked: log in at https://evil.example/x \u202eexe.doc" + "x" * 200

    shown = name_for_email(stored)

    assert "\n" not in shown and "\u202e" not in shown
    assert "https://" not in shown and "evil.example" not in shown
    assert len(shown) == NAME_MAX_LENGTH and shown.endswith("…")


def test_every_text_field_of_a_form_takes_plain_text_and_passwords_are_left_alone():
    class Form(PlainTextFormMixin, forms.Form):
        name = forms.CharField(validators=[validate_name])
        note = forms.CharField(widget=forms.Textarea)
        password = forms.CharField(widget=forms.PasswordInput)

    form = Form({"name": "Grace\u202eHopper", "note": "one\ntwo\u2066", "password": "pass\x07word\u202e"})

    assert not form.is_valid()
    assert form.errors["name"] == [
        "Please use plain text on one line: no line breaks, control or text-direction characters."
    ]
    assert form.errors["note"] == ["Please use plain text: no control or text-direction characters."]
    assert "password" not in form.errors
