"""Agents' codes (e-mailed or from an authenticator app) take the digits 0-9 only."""

import pytest

from agents.forms import CodeForm


@pytest.mark.parametrize("typed", ["١٢٣٤٥٦", "۱۲۳۴۵۶", "１２３４５６", "¹²³⁴⁵⁶", "12345６"])
def test_digits_other_than_0_to_9_are_refused_with_a_clear_message(typed):
    form = CodeForm(data={"code": typed})

    assert not form.is_valid()
    assert form.errors["code"] == ["Type the code with the digits 0 to 9."]


def test_an_ascii_code_with_spaces_is_accepted():
    form = CodeForm(data={"code": "123 456"})

    assert form.is_valid()
    assert form.cleaned_data["code"] == "123456"
