"""Signing out ends this browser's access to the agent's status pages on the server, not only in the browser."""

import pytest
from django.test import Client
from django.urls import reverse

from requests_app import status_access
from requests_app.models import DataSubjectRequest, StatusGrant
from tests.agents.test_agents import _agent_client, _file

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_status_cookie_copied_before_the_agent_signs_out_no_longer_opens_the_case(client, mailoutbox):
    _agent_client(client, mailoutbox)
    _file(client)
    request = DataSubjectRequest.objects.get()
    status_url = client.get(reverse("agents:request_open", args=[request.reference]))["Location"]
    copy = Client()
    copy.cookies[status_access.COOKIE] = client.cookies[status_access.COOKIE].value
    assert copy.get(status_url).status_code == 200

    client.post(reverse("agents:sign_out"))

    assert copy.get(status_url).status_code == 404
    assert client.get(status_url).status_code == 404
    assert not StatusGrant.objects.filter(request=request, revoked_at=None).exists()
