"""The identity check and the subject's answer are guarded lifecycles; a staff decision that loses a race is told so.

Every move of an identity check goes through one table and one setter that records it in the request's trail: a
decided check is never reopened by late evidence, a repeat changes nothing, and a decision on a request the person
withdrew a second ago changes nothing and says why. A list of verification methods that cannot work stops the
portal at start-up with a message for the operator.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from identity import services as identity_services
from identity.models import EvidenceCheck, IdentityVerification, SubjectConfirmation, VerificationStatus
from identity.services import SUBJECT_ANSWER, VERIFICATION_LIFECYCLE, VerificationError
from requests_app import services as request_services
from requests_app.audit import STAFF, SYSTEM
from requests_app.lifecycle import IllegalTransition
from requests_app.models import DataSubjectRequest, DocumentPurpose, EventKind, RequesterRole, Status
from tests.factories import StaffUserFactory, confirmed_request, document_asked_request, png_upload

pytestmark = pytest.mark.django_db

PENDING = VerificationStatus.PENDING
EVIDENCE_RECEIVED = VerificationStatus.EVIDENCE_RECEIVED
VERIFIED = VerificationStatus.VERIFIED
FAILED = VerificationStatus.FAILED
TIMED_OUT = VerificationStatus.TIMED_OUT

# The rule, written out: evidence can arrive while we wait; staff may then ask for more, verify or fail; the
# waiting can time out. A decided check (verified, failed, timed out) never moves again.
ALLOWED = {
    PENDING: {EVIDENCE_RECEIVED, VERIFIED, FAILED, TIMED_OUT},
    EVIDENCE_RECEIVED: {PENDING, VERIFIED, FAILED},
    VERIFIED: set(),
    FAILED: set(),
    TIMED_OUT: set(),
}
MOVES = [(a, b) for a in VerificationStatus.values for b in VerificationStatus.values if a != b]


def _reviewer():
    user = StaffUserFactory(first_name="Jane", last_name="Smith")
    for codename in ("decide_verification", "view_evidence"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return type(user).objects.get(pk=user.pk)  # fresh permission cache


def _awaiting_a_document() -> DataSubjectRequest:
    """A request from an address we do not know: we have asked the person for a document."""
    return document_asked_request(email="stranger@example.com")


def _upload(request: DataSubjectRequest):
    return identity_services.request_evidence_upload(
        request=request, document=png_upload(), purpose=DocumentPurpose.IDENTITY_EVIDENCE
    )


def _check_in(status: str) -> IdentityVerification:
    request = _awaiting_a_document()
    IdentityVerification.objects.filter(request=request).update(status=status)
    return IdentityVerification.objects.get(request=request)


def _identity_moves(request_id: int) -> list[tuple[str, str]]:
    events = DataSubjectRequest.objects.get(pk=request_id).events.filter(kind=EventKind.IDENTITY_STATUS_CHANGED)
    return list(events.order_by("pk").values_list("from_status", "to_status"))


# --- The table of moves ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("from_status", "to_status"), MOVES)
def test_every_move_of_an_identity_check_is_allowed_or_refused_as_the_rule_says(from_status, to_status):
    verification = _check_in(from_status)

    if to_status in ALLOWED[from_status]:
        move = VERIFICATION_LIFECYCLE.move(verification, to_status, actor_kind=SYSTEM, reason="test")
        assert move.changed
        assert move.event.kind == EventKind.IDENTITY_STATUS_CHANGED
        assert _identity_moves(verification.request_id) == [(from_status, to_status)]
    else:
        with pytest.raises(IllegalTransition):
            VERIFICATION_LIFECYCLE.move(verification, to_status, actor_kind=SYSTEM)
        assert _identity_moves(verification.request_id) == []
    verification.refresh_from_db()
    assert verification.status == (to_status if to_status in ALLOWED[from_status] else from_status)


@pytest.mark.parametrize("status", VerificationStatus.values)
def test_moving_an_identity_check_to_the_status_it_has_changes_nothing_and_records_nothing(status):
    verification = _check_in(status)

    move = VERIFICATION_LIFECYCLE.move(verification, status, actor_kind=SYSTEM)

    assert not move.changed
    assert _identity_moves(verification.request_id) == []


def test_a_decision_records_the_move_of_the_check_with_who_made_it():
    request = _awaiting_a_document()
    _upload(request)
    reviewer = _reviewer()

    identity_services.verification_decide(request=request, actor=reviewer, outcome=VERIFIED, document_kind="passport")

    assert _identity_moves(request.pk) == [(PENDING, EVIDENCE_RECEIVED), (EVIDENCE_RECEIVED, VERIFIED)]
    decision = request.events.get(kind=EventKind.IDENTITY_STATUS_CHANGED, to_status=VERIFIED)
    assert decision.actor == reviewer and decision.actor_kind == STAFF


def test_a_second_page_while_the_first_waits_for_review_is_kept_and_records_no_second_move():
    """The back of an ID card, sent after the front: kept for the same review, and the check moves only once."""
    request = _awaiting_a_document()
    _upload(request)
    _upload(request)

    assert _identity_moves(request.pk) == [(PENDING, EVIDENCE_RECEIVED)]
    assert request.documents.filter(purpose=DocumentPurpose.IDENTITY_EVIDENCE).count() == 2


# --- Evidence that arrives too late ------------------------------------------------------------------------------


def test_evidence_sent_after_the_check_failed_is_refused_and_the_check_stays_failed():
    request = _awaiting_a_document()
    _upload(request)
    identity_services.verification_decide(
        request=request, actor=_reviewer(), outcome=FAILED, message="The name does not match."
    )

    with pytest.raises(VerificationError):
        _upload(request)

    assert IdentityVerification.objects.get(request=request).status == FAILED
    assert request.documents.filter(purpose=DocumentPurpose.IDENTITY_EVIDENCE).count() == 1
    assert _identity_moves(request.pk)[-1] == (EVIDENCE_RECEIVED, FAILED)


def test_evidence_sent_after_the_check_timed_out_is_refused_and_the_check_stays_timed_out():
    request = _awaiting_a_document()
    verification = IdentityVerification.objects.get(request=request)
    later = verification.asked_at + timedelta(days=365)
    assert identity_services.verification_timeouts_sweep(now=later) == (0, 1)

    with pytest.raises(VerificationError):
        _upload(request)

    verification.refresh_from_db()
    assert verification.status == TIMED_OUT
    assert not request.documents.exists()


def test_a_timed_out_check_is_not_reopened_by_evidence_even_before_the_request_is_closed():
    """The check timed out; the request's own move has not happened yet (the sweep is between its two steps)."""
    request = _awaiting_a_document()
    IdentityVerification.objects.filter(request=request).update(status=TIMED_OUT, decided_at=timezone.now())

    with pytest.raises(VerificationError, match="already been decided"):
        _upload(request)

    assert IdentityVerification.objects.get(request=request).status == TIMED_OUT
    assert not request.documents.exists()


# --- A staff decision that loses a race ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "decision",
    [
        {"outcome": VERIFIED, "document_kind": "passport"},
        {"outcome": "more_needed", "message": "Please send a clearer scan."},
        {"outcome": FAILED, "message": "The name does not match."},
    ],
    ids=lambda decision: decision["outcome"],
)
def test_a_decision_on_a_request_withdrawn_a_second_ago_says_so_and_changes_nothing(decision):
    request = _awaiting_a_document()
    _upload(request)
    case_page = DataSubjectRequest.objects.get(pk=request.pk)  # what the reviewer loaded
    request_services.request_withdraw(request=request, reason="Sorted it out another way")
    events_before = request.events.count()
    messages_before = request.messages.count()

    with pytest.raises(VerificationError, match="it is now 'Withdrawn'. Nothing else was changed."):
        identity_services.verification_decide(request=case_page, actor=_reviewer(), **decision)

    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN
    assert IdentityVerification.objects.get(request=request).status == EVIDENCE_RECEIVED
    assert not EvidenceCheck.objects.filter(request=request).exists()
    assert request.events.count() == events_before
    assert request.messages.count() == messages_before


# --- The data subject's answer to an agent ------------------------------------------------------------------------


def _agents_request_with_question() -> SubjectConfirmation:
    identity_services.demo_customer_save(customer_number="C-1001", name="Ada Lovelace", email="ada@example.com")
    request = confirmed_request(
        requester_role=RequesterRole.AGENT, email="agent@example.com", identifiers={"customer_number": "C-1001"}
    )
    return identity_services.subject_confirmation_create(request=request, agent_name="Sam Solicitor")


def test_the_subject_confirming_twice_is_recorded_once():
    confirmation = _agents_request_with_question()

    identity_services.subject_confirmation_answer(confirmation=confirmation, confirmed=True)
    identity_services.subject_confirmation_answer(confirmation=confirmation, confirmed=True)

    confirmation.refresh_from_db()
    assert confirmation.answer == SubjectConfirmation.Answer.CONFIRMED
    events = confirmation.request.events.filter(kind=EventKind.SUBJECT_CONFIRMED_AGENT)
    assert list(events.values_list("from_status", "to_status")) == [("pending", "confirmed")]


def test_the_subject_cannot_change_their_answer_once_given():
    confirmation = _agents_request_with_question()
    identity_services.subject_confirmation_answer(confirmation=confirmation, confirmed=True)
    status_before = DataSubjectRequest.objects.get(pk=confirmation.request_id).status

    with pytest.raises(VerificationError, match="already been answered"):
        identity_services.subject_confirmation_answer(confirmation=confirmation, confirmed=False)

    confirmation.refresh_from_db()
    assert confirmation.answer == SubjectConfirmation.Answer.CONFIRMED
    request = DataSubjectRequest.objects.get(pk=confirmation.request_id)
    assert request.status == status_before
    assert not request.events.filter(kind=EventKind.SUBJECT_DENIED_AGENT).exists()


def test_every_move_of_the_subjects_answer_is_allowed_or_refused_as_the_rule_says():
    """Once answered, the answer is final; only a pending question can be answered."""
    answers = SubjectConfirmation.Answer
    assert {(a, b): SUBJECT_ANSWER.can_move(a, b) for a in answers.values for b in answers.values if a != b} == {
        (answers.PENDING, answers.CONFIRMED): True,
        (answers.PENDING, answers.DENIED): True,
        (answers.CONFIRMED, answers.PENDING): False,
        (answers.CONFIRMED, answers.DENIED): False,
        (answers.DENIED, answers.PENDING): False,
        (answers.DENIED, answers.CONFIRMED): False,
    }


# --- The operator's list of methods, checked at start-up ----------------------------------------------------------


def test_the_shipped_list_of_verification_methods_passes_the_start_up_check():
    identity_services.verification_methods_check()


@pytest.mark.parametrize(
    ("methods", "message"),
    [
        (["identity.methods.no_such_module.Method"], "DSAR_VERIFICATION_METHODS: "),
        (["identity.methods.staff_evidence.NoSuchClass"], "DSAR_VERIFICATION_METHODS: "),
        ([], "DSAR_VERIFICATION_METHODS lists no verification method"),
        (
            ["identity.methods.email_possession.EmailPossession", "identity.methods.records_match.RecordsMatch"],
            "no method at the evidence level",
        ),
    ],
    ids=["module-missing", "class-missing", "empty", "no-evidence-method"],
)
def test_a_list_of_verification_methods_that_cannot_work_stops_start_up_with_a_clear_message(
    settings, methods, message
):
    settings.DSAR_VERIFICATION_METHODS = methods

    with pytest.raises(ImproperlyConfigured, match=message):
        identity_services.verification_methods_check()
