"""Agents and children (LAW.md §5 I3, I4, I5): the subject is asked only where we already reach them, their answer
is a supplementary signal, the response goes where the authority says, and a child's competence is decided first."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from agents.models import AuthorityType
from identity import services as identity_services
from identity.forms import AUTHORITY_CHECKLISTS
from identity.models import ChildCompetence, IdentityVerification, SubjectConfirmation
from identity.policy import policy_get
from requests_app import services as request_services
from requests_app.models import DocumentPurpose, EventKind, RequestDocument, RespondTo, Status
from requests_app.scope import AccessScope, AgentAuthority
from tests.factories import (
    StaffUserFactory,
    confirmed_request,
    document_asked_request,
    png_upload,
    submitted_request,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def pat_on_record(db):
    return identity_services.demo_customer_save(
        customer_number="C-2002", name="Pat Client", email="pat@held.example", postcode="EH1 1AA"
    )


def _reviewer():
    user = StaffUserFactory(first_name="Jane", last_name="Smith")
    for perm in ("decide_verification", "view_evidence"):
        user.user_permissions.add(Permission.objects.get(codename=perm))
    return type(user).objects.get(pk=user.pk)


def _agents_request(authority_type=AuthorityType.LETTER_OF_AUTHORITY, relationship="solicitor", **child):
    request = confirmed_request(
        requester_role="agent",
        name="Sam Solicitor",
        email="sol@lawfirm.example",
        identifiers={"customer_number": "C-2002"},
        details={
            **AccessScope().as_details(),
            **AgentAuthority(
                subject_name="Pat Client", relationship=relationship, authority_type=authority_type
            ).as_details(),
        },
    )
    if child:
        identity_services.verification_child_record(request=request, **child)
    identity_services.request_evidence_upload(request=request, document=png_upload(), purpose=DocumentPurpose.AUTHORITY)
    request.refresh_from_db()
    return request


# --- The subject's answer -------------------------------------------------------------------------------


def test_the_subject_is_asked_only_at_the_address_we_already_hold(mailoutbox):
    request = _agents_request()
    confirmation = identity_services.subject_confirmation_create(request=request, agent_name="Sam Solicitor")
    assert confirmation.subject_email == "pat@held.example"
    [email] = [m for m in mailoutbox if m.subject.startswith("Is someone acting for you?")]
    assert email.to == ["pat@held.example"]
    assert "Pat Client" not in email.body
    assert "Sent on" in email.body


def test_nobody_is_written_to_when_we_hold_no_address_for_the_subject(mailoutbox):
    request = _agents_request()
    request.identifiers = {"customer_number": "NOT-OURS"}
    request.save()
    assert identity_services.subject_confirmation_create(request=request, agent_name="Sam Solicitor") is None
    assert not SubjectConfirmation.objects.exists()
    assert not [m for m in mailoutbox if m.subject.startswith("Is someone acting for you?")]


def test_staff_may_go_on_without_the_answer_with_a_recorded_judgement():
    request = _agents_request()
    identity_services.subject_confirmation_create(request=request, agent_name="Sam Solicitor")
    with pytest.raises(identity_services.VerificationError):
        identity_services.verification_decide(
            request=request, actor=_reviewer(), outcome="verified", document_kind="letter of authority"
        )
    identity_services.verification_decide(
        request=request,
        actor=_reviewer(),
        outcome="verified",
        document_kind="letter of authority",
        authority_sufficient_reason="Letter on the firm's paper, signature matches our records",
    )
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.events.filter(kind=EventKind.IDENTITY_JUDGEMENT).exists()
    assert "signature matches" in request.identity_verification.authority_sufficient_reason


def test_staff_may_go_on_after_the_configured_days_without_an_answer(settings):
    settings.DSAR_SUBJECT_ANSWER_WAIT_DAYS = 7
    request = _agents_request()
    confirmation = identity_services.subject_confirmation_create(request=request, agent_name="Sam Solicitor")
    SubjectConfirmation.objects.filter(pk=confirmation.pk).update(sent_at=timezone.now() - timedelta(days=8))
    identity_services.verification_decide(
        request=request, actor=_reviewer(), outcome="verified", document_kind="letter of authority"
    )
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS


# --- Who receives the response --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authority_type", "letter_says_agent", "expected"),
    [
        (AuthorityType.POWER_OF_ATTORNEY, False, RespondTo.REQUESTER),
        (AuthorityType.POWER_OF_ATTORNEY_SCOTLAND, False, RespondTo.REQUESTER),
        (AuthorityType.POWER_OF_ATTORNEY_NI, False, RespondTo.REQUESTER),
        (AuthorityType.DEPUTYSHIP, False, RespondTo.REQUESTER),
        (AuthorityType.GUARDIANSHIP_SCOTLAND, False, RespondTo.REQUESTER),
        (AuthorityType.COURT_ORDER, False, RespondTo.REQUESTER),
        (AuthorityType.LETTER_OF_AUTHORITY, True, RespondTo.REQUESTER),
        (AuthorityType.LETTER_OF_AUTHORITY, False, RespondTo.SUBJECT),
    ],
)
def test_the_response_goes_where_the_authority_type_says(authority_type, letter_says_agent, expected, mailoutbox):
    request = _agents_request(authority_type=authority_type)
    identity_services.verification_decide(
        request=request,
        actor=_reviewer(),
        outcome="verified",
        document_kind="authority",
        response_to_agent=letter_says_agent,
    )
    request.refresh_from_db()
    assert request.respond_to == expected
    assert request.events.filter(kind=EventKind.RESPONSE_ROUTED).exists()
    # The messages follow: the completion goes to the chosen recipient.
    request_services.request_complete(request=request, actor=_reviewer(), outcome="fulfilled", summary="Done.")
    expected_address = "sol@lawfirm.example" if expected == RespondTo.REQUESTER else "pat@held.example"
    assert mailoutbox[-1].to == [expected_address]


# --- Children -------------------------------------------------------------------------------------------


def test_a_childs_request_cannot_be_verified_before_staff_decide_on_competence_and_best_interests():
    request = _agents_request(
        authority_type=AuthorityType.PARENTAL_RESPONSIBILITY,
        relationship="parent",
        birth_date=None,
        age=13,
        in_scotland=True,
    )
    verification = IdentityVerification.objects.get(request=request)
    assert verification.child_age == 13 and verification.child_in_scotland is True
    assert "presumed competent (DPA 2018 s.208)" in identity_services.child_presumption(verification)
    with pytest.raises(identity_services.VerificationError):
        identity_services.verification_decide(
            request=request, actor=_reviewer(), outcome="verified", document_kind="birth certificate"
        )
    identity_services.verification_decide(
        request=request,
        actor=_reviewer(),
        outcome="verified",
        document_kind="birth certificate",
        child_competence=ChildCompetence.COMPETENT_RESPOND_TO_CHILD,
        child_competence_reason="13, lives in Scotland; nothing rebuts the presumption",
    )
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.identity_verification.child_competence == ChildCompetence.COMPETENT_RESPOND_TO_CHILD
    # A competent child: we deal with the child, at the address we hold.
    assert request.respond_to == RespondTo.SUBJECT


def test_a_parent_of_a_child_who_is_not_competent_receives_the_response():
    request = _agents_request(
        authority_type=AuthorityType.PARENTAL_RESPONSIBILITY,
        relationship="parent",
        birth_date=None,
        age=5,
        in_scotland=False,
    )
    identity_services.verification_decide(
        request=request,
        actor=_reviewer(),
        outcome="verified",
        document_kind="birth certificate",
        child_competence=ChildCompetence.NOT_COMPETENT,
        child_competence_reason="Five years old",
    )
    request.refresh_from_db()
    assert request.respond_to == RespondTo.REQUESTER


def test_the_new_authority_types_have_checklists_and_house_rules_are_labelled():
    for authority_type in AuthorityType.values:
        assert AUTHORITY_CHECKLISTS[authority_type], authority_type
    letter = [str(line) for line in AUTHORITY_CHECKLISTS[AuthorityType.LETTER_OF_AUTHORITY]]
    assert any(line.startswith("House rule") and "6 months" in line for line in letter)
    assert not any("6 months" in line and not line.startswith("House rule") for line in letter)


# --- The wait counts from the latest ask ----------------------------------------------------------------


def test_the_identity_timeout_counts_from_the_latest_request_for_information(mailoutbox):
    request = document_asked_request(email="stranger@example.com")
    identity_services.request_evidence_upload(
        request=request, document=png_upload(), purpose=DocumentPurpose.IDENTITY_EVIDENCE
    )
    timeout = policy_get().response_timeout_days
    first_ask = IdentityVerification.objects.get(request=request).asked_at
    IdentityVerification.objects.filter(request=request).update(asked_at=first_ask - timedelta(days=timeout - 2))
    identity_services.verification_decide(
        request=request, actor=_reviewer(), outcome="more_needed", document_kind="bill", message="Too old."
    )
    verification = IdentityVerification.objects.get(request=request)
    assert verification.asked_at >= first_ask
    # The message states its date and the date by which we need an answer.
    today = timezone.localdate().strftime("%d %B %Y")
    assert f"We asked for this on {today}" in mailoutbox[-1].body

    # Three days later (past the first ask's timeout) the request is still open.
    identity_services.verification_timeouts_sweep(now=timezone.now() + timedelta(days=3))
    request.refresh_from_db()
    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION


# --- Supporting documents go with the case file ---------------------------------------------------------


def test_supporting_documents_are_deleted_with_the_case_file(settings):
    request = submitted_request()
    document = request_services.request_document_store(
        request=request, upload=png_upload(), purpose=DocumentPurpose.SUPPORTING
    )
    request_services.request_withdraw(request=request)
    later = timezone.now() + timedelta(days=settings.DSAR_CASE_FILE_RETENTION_DAYS - 1)
    assert request_services.supporting_documents_retention_sweep(now=later) == 0
    later = timezone.now() + timedelta(days=settings.DSAR_CASE_FILE_RETENTION_DAYS + 1)
    assert request_services.supporting_documents_retention_sweep(now=later) == 1
    assert RequestDocument.objects.get(pk=document.pk).deleted_at is not None
    assert "delete-supporting-documents-past-retention" in settings.CELERY_BEAT_SCHEDULE
