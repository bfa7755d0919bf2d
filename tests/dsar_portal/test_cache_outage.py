"""With the Redis cache unreachable, people can still file, confirm their e-mail, find their link and sign in, and
staff stay signed in: the rate limits fail open with a warning and sessions live in the database."""

import logging
import re
import socket

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from dsar_portal.settings import redis_cache
from requests_app.models import DataSubjectRequest
from tests.factories import AGENT_PASSWORD, AgentFactory, StaffUserFactory

# Real commits: the confirmation e-mail is sent after commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

FORM = {
    "requester_role": "data_subject",
    "name": "Grace Hopper",
    "email": "grace@example.com",
    "access_scope": "all",
    "access_format": "report",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    """The production cache configuration, pointing at a Redis that is not there (connection refused)."""
    settings.CACHES = {
        "default": redis_cache(f"redis://127.0.0.1:{_free_port()}/0"),
        "template_fragments": django_settings.CACHES["template_fragments"],
    }


def _code(message) -> str:
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def test_a_person_files_and_confirms_their_email_while_redis_is_down(client, redis_down, mailoutbox, caplog):
    """The submission is stored and the person sees their status page; the code from the e-mail confirms it."""
    with caplog.at_level(logging.WARNING, logger="dsar_portal.ratelimit"):
        response = client.post(reverse("requests_app:request_create", args=["access"]), FORM)

    assert response.status_code == 302
    request = DataSubjectRequest.objects.get()
    assert response["Location"] == reverse("requests_app:status_detail", args=[request.reference])
    assert client.get(response["Location"]).status_code == 200

    # The limiter said why it let the hit through, with no address and no e-mail hash.
    warnings = [record.getMessage() for record in caplog.records if record.name == "dsar_portal.ratelimit"]
    assert warnings == [
        "rate limits submit_per_client,submit_per_email not counted: cache unavailable (ConnectionError); allowed"
    ]
    assert "127.0.0.1" not in warnings[0] and "grace" not in warnings[0]

    confirmed = client.post(
        reverse("identity:status_confirm_email", args=[request.reference]), {"code": _code(mailoutbox[-1])}
    )
    assert confirmed.status_code == 302
    request.refresh_from_db()
    assert request.email_confirmed_at is not None


def test_lost_link_and_agent_sign_in_work_while_redis_is_down(client, redis_down):
    """Asking for a new link and an agent's sign-in both reach their next page rather than an error."""
    response = client.post(
        reverse("requests_app:status_lost_link"), {"reference": "DSAR-0000-0000", "email": "someone@example.com"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("requests_app:status_lost_link_sent")

    agent = AgentFactory()
    response = client.post(reverse("agents:sign_in"), {"email": agent.email, "password": AGENT_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("agents:second_factor")
    # The half-done sign-in is held in the session (in the database), so the next page knows the agent.
    assert client.get(reverse("agents:second_factor")).status_code == 200


def test_staff_stay_signed_in_while_redis_is_down(client, redis_down):
    """Sessions are kept in the database (the cache only in front of it): a cache outage signs nobody out."""
    assert django_settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    staff = StaffUserFactory(is_superuser=True)
    client.force_login(staff)

    response = client.get(reverse("casework:queue"))

    assert response.status_code == 200
