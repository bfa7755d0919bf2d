"""Rows that refer to each other, stored in one go: all of them or none."""

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone

from dsar_portal.db import insert_together
from organisation.selectors import organisation_get
from requests_app import services
from requests_app.models import DataSubjectRequest, DueDateChange, EventKind, Message, RequestEvent
from tests.factories import submission

pytestmark = pytest.mark.django_db(transaction=True)


def _new_request(**overrides):
    """A request filed from the public form, with its submission event and first due date, not yet stored."""
    return services._request_new(
        submission=submission(**overrides), received_at=timezone.now(), organisation=organisation_get()
    )


def test_a_request_its_event_due_date_and_message_are_stored_and_linked():
    request, event, first_due_date = _new_request(name="Ada Lovelace", description="All my orders")
    message = Message(request=request, kind="email_confirmation", subject="Confirm", body="Dear Ada Lovelace")

    insert_together(request, event, first_due_date, message)

    stored = DataSubjectRequest.objects.get(pk=request.pk)
    assert stored.requester_name == "Ada Lovelace"
    assert stored.description == "All my orders"
    assert stored.created_at is not None
    assert [e.kind for e in stored.events.all()] == [EventKind.SUBMITTED]
    change = DueDateChange.objects.get(request=stored)
    assert change.event_id == event.pk
    assert change.due_on == stored.due_on
    assert stored.messages.get().body == "Dear Ada Lovelace"
    # The objects in hand are the stored rows now.
    assert event.request_id == request.pk and message.request_id == request.pk
    assert not request._state.adding


def test_personal_data_is_encrypted_in_the_database():
    request, event, first_due_date = _new_request(name="Ada Lovelace")
    insert_together(request, event, first_due_date)

    with connection.cursor() as cursor:
        cursor.execute("SELECT requester_name FROM requests_app_datasubjectrequest WHERE id = %s", [request.pk])
        [stored] = cursor.fetchone()
    assert "Ada" not in stored


def test_when_one_row_is_refused_none_is_stored():
    first, *rest = _new_request()
    insert_together(first, *rest)
    duplicate, event, first_due_date = _new_request()
    duplicate.reference = first.reference  # references are unique

    with pytest.raises(IntegrityError):
        insert_together(duplicate, event, first_due_date)

    assert DataSubjectRequest.objects.count() == 1
    assert RequestEvent.objects.count() == 1
    assert DueDateChange.objects.count() == 1


def test_a_row_cannot_refer_to_one_that_is_neither_stored_nor_stored_before_it():
    request, event, _ = _new_request()
    with pytest.raises(ValueError):
        insert_together(event, request)
