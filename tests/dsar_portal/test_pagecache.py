"""Public pages rendered once per process: every visitor still gets their own working form."""

import re

import pytest
from django.test import Client
from django.test.signals import template_rendered
from django.urls import reverse

from organisation.selectors import organisation_get
from requests_app.models import DataSubjectRequest
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

FORM = reverse("requests_app:request_create", args=["access"])
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _visit(path: str = FORM) -> tuple[Client, str]:
    """A new visitor (a browser with no cookies, CSRF checked as in production) opens ``path``."""
    browser = Client(enforce_csrf_checks=True)
    response = browser.get(path)
    assert response.status_code == 200
    return browser, response.content.decode()


def _templates_rendered_by(action) -> list[str]:
    names = []

    def record(sender, template, **kwargs):
        names.append(template.name)

    template_rendered.connect(record)
    try:
        action()
    finally:
        template_rendered.disconnect(record)
    return names


def test_the_second_visitor_gets_the_form_without_it_being_rendered_again():
    _visit()
    assert _templates_rendered_by(_visit) == []


def test_each_visitor_gets_their_own_token_and_can_file_a_request():
    first, first_page = _visit()
    second, second_page = _visit()
    first_token, second_token = TOKEN.search(first_page)[1], TOKEN.search(second_page)[1]
    assert first_token != second_token
    assert "csrftoken" in second.cookies

    data = {
        "requester_role": "data_subject",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "access_scope": "all",
        "access_format": "report",
        "csrfmiddlewaretoken": second_token,
    }
    response = second.post(FORM, data)
    assert response.status_code == 302
    assert DataSubjectRequest.objects.count() == 1


def test_another_visitors_token_is_refused():
    _first, first_page = _visit()
    second, _ = _visit()
    data = {"requester_role": "data_subject", "name": "Ada", "email": "ada@example.com"}
    response = second.post(FORM, {**data, "csrfmiddlewaretoken": TOKEN.search(first_page)[1]})
    assert response.status_code == 403


def test_an_edit_to_the_organisation_shows_at_once():
    _visit("/")
    organisation = organisation_get()
    organisation.name = "Renamed Trading Ltd"
    organisation.save()
    _, page = _visit("/")
    assert "Renamed Trading Ltd" in page


def test_a_signed_in_member_of_staff_sees_their_own_page_and_visitors_never_do():
    _visit("/")
    staff = Client()
    staff.force_login(StaffUserFactory())
    staff_page = staff.get("/").content.decode()
    assert reverse("identity:verification_queue") in staff_page

    _, visitor_page = _visit("/")
    assert reverse("identity:verification_queue") not in visitor_page


def test_a_waiting_message_is_shown_on_the_next_page_opened():
    _visit(FORM)
    browser = Client()
    request_page = browser.post(
        FORM,
        {
            "requester_role": "data_subject",
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "access_scope": "all",
            "access_format": "report",
        },
    )["Location"]
    browser.post(request_page.rstrip("/") + "/withdraw/", {"confirm": "on"})

    page = browser.get(FORM).content.decode()
    assert "Your request has been withdrawn." in page
    # ... and only once, and never to anyone else.
    assert "Your request has been withdrawn." not in browser.get(FORM).content.decode()
    assert "Your request has been withdrawn." not in _visit(FORM)[1]


def test_a_form_sent_back_with_errors_is_never_served_to_the_next_visitor():
    browser = Client()
    browser.post(FORM, {"requester_role": "data_subject", "name": "Typed By Someone", "email": "not-an-email"})
    _, page = _visit()
    assert "Typed By Someone" not in page
    assert "There is a problem" not in page
