"""The request core's spine: races end in a message, the domain event, e-mail delivery and status links.

These check what issue 8 promised a person would notice: a requester and a member of staff acting at the same
moment each get a message saying what happened (never an error page), an e-mail is never sent from inside a
database transaction nor sent twice with different codes, and old status links stop working.
"""

import html
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dsar_portal.onetime import CodeCheck
from requests_app import correspondence, services
from requests_app.audit import STAFF
from requests_app.confirmation import email_code_check
from requests_app.models import (
    DataSubjectRequest,
    EventKind,
    Message,
    MessageKind,
    Outcome,
    RefusalGround,
    Status,
    StatusLink,
)
from requests_app.signals import request_status_changed
from requests_app.workflow import transition
from tests.factories import (
    StaffUserFactory,
    code_in,
    in_progress_objection,
    in_progress_request,
    status_link_path_in,
    submitted_request,
)

# Real commits: e-mails go after commit, and the domain event is sent on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def _emails_for(request: DataSubjectRequest) -> list:
    return [m for m in mail.outbox if request.reference in m.subject]


def _staff_completes(request_id: int) -> None:
    services.request_complete(
        request=DataSubjectRequest.objects.get(pk=request_id),
        actor=StaffUserFactory(),
        outcome=Outcome.NO_DATA_HELD,
        summary="We hold no data about you.",
    )


def _staff_refuses(request_id: int) -> None:
    services.request_refuse(
        request=DataSubjectRequest.objects.get(pk=request_id),
        actor=StaffUserFactory(),
        ground=RefusalGround.MANIFESTLY_EXCESSIVE,
        reasons="You asked the same thing three times this week.",
        note="Three identical requests this week, each answered in full.",
    )


# --- Races end in a message, never an error page ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("staff_action", "staff_left_it"),
    [(_staff_completes, Status.COMPLETED), (_staff_refuses, Status.REFUSED)],
    ids=["completed", "refused"],
)
def test_a_requester_who_withdraws_just_after_staff_closed_the_request_is_told_what_happened(
    client, monkeypatch, staff_action, staff_left_it
):
    """The status page was loaded while the request was open; staff close it; then the person presses Withdraw."""
    request = in_progress_request()
    # The person opens their status page from the link in our e-mail (this browser is then allowed in).
    assert client.get(status_link_path_in(_emails_for(request)[-1])).status_code == 302
    real_withdraw = services.request_withdraw

    def staff_get_there_first(*, request, reason=""):
        # The view has already read the request (still open) when staff's decision commits.
        staff_action(request.pk)
        return real_withdraw(request=request, reason=reason)

    monkeypatch.setattr(services, "request_withdraw", staff_get_there_first)

    response = client.post(
        reverse("requests_app:status_withdraw", args=[request.reference]), {"reason": "Changed my mind"}, follow=True
    )

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "changed while you were working on it" in page
    assert f"it is now '{staff_left_it.label}'" in page
    assert "Your request has been withdrawn." not in page
    request.refresh_from_db()
    assert request.status == staff_left_it
    assert not request.events.filter(to_status=Status.WITHDRAWN).exists()
    assert not request.messages.filter(kind=MessageKind.WITHDRAWAL).exists()


def test_staff_cannot_complete_a_request_the_person_withdrew_a_second_ago():
    request = in_progress_objection()
    staff_view = DataSubjectRequest.objects.get(pk=request.pk)  # the case page, loaded before the withdrawal
    services.request_withdraw(request=request, reason="No longer needed")
    events_before = request.events.count()

    with pytest.raises(services.RequestError, match="it is now 'Withdrawn'. Nothing else was changed."):
        services.request_complete(request=staff_view, actor=StaffUserFactory(), outcome=Outcome.FULFILLED)

    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN
    assert request.outcome == ""
    assert request.events.count() == events_before
    assert not request.messages.filter(kind=MessageKind.COMPLETION).exists()


# --- The domain event: after commit, IDs only, once per real move ------------------------------------------------


@pytest.fixture
def status_events():
    """Every ``request_status_changed`` sent while the test runs, as the keyword arguments receivers get."""
    received: list[dict] = []

    def receiver(**kwargs):
        received.append(kwargs)

    request_status_changed.connect(receiver, dispatch_uid="test-spine-receiver")
    yield received
    request_status_changed.disconnect(dispatch_uid="test-spine-receiver")


def test_a_status_change_is_announced_once_after_commit_with_ids_only(status_events):
    request = in_progress_objection()
    status_events.clear()

    with transaction.atomic():
        services.request_complete(
            request=request, actor=StaffUserFactory(), outcome=Outcome.FULFILLED, summary="Ada Lovelace's data"
        )
        # Subscribers must not see a move that might still roll back.
        assert status_events == []

    assert len(status_events) == 1
    sent = status_events[0]
    move = request.events.get(kind=EventKind.STATUS_CHANGED, to_status=Status.COMPLETED)
    assert {key: value for key, value in sent.items() if key != "signal"} == {
        "sender": DataSubjectRequest,
        "request_id": request.pk,
        "from_status": Status.IN_PROGRESS,
        "to_status": Status.COMPLETED,
        "event_id": move.pk,
    }


def test_a_status_change_that_rolls_back_is_never_announced(status_events):
    request = in_progress_objection()
    status_events.clear()

    with pytest.raises(RuntimeError), transaction.atomic():
        services.request_complete(request=request, actor=StaffUserFactory(), outcome=Outcome.FULFILLED)
        raise RuntimeError("the database refused the commit")

    assert status_events == []
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS


def test_a_repeated_move_changes_nothing_and_is_not_announced(status_events):
    request = in_progress_objection()
    status_events.clear()
    events_before = request.events.count()

    result = transition(request, Status.IN_PROGRESS, actor_kind=STAFF)

    assert not result.changed
    assert status_events == []
    assert request.events.count() == events_before


@pytest.mark.django_db
def test_the_announcement_is_sent_on_commit_not_when_the_move_is_made(
    django_capture_on_commit_callbacks, status_events
):
    """The same, seen through Django's capture of on-commit callbacks (in a test transaction that never commits)."""
    request = in_progress_objection()
    status_events.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        transition(request, Status.COMPLETED, actor_kind=STAFF, changes={"outcome": Outcome.FULFILLED})
        assert status_events == []
    assert len(callbacks) == 1, "the announcement must wait for the commit"
    assert [(sent["request_id"], sent["to_status"]) for sent in status_events] == [(request.pk, Status.COMPLETED)]


# --- E-mail delivery ----------------------------------------------------------------------------------------------


class TransactionWatchingBackend(LocmemBackend):
    """An e-mail server that notes, for each e-mail, whether the portal was inside a database transaction."""

    in_transaction: list[bool] = []

    def send_messages(self, messages):
        type(self).in_transaction.append(connection.in_atomic_block)
        return super().send_messages(messages)


class SecondWorkerBackend(LocmemBackend):
    """While the first worker talks to the mail server, a second worker is handed the same message."""

    second_worker_sent: list[bool] = []

    def send_messages(self, messages):
        for message_id in Message.objects.filter(sent_at=None).values_list("pk", flat=True):
            type(self).second_worker_sent.append(correspondence.message_deliver(message_id=message_id))
        return super().send_messages(messages)


def _stored_unsent_confirmation() -> tuple[DataSubjectRequest, Message]:
    """A new request whose confirmation e-mail is stored but not yet handed to a worker."""
    with mock.patch("requests_app.tasks.deliver_message.delay"):
        request = submitted_request()
    return request, Message.objects.get(request=request, kind=MessageKind.EMAIL_CONFIRMATION)


def test_an_email_is_sent_outside_any_database_transaction(settings):
    settings.EMAIL_BACKEND = f"{__name__}.TransactionWatchingBackend"
    TransactionWatchingBackend.in_transaction = []
    request, message = _stored_unsent_confirmation()

    assert correspondence.message_deliver(message_id=message.pk) is True

    assert TransactionWatchingBackend.in_transaction == [False]
    assert len(_emails_for(request)) == 1


def test_when_recording_fails_after_sending_the_retry_sends_the_same_link_and_code(
    client,
):
    request, message = _stored_unsent_confirmation()
    real_record = correspondence._delivery_record
    with (
        mock.patch.object(correspondence, "_delivery_record", side_effect=[RuntimeError("database gone"), real_record]),
        pytest.raises(RuntimeError),
    ):
        correspondence.message_deliver(message_id=message.pk)
    first = _emails_for(request)
    assert len(first) == 1
    assert not request.events.filter(kind=EventKind.MESSAGE_SENT).exists()

    # While the first worker's claim runs, a retry sends nothing; once it has run out, the retry takes it.
    assert correspondence.message_deliver(message_id=message.pk) is False
    Message.objects.filter(pk=message.pk).update(sending_until=timezone.now() - timedelta(seconds=1))
    assert correspondence.message_deliver(message_id=message.pk) is True

    first, second = _emails_for(request)
    assert code_in(second) == code_in(first)
    assert status_link_path_in(second) == status_link_path_in(first)
    assert request.events.filter(kind=EventKind.MESSAGE_SENT).count() == 1
    message.refresh_from_db()
    assert message.sent_at is not None and message.pending_secrets == {}
    # And what the person received works: the one link, and the one code.
    assert client.get(status_link_path_in(second)).status_code == 302
    assert StatusLink.objects.filter(request=request).count() == 1
    assert email_code_check(request=request, code=code_in(second)) is CodeCheck.CONFIRMED


def test_a_second_worker_given_a_message_being_sent_sends_nothing(settings):
    settings.EMAIL_BACKEND = f"{__name__}.SecondWorkerBackend"
    SecondWorkerBackend.second_worker_sent = []
    request, message = _stored_unsent_confirmation()

    assert correspondence.message_deliver(message_id=message.pk) is True

    assert SecondWorkerBackend.second_worker_sent == [False]
    assert len(_emails_for(request)) == 1
    assert request.events.filter(kind=EventKind.MESSAGE_SENT).count() == 1


# --- Status links: a few live at once, revocable ------------------------------------------------------------------


def test_only_the_three_newest_status_links_open_the_status_page(client):
    request = submitted_request()
    for _ in range(4):
        services.status_link_resend(reference=request.reference, email="ada@example.com")
    links = [status_link_path_in(email) for email in _emails_for(request)]
    assert len(links) == 5 and len(set(links)) == 5

    assert StatusLink.objects.filter(request=request, revoked_at=None).count() == 3
    for old in links[:2]:
        response = client.get(old)
        assert response.status_code == 404
        assert "requests_app/status_link_invalid.html" in [t.name for t in response.templates]
    for new in links[2:]:
        assert client.get(new).status_code == 302


def test_revoking_a_requests_status_links_ends_every_one_of_them(client):
    request = submitted_request()
    services.status_link_resend(reference=request.reference, email="ada@example.com")
    links = [status_link_path_in(email) for email in _emails_for(request)]
    assert client.get(links[-1]).status_code == 302

    assert correspondence.status_links_revoke(request_id=request.pk) == 2

    for link in links:
        assert Client().get(link).status_code == 404
    assert not StatusLink.objects.filter(request=request, revoked_at=None).exists()


def test_status_links_end_when_the_case_file_reaches_the_end_of_its_retention(client, settings):
    """LAW.md §6(h): a closed case file is kept two years (by default) after closure; its links end with it."""
    settings.DSAR_CASE_FILE_RETENTION_DAYS = 730
    settings.DSAR_UNCONFIRMED_RETENTION_DAYS = 90
    now = timezone.now()
    old_withdrawn, recent_withdrawn, old_unconfirmed = submitted_request(), submitted_request(), submitted_request()
    services.request_withdraw(request=old_withdrawn)
    services.request_withdraw(request=recent_withdrawn)
    transition(old_unconfirmed, Status.CLOSED_UNCONFIRMED, actor_kind="system")
    DataSubjectRequest.objects.filter(pk=old_withdrawn.pk).update(closed_at=now - timedelta(days=731))
    DataSubjectRequest.objects.filter(pk=recent_withdrawn.pk).update(closed_at=now - timedelta(days=729))
    DataSubjectRequest.objects.filter(pk=old_unconfirmed.pk).update(closed_at=now - timedelta(days=91))
    old_link = status_link_path_in(_emails_for(old_withdrawn)[-1])
    recent_link = status_link_path_in(_emails_for(recent_withdrawn)[-1])

    # The withdrawn one had two e-mails (confirmation, withdrawal), the unconfirmed one its confirmation e-mail.
    assert correspondence.status_links_retention_sweep(now=now) == 3
    assert correspondence.status_links_retention_sweep(now=now) == 0

    assert Client().get(old_link).status_code == 404
    assert Client().get(recent_link).status_code == 302
    assert not StatusLink.objects.filter(request=old_unconfirmed, revoked_at=None).exists()
