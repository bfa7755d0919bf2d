"""The public complaint form: anyone can complain, mistakes keep what they typed, floods are slowed."""

import pytest
from django.core import mail
from django.urls import reverse

from complaints.models import Complaint
from tests.factories import submitted_request

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/complaints/new/"


def _post(client, **overrides):
    data = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "text": "You sent my data to someone else.",
        "request_reference": "",
    }
    data.update(overrides)
    return client.post(URL, data)


def test_a_person_complains_and_sees_their_reference(client):
    assert client.get(URL).status_code == 200

    response = _post(client, text="You sent my\ndata to someone else.")

    assert response.status_code == 302
    assert response["Location"] == reverse("complaints:complaint_received")
    complaint = Complaint.objects.get()
    page = client.get(response["Location"])
    assert complaint.reference in page.content.decode()
    assert complaint.text == "You sent my\ndata to someone else."
    [email] = mail.outbox
    assert complaint.reference in email.body


def test_the_acknowledgement_page_shows_nothing_to_a_browser_that_made_no_complaint(client):
    response = client.get(reverse("complaints:complaint_received"))

    assert response.status_code == 302
    assert response["Location"] == URL


def test_a_form_with_mistakes_keeps_what_was_typed_and_says_what_to_fix(client):
    response = _post(client, email="not an address", name="Ada\u202eLovelace", text="Keep this text please.")

    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page
    assert "Keep this text please." in page
    assert not Complaint.objects.exists()


def test_a_name_that_is_a_link_is_refused(client):
    response = _post(client, name="visit evil.example.com")

    assert response.status_code == 400
    assert not Complaint.objects.exists()


def test_the_page_says_the_same_whether_or_not_the_reference_belongs_to_the_complainant(client):
    request = submitted_request(email="ada@example.com")
    mail.outbox.clear()

    theirs = _post(client, request_reference=request.reference)
    someone_elses = _post(client, email="mallory@example.com", request_reference=request.reference)
    unknown = _post(client, request_reference="DSAR-0000-0000-0000-0000")

    assert theirs["Location"] == someone_elses["Location"] == unknown["Location"]
    [linked] = Complaint.objects.filter(request=request)
    assert linked.complainant_email == "ada@example.com"
    assert Complaint.objects.filter(request=None).count() == 2


def test_many_complaints_from_one_address_are_slowed_down(client, settings):
    settings.DSAR_RATE_LIMITS = {**settings.DSAR_RATE_LIMITS, "complaint_per_email": (2, 86400)}

    assert _post(client).status_code == 302
    assert _post(client).status_code == 302
    response = _post(client, text="A third complaint today.")

    assert response.status_code == 429
    assert "A third complaint today." in response.content.decode()
    assert Complaint.objects.count() == 2
