"""The person confirms their e-mail address while a worker e-mails them a new code, at the same moment, on real
PostgreSQL (a deadlock seen under load).

Delivering a confirmation e-mail retires the live code and stores a new one (``confirmation.email_code_issue``);
confirming locks the request, then the live code. Both must lock the request first (``requests_app.locks``): when the
delivery locked the code rows first and the request only afterwards (the new code's row refers to the request, so
PostgreSQL takes a key-share lock on the request row as it is inserted), each waited for the other and PostgreSQL
aborted one of them. Two threads, each with its own connection; the overlap is forced: the delivery pauses between
retiring the old code and storing the new one, and is let go only once PostgreSQL shows the confirmation waiting.
"""

import threading
import time

import pytest
from django.core import mail

from identity import services as identity_services
from requests_app import confirmation, correspondence
from requests_app.models import DataSubjectRequest, Message, MessageKind, Status
from tests.factories import code_in, submitted_request
from tests.identity.test_lock_order import WAIT, _waiting_for_a_lock, _Worker, postgresql  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_confirming_while_a_worker_sends_a_new_code_waits_instead_of_deadlocking(postgresql, monkeypatch):  # noqa: F811
    request = submitted_request(email="ada@example.net")
    (first,) = mail.outbox
    old_code = code_in(first)
    # The person asked for a new code; its message is stored, its delivery not run yet (the worker below runs it).
    with monkeypatch.context() as patch:
        patch.setattr(correspondence, "message_enqueue", lambda message: None)
        resend = correspondence.message_send(request, MessageKind.EMAIL_CONFIRMATION)

    delivery_retired_the_old_code = threading.Event()
    let_the_delivery_go_on = threading.Event()
    real_hash = confirmation.secret_hash

    def pause_then_hash(code, *, purpose):
        # Called as the new code's row is made: the old code was retired (its row locked) just before.
        delivery_retired_the_old_code.set()
        assert let_the_delivery_go_on.wait(WAIT)
        return real_hash(code, purpose=purpose)

    monkeypatch.setattr(confirmation, "secret_hash", pause_then_hash)
    worker = _Worker(lambda: correspondence.message_deliver(message_id=resend.pk))
    person = _Worker(
        lambda: identity_services.request_confirm_email(
            request=DataSubjectRequest.objects.get(pk=request.pk), code=old_code
        )
    )

    worker.start()
    assert delivery_retired_the_old_code.wait(WAIT), "the delivery never issued a code"
    person.start()
    assert person.started_work.wait(WAIT)
    deadline = time.monotonic() + WAIT
    while person.is_alive() and not _waiting_for_a_lock(person.pid):
        assert time.monotonic() < deadline, "the confirmation never met the delivery's locks"
        time.sleep(0.02)
    assert person.is_alive(), f"the confirmation did not wait for the delivery: {person.error!r}"
    let_the_delivery_go_on.set()
    worker.join(WAIT)
    person.join(WAIT)

    assert not worker.is_alive() and not person.is_alive(), "one of them hung"
    assert worker.error is None, f"the delivery failed: {worker.error!r}"
    assert person.error is None, f"the confirmation failed: {person.error!r}"
    # One after the other: the new code went out and retired the old one, which the person then typed too late.
    assert Message.objects.get(pk=resend.pk).sent_at is not None
    request.refresh_from_db()
    assert request.status == Status.AWAITING_EMAIL_CONFIRMATION and request.email_confirmed_at is None
    identity_services.request_confirm_email(request=request, code=code_in(mail.outbox[-1]))
    request.refresh_from_db()
    assert request.email_confirmed_at is not None
