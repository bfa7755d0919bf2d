"""Staff deciding on evidence while the person uploads more, at the same moment, on real PostgreSQL.

Both operations lock the request row first, then its identity check (``requests_app.locks``), so the second waits
for the first instead of the two deadlocking. Two threads, each with its own database connection; the overlap is
forced, not hoped for: the decision pauses while it holds its locks, and is let go only once PostgreSQL shows the
upload waiting for a lock.
"""

import threading
import time

import pytest
from django.contrib.auth.models import Permission
from django.db import connection

from identity import services as identity_services
from identity.models import EvidenceCheck, IdentityVerification, VerificationStatus
from requests_app.models import DataSubjectRequest, DocumentPurpose, EventKind, Status
from tests.factories import StaffUserFactory, document_asked_request, png_upload

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 30  # seconds; far more than either operation takes, so a timeout means a hang


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and deadlocks need PostgreSQL: set DATABASE_URL (.ci/run does)")


def _reviewer():
    user = StaffUserFactory(first_name="Jane", last_name="Smith")
    for codename in ("decide_verification", "view_evidence"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return type(user).objects.get(pk=user.pk)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _waiting_for_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


class _Worker(threading.Thread):
    """Runs one operation on its own connection; keeps its error, if any, for the test to see."""

    def __init__(self, operation):
        super().__init__(daemon=True)
        self.operation = operation
        self.error: BaseException | None = None
        self.pid: int | None = None
        self.started_work = threading.Event()

    def run(self) -> None:
        try:
            self.pid = _backend_pid()
            self.started_work.set()
            self.operation()
        except BaseException as error:  # noqa: BLE001 - reported by the test, whatever it is
            self.error = error
        finally:
            self.started_work.set()
            connection.close()


def test_staff_deciding_while_the_person_uploads_evidence_wait_for_each_other_instead_of_deadlocking(
    postgresql, monkeypatch
):
    request = document_asked_request(email="stranger@example.com")
    identity_services.request_evidence_upload(
        request=request, document=png_upload(), purpose=DocumentPurpose.IDENTITY_EVIDENCE
    )
    reviewer = _reviewer()

    # The decision pauses after taking its locks, just before it reads the documents to decide on.
    decision_holds_its_locks = threading.Event()
    let_the_decision_go_on = threading.Event()
    read_documents = identity_services._evidence_documents

    def pause_then_read(request):
        decision_holds_its_locks.set()
        assert let_the_decision_go_on.wait(WAIT)
        return read_documents(request)

    monkeypatch.setattr(identity_services, "_evidence_documents", pause_then_read)

    staff = _Worker(
        lambda: identity_services.verification_decide(
            request=DataSubjectRequest.objects.get(pk=request.pk),
            actor=reviewer,
            outcome="more_needed",
            document_kind="passport",
            message="The scan is too dark to read. Please send a clearer one.",
        )
    )
    requester = _Worker(
        lambda: identity_services.request_evidence_upload(
            request=DataSubjectRequest.objects.get(pk=request.pk),
            document=png_upload("clearer.png"),
            purpose=DocumentPurpose.IDENTITY_EVIDENCE,
        )
    )

    staff.start()
    assert decision_holds_its_locks.wait(WAIT), "the decision never started"
    requester.start()
    assert requester.started_work.wait(WAIT)
    deadline = time.monotonic() + WAIT
    while requester.is_alive() and not _waiting_for_a_lock(requester.pid):
        assert time.monotonic() < deadline, "the upload never met the decision's locks"
        time.sleep(0.02)
    assert requester.is_alive(), f"the upload did not wait for the decision: {requester.error!r}"
    # The upload now waits on a row the decision holds: let the decision finish.
    let_the_decision_go_on.set()
    staff.join(WAIT)
    requester.join(WAIT)

    assert not staff.is_alive() and not requester.is_alive(), "one of them hung"
    assert staff.error is None, f"the decision failed: {staff.error!r}"
    assert requester.error is None, f"the upload failed: {requester.error!r}"
    # One after the other: staff asked for more, then the clearer scan arrived and waits for review.
    request.refresh_from_db()
    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION
    assert IdentityVerification.objects.get(request=request).status == VerificationStatus.EVIDENCE_RECEIVED
    assert list(EvidenceCheck.objects.filter(request=request).values_list("outcome", flat=True)) == ["more_needed"]
    assert request.documents.filter(purpose=DocumentPurpose.IDENTITY_EVIDENCE).count() == 2
    moves = request.events.filter(kind=EventKind.IDENTITY_STATUS_CHANGED).order_by("pk")
    assert list(moves.values_list("from_status", "to_status")) == [
        (VerificationStatus.PENDING, VerificationStatus.EVIDENCE_RECEIVED),
        (VerificationStatus.EVIDENCE_RECEIVED, VerificationStatus.PENDING),
        (VerificationStatus.PENDING, VerificationStatus.EVIDENCE_RECEIVED),
    ]
