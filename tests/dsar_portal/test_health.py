"""/healthz tells a monitor which service is down (503), and a failing page still tells a person who to write to."""

import socket
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError, connection
from django.urls import path

from dsar_portal import urls as portal_urls
from dsar_portal.settings import redis_cache
from organisation import views as organisation_views
from organisation.selectors import organisation_get

pytestmark = pytest.mark.django_db


def _boom(request):
    raise RuntimeError("a bug")


# This module is the URLconf of the error-page tests: the portal's own URLs and error page, and one view that fails.
urlpatterns = [path("boom/", _boom), *portal_urls.urlpatterns]
handler500 = getattr(portal_urls, "handler500", None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_healthz_reports_each_service_and_200_when_all_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["cache"] == "ok"
    assert body["broker"] in {"ok", "not configured"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_says_503_when_the_database_is_unreachable(client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("could not connect to server")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["database"] == "unavailable"
    # No driver message, host or user in the answer.
    assert b"connect" not in response.content


def test_healthz_says_503_when_the_cache_is_down(client, settings):
    dead = f"redis://:hunter2@127.0.0.1:{_free_port()}/0"
    settings.CACHES = {
        "default": redis_cache(dead),
        "template_fragments": django_settings.CACHES["template_fragments"],
    }

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["cache"] == "unavailable"
    assert response.json()["database"] == "ok"
    assert b"hunter2" not in response.content and b"127.0.0.1" not in response.content


@pytest.fixture
def failing_page(client, settings):
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    return client


def test_a_failing_page_shows_the_styled_error_page_with_the_organisations_contact_details(failing_page):
    organisation = organisation_get()
    organisation.contact_email = "rights@example.net"
    organisation.save()

    response = failing_page.get("/boom/")

    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert "rights@example.net" in page
    assert organisation.dpo_email in page
    assert "/static/css/portal.css" in page
    # Nothing inline that the Content-Security-Policy would block.
    assert "<script" not in page and "style=" not in page and "<style" not in page


def test_the_error_page_falls_back_to_the_configured_contact_details_when_the_database_is_down(failing_page):
    down = OperationalError("the database is down")
    with mock.patch.object(organisation_views, "organisation_get", side_effect=down):
        response = failing_page.get("/boom/")

    assert response.status_code == 500
    page = response.content.decode()
    assert django_settings.DSAR_ORGANISATION["contact_email"] in page
    assert django_settings.DSAR_ORGANISATION["name"] in page
