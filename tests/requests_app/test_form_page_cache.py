"""The blank request form is rendered once per process; every visitor still gets their own page and token."""

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.test.signals import template_rendered
from django.urls import reverse

from organisation.selectors import organisation_get
from requests_app.models import DataSubjectRequest

pytestmark = pytest.mark.django_db

FORM = reverse("requests_app:request_create", args=["access"])
LOST_LINK = reverse("requests_app:status_lost_link")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FIELDS_TEMPLATE = "requests_app/_request_fields.html"
VALID = {
    "requester_role": "data_subject",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "access_scope": "all",
    "access_format": "report",
}


def _visit(path: str = FORM, **environ: str) -> tuple[Client, str]:
    """A new visitor (a browser with no cookies, CSRF checked as in production) opens ``path``."""
    browser = Client(enforce_csrf_checks=True)
    response = browser.get(path, **environ)
    assert response.status_code == 200
    return browser, response.content.decode()


def _templates_rendered_by(action: Callable[[], object]) -> list[str]:
    names: list[str] = []

    def record(sender, template, **kwargs) -> None:
        names.append(template.name)

    template_rendered.connect(record)
    try:
        action()
    finally:
        template_rendered.disconnect(record)
    return names


def test_the_next_visitor_gets_the_blank_form_without_its_fields_being_rendered_again():
    _visit()
    rendered = _templates_rendered_by(_visit)
    assert "requests_app/request_form.html" in rendered
    assert FIELDS_TEMPLATE not in rendered


def test_a_visitor_after_the_first_files_a_request_with_their_own_token():
    first, first_page = _visit()
    second, second_page = _visit()
    assert TOKEN.search(first_page)[1] != TOKEN.search(second_page)[1]

    response = second.post(FORM, {**VALID, "csrfmiddlewaretoken": TOKEN.search(second_page)[1]})

    assert response.status_code == 302
    assert DataSubjectRequest.objects.count() == 1


def test_a_visitor_after_the_first_asks_for_a_lost_link_with_their_own_token():
    _visit(LOST_LINK)
    second, page = _visit(LOST_LINK)
    response = second.post(
        LOST_LINK,
        {
            "reference": "DSAR-0000-0000-0000-0000",
            "email": "ada@example.com",
            "csrfmiddlewaretoken": TOKEN.search(page)[1],
        },
    )
    assert response.status_code == 302


def test_a_form_with_errors_shows_what_the_visitor_typed_even_after_a_blank_form_was_served():
    _visit()
    browser = Client()
    response = browser.post(FORM, {"requester_role": "data_subject", "name": "Typed By Ada", "email": "not-an-email"})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'value="Typed By Ada"' in page
    assert 'value="not-an-email"' in page


def test_a_form_with_errors_is_never_served_to_the_next_visitor():
    Client().post(FORM, {"requester_role": "data_subject", "name": "Typed By Ada", "email": "not-an-email"})
    _, page = _visit()
    assert "Typed By Ada" not in page
    assert "not-an-email" not in page
    assert "There is a problem" not in page


def test_a_lost_link_form_with_errors_is_never_served_to_the_next_visitor():
    _visit(LOST_LINK)
    answered = Client().post(LOST_LINK, {"reference": "DSAR-TYPED-BY-ADA", "email": ""})
    assert 'value="DSAR-TYPED-BY-ADA"' in answered.content.decode()
    _, page = _visit(LOST_LINK)
    assert "DSAR-TYPED-BY-ADA" not in page


def test_an_organisation_name_change_shows_at_once_on_the_form_page():
    _visit()
    organisation = organisation_get()
    organisation.name = "Renamed Trading Ltd"
    organisation.save()
    _, page = _visit()
    assert "Renamed Trading Ltd" in page


def test_an_edit_to_the_organisation_renders_the_form_afresh():
    _visit()
    organisation = organisation_get()
    organisation.dpo_name = "New Officer"
    organisation.save()
    assert FIELDS_TEMPLATE in _templates_rendered_by(_visit)


def test_a_visitor_reading_another_language_never_gets_the_form_rendered_for_the_first(settings):
    settings.LANGUAGES = [("en", "English"), ("cy", "Welsh")]
    _visit(HTTP_ACCEPT_LANGUAGE="en")
    assert FIELDS_TEMPLATE in _templates_rendered_by(lambda: _visit(HTTP_ACCEPT_LANGUAGE="cy"))
