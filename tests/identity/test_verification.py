"""Proportionate identity verification: what each request needs, each method, each outcome, and the clock."""

import io
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from identity import services as identity_services
from identity.models import EvidenceCheck, IdentityVerification, VerificationPolicy, VerificationStep
from identity.policy import policy_get
from organisation.selectors import organisation_get
from requests_app.confirmation import email_code_issue
from requests_app.models import (
    DocumentPurpose,
    EventKind,
    MessageKind,
    RefusalGround,
    RequestDocument,
    RequesterRole,
    Right,
    Status,
)
from tests.factories import (
    StaffUserFactory,
    confirmed_request,
    document_asked_request,
    give_second_factor,
    submitted_request,
)

# Real commits: the e-mails these tests read are sent after commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def customer():
    return identity_services.demo_customer_save(
        customer_number="C-1001",
        name="Ada Lovelace",
        email="ada@example.com",
        phone="07700 900001",
        postcode="SW1A 1AA",
    )


def _reviewer(*perms: str):
    """Staff in the staff area (where identity checks are a panel of the case page), with ``perms`` of identity."""
    user = StaffUserFactory(first_name="Jane", last_name="Smith")
    for perm in (*(perms or ("decide_verification", "view_evidence")), "view_staff_area", "act_on_request"):
        user.user_permissions.add(Permission.objects.get(codename=perm))
    return type(user).objects.get(pk=user.pk)  # fresh permission cache


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, format="PNG")
    return SimpleUploadedFile("passport.png", buffer.getvalue(), content_type="image/png")


def _upload(request):
    return identity_services.request_evidence_upload(
        request=request, document=_png(), purpose=DocumentPurpose.IDENTITY_EVIDENCE
    )


# --- What the policy asks for ---------------------------------------------------------------


def test_objection_to_direct_marketing_needs_only_the_confirmed_email(mailoutbox):
    request = confirmed_request(right=Right.OBJECTION, details={"objection_type": "direct_marketing"})
    assert request.status == Status.IN_PROGRESS
    assert request.clock_paused_on is None
    assert not any(str(MessageKind.IDENTITY_NEEDED.label) in m.subject for m in mailoutbox)


def test_access_is_verified_from_our_records_when_email_and_a_second_detail_match(customer):
    request = confirmed_request(email="Ada@Example.com", identifiers={"customer_number": "c-1001"})
    assert request.status == Status.IN_PROGRESS
    assert request.identity_verification.method == "records"
    assert request.clock_paused_on is None


def test_access_with_only_the_email_matching_asks_for_one_more_detail(customer, mailoutbox):
    request = confirmed_request(identifiers={})
    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION
    assert request.identity_verification.step == VerificationStep.MORE_DETAILS
    needed = [m for m in mailoutbox if str(MessageKind.IDENTITY_NEEDED.label) in m.subject]
    assert len(needed) == 1 and "please give us details we hold about you" in needed[0].body


def test_an_address_we_do_not_know_is_first_asked_for_other_identifiers_we_hold_not_a_document(customer):
    """LAW.md I1; EDPB Guidelines 01/2022 §3: an ID copy only where strictly necessary."""
    request = confirmed_request(email="stranger@example.com", identifiers={"customer_number": "C-1001"})
    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION
    # One identifier of someone else's record must not count, and no document is asked yet.
    assert request.identity_verification.step == VerificationStep.MORE_DETAILS
    assert request.identity_verification.records_match == "none"
    assert "customer or account number" in request.identity_verification.request_to_requester
    assert not request.identity_verification.document_reason


def test_two_identifiers_we_hold_verify_a_person_whose_address_is_new_to_us(customer):
    request = confirmed_request(email="new-address@example.com", identifiers={"customer_number": "C-1001"})
    identity_services.verification_add_details(request=request, identifiers={"postcode": "sw1a 1aa"})
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.identity_verification.method == "records"


def test_a_document_is_asked_only_with_a_recorded_reason_and_invites_redaction(customer, mailoutbox):
    request = document_asked_request(email="stranger@example.com", identifiers={"customer_number": "C-1001"})
    verification = request.identity_verification
    assert verification.step == VerificationStep.DOCUMENT
    assert "did not match our records" in verification.document_reason
    needed = [m for m in mailoutbox if str(MessageKind.IDENTITY_NEEDED.label) in m.subject]
    assert "black out anything we do not need to see" in needed[-1].body.replace("\n", " ")


def test_staff_ask_for_a_document_only_with_a_reason_kept_with_the_check(customer):
    request = confirmed_request(email="stranger@example.com")
    with pytest.raises(identity_services.VerificationError):
        identity_services.verification_document_ask(request=request, actor=_reviewer(), reason="  ")
    identity_services.verification_document_ask(
        request=request, actor=_reviewer(), reason="Special category data: a wrong disclosure would harm"
    )
    verification = IdentityVerification.objects.get(request=request)
    assert verification.step == VerificationStep.DOCUMENT
    assert verification.document_reason == "Special category data: a wrong disclosure would harm"


def test_an_agent_must_always_show_authority():
    request = confirmed_request(requester_role=RequesterRole.AGENT)
    assert request.identity_verification.step == VerificationStep.DOCUMENT
    assert "proof of your authority" in request.identity_verification.request_to_requester


def test_special_category_data_raises_the_assurance_needed(customer):
    request = confirmed_request(
        identifiers={"customer_number": "C-1001"},
        details={"access_scope": "all", "access_format": "report", "special_category_data": True},
    )
    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION
    assert request.identity_verification.step == VerificationStep.DOCUMENT


def test_the_dpo_can_lower_what_access_requests_need():
    VerificationPolicy.objects.update_or_create(pk=1, defaults={"access_level": 1})
    request = document_asked_request(email="stranger@example.com")
    assert request.status == Status.IN_PROGRESS


# --- One more detail ---------------------------------------------------------------------------


def test_one_more_matching_detail_verifies_and_suspends_rather_than_restarts_the_uk_clock(customer):
    """Asking one more detail after a partial match records no reasonable doubt (UK GDPR Art. 12(6); LAW.md D4), so
    the clock keeps its start and only the days waited are added."""
    request = confirmed_request(received_on=date(2026, 3, 2), identifiers={})
    decision = identity_services.verification_add_details(request=request, identifiers={"postcode": "sw1a1aa"})
    request.refresh_from_db()
    assert decision.verified
    assert request.status == Status.IN_PROGRESS
    assert request.clock_started_on == date(2026, 3, 2)


def test_details_that_keep_failing_lead_to_a_document_request(customer, settings, mailoutbox):
    settings.DSAR_MAX_DETAIL_ATTEMPTS = 2
    request = confirmed_request(identifiers={})
    identity_services.verification_add_details(request=request, identifiers={"phone": "0111 111 1111"})
    decision = identity_services.verification_add_details(request=request, identifiers={"phone": "0222 222 2222"})
    request.refresh_from_db()
    assert decision.step == VerificationStep.DOCUMENT
    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION
    assert "upload one document" in mailoutbox[-1].body


# --- Evidence reviewed by staff ----------------------------------------------------------------


def test_verified_evidence_restarts_the_uk_clock_from_the_day_the_evidence_arrived():
    request = document_asked_request(received_on=date(2026, 3, 2), email="stranger@example.com")
    _upload(request)
    RequestDocument.objects.filter(request=request).update(uploaded_at=timezone.now() - timedelta(days=2))
    identity_services.verification_decide(
        request=request, actor=_reviewer(), outcome="verified", document_kind="passport"
    )
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.clock_started_on == timezone.localdate() - timedelta(days=2)
    check = EvidenceCheck.objects.get(request=request)
    assert str(check).startswith("passport checked by J. Smith on ")


def test_in_the_eu_the_wait_for_evidence_is_added_to_the_deadline_instead():
    organisation = organisation_get()
    organisation.jurisdiction = "IE"
    organisation.save()
    request = document_asked_request(email="stranger@example.com")
    IdentityVerification.objects.filter(request=request).update()
    request.clock_paused_on = timezone.localdate() - timedelta(days=5)
    request.save(update_fields=["clock_paused_on"])
    original_start = request.clock_started_on
    _upload(request)
    identity_services.verification_decide(
        request=request, actor=_reviewer(), outcome="verified", document_kind="utility bill"
    )
    request.refresh_from_db()
    assert request.clock_started_on == original_start
    assert request.paused_days == 5


def test_more_evidence_needed_tells_the_person_what_and_why(mailoutbox):
    request = document_asked_request(email="stranger@example.com")
    _upload(request)
    identity_services.verification_decide(
        request=request,
        actor=_reviewer(),
        outcome="more_needed",
        document_kind="bank statement",
        message="The statement is for another address. Please send one showing the address you gave us.",
    )
    request.refresh_from_db()
    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION
    assert "another address" in mailoutbox[-1].body


def test_failed_verification_refuses_with_reasons_sent_to_the_person(mailoutbox):
    request = document_asked_request(email="stranger@example.com")
    _upload(request)
    identity_services.verification_decide(
        request=request,
        actor=_reviewer(),
        outcome="failed",
        document_kind="passport",
        message="The name on the passport does not match the name on the request.",
    )
    request.refresh_from_db()
    assert request.status == Status.REFUSED
    assert request.refusal_ground == RefusalGround.IDENTITY_NOT_VERIFIED
    assert "does not match the name" in mailoutbox[-1].body


def test_staff_without_the_permission_cannot_decide():
    request = document_asked_request(email="stranger@example.com")
    with pytest.raises(PermissionError):
        identity_services.verification_decide(
            request=request, actor=StaffUserFactory(), outcome="verified", document_kind="passport"
        )


# --- Deletion of evidence after the decision ---------------------------------------------------------


def test_evidence_is_deleted_after_the_retention_period_keeping_only_the_record(settings):
    request = document_asked_request(email="stranger@example.com")
    document = _upload(request)
    path = settings.PRIVATE_UPLOAD_DIR / "documents" / document.storage_key
    assert path.exists()
    assert b"\x89PNG" not in path.read_bytes()  # encrypted at rest
    identity_services.verification_decide(
        request=request, actor=_reviewer(), outcome="verified", document_kind="passport"
    )
    retention = timedelta(hours=policy_get().evidence_retention_hours)

    assert identity_services.evidence_purge(now=timezone.now() + retention - timedelta(minutes=5)) == 0
    assert path.exists()

    assert identity_services.evidence_purge(now=timezone.now() + retention + timedelta(minutes=5)) == 1
    assert not path.exists()
    document.refresh_from_db()
    assert document.deleted_at is not None
    assert request.events.filter(kind=EventKind.DOCUMENT_DELETED).count() == 1
    check = EvidenceCheck.objects.get(request=request)
    assert check.evidence_deleted_at is not None and check.checked_by_name == "J. Smith"
    # Running again deletes nothing more and does not fail.
    assert identity_services.evidence_purge(now=timezone.now() + retention * 2) == 0


# --- Time-outs ----------------------------------------------------------------------------------------


def test_unanswered_identity_requests_are_reminded_then_closed(mailoutbox):
    request = document_asked_request(email="stranger@example.com")
    policy = policy_get()
    asked = request.identity_verification.asked_at
    reminder_time = asked + timedelta(days=policy.response_timeout_days - policy.reminder_days_before_timeout + 1)
    assert identity_services.verification_timeouts_sweep(now=reminder_time) == (1, 0)
    assert identity_services.verification_timeouts_sweep(now=reminder_time) == (0, 0)
    assert str(MessageKind.IDENTITY_REMINDER.label) in mailoutbox[-1].subject

    assert identity_services.verification_timeouts_sweep(
        now=asked + timedelta(days=policy.response_timeout_days + 1)
    ) == (0, 1)
    request.refresh_from_db()
    assert request.status == Status.REFUSED
    assert request.refusal_ground == RefusalGround.IDENTITY_NOT_VERIFIED


# --- Staff pages: least privilege and an audit trail of every view --------------------------------


def test_viewing_evidence_needs_the_permission_and_every_view_is_recorded(client):
    request = document_asked_request(email="stranger@example.com")
    document = _upload(request)
    url = reverse("casework:evidence_document", args=[request.reference, document.storage_key.removesuffix(".bin")])

    assert client.get(url).status_code == 302  # anonymous: to the login page

    client.force_login(_reviewer("decide_verification"))
    assert client.get(url).status_code == 403

    client.force_login(_reviewer("decide_verification", "view_evidence"))
    give_second_factor(client)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert response["Cache-Control"] == "no-store"
    assert request.events.filter(kind=EventKind.DOCUMENT_VIEWED).count() == 1


def test_a_reviewer_who_may_not_see_documents_cannot_record_one_as_checked():
    """Deciding identity without the permission to view evidence: no "verified: passport checked" in their name."""
    request = document_asked_request(email="stranger@example.com")
    _upload(request)
    blind = _reviewer("decide_verification")

    for outcome, message in (("verified", ""), ("more_needed", "A clearer copy, please."), ("failed", "Expired.")):
        with pytest.raises(PermissionError, match="needs the permission to view identity documents"):
            identity_services.verification_decide(
                request=request, actor=blind, outcome=outcome, document_kind="passport", message=message
            )
    request.refresh_from_db()
    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION
    assert not EvidenceCheck.objects.filter(request=request).exists()

    # Asking for more without naming a document is still theirs to do, and records no document check.
    identity_services.verification_decide(
        request=request, actor=blind, outcome="more_needed", message="Please send a photo ID."
    )
    assert not EvidenceCheck.objects.filter(request=request).exists()
    assert request.identity_verification.request_to_requester


def test_the_case_page_does_not_offer_verified_to_a_reviewer_who_may_not_see_documents(client):
    request = document_asked_request(email="stranger@example.com")
    _upload(request)
    client.force_login(_reviewer("decide_verification"))
    url = reverse("casework:request_detail", args=[request.reference])

    page = client.get(url).content.decode()
    assert 'value="verified"' not in page
    assert 'name="document_kind"' not in page
    assert "Recording a document as checked needs the permission to view evidence" in page

    decide = reverse("casework:verification_decide", args=[request.reference])
    forced = client.post(decide, {"outcome": "verified", "document_kind": "passport"})
    assert forced.status_code == 400
    request.refresh_from_db()
    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION
    assert not EvidenceCheck.objects.filter(request=request).exists()

    client.force_login(_reviewer())
    assert 'value="verified"' in client.get(url).content.decode()


def test_staff_decide_through_the_case_page(client):
    request = document_asked_request(email="stranger@example.com")
    _upload(request)
    client.force_login(_reviewer())
    queue = client.get(reverse("casework:queue"), {"awaiting_verification": "on"})
    assert request.reference in queue.content.decode()

    url = reverse("casework:verification_decide", args=[request.reference])
    missing_kind = client.post(url, {"outcome": "verified"})
    assert missing_kind.status_code == 400
    assert "Say what document you checked" in missing_kind.content.decode()

    client.post(url, {"outcome": "verified", "document_kind": "driving licence"})
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS


def test_the_requester_gives_one_more_detail_on_the_status_page(client, customer):
    response = client.post(
        reverse("requests_app:request_create", args=["access"]),
        {
            "requester_role": "data_subject",
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "access_scope": "all",
            "access_format": "report",
        },
    )
    status_url = response["Location"]
    from requests_app.models import DataSubjectRequest

    request = DataSubjectRequest.objects.get()
    code = email_code_issue(request=request)
    client.post(status_url + "confirm-email/", {"code": code})
    request.refresh_from_db()
    assert request.identity_verification.step == VerificationStep.MORE_DETAILS
    page = client.get(status_url).content.decode()
    # UK: the clock restarts when identity is confirmed, so no date is promised yet.
    assert "One month from the day we have what we need to confirm your identity" in page
    assert "please give us details we hold about you" in page

    empty = client.post(status_url + "more-details/", {})
    assert empty.status_code == 400
    client.post(status_url + "more-details/", {"phone": "+44 7700 900001"})
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.due_on.strftime("%-d %B %Y") in client.get(status_url).content.decode()


def test_the_uk_receipt_does_not_promise_a_date_the_identity_check_will_move(mailoutbox):
    document_asked_request(email="stranger@example.com")
    receipt = next(m for m in mailoutbox if str(MessageKind.RECEIPT.label) in m.subject)
    assert "starts on the day we have what we need from you" in receipt.body
    assert "at the latest by" not in receipt.body


def test_a_receipt_without_identity_checks_gives_the_due_date(mailoutbox):
    request = confirmed_request(right=Right.OBJECTION, details={"objection_type": "direct_marketing"})
    receipt = next(m for m in mailoutbox if str(MessageKind.RECEIPT.label) in m.subject)
    assert f"as soon as we can, and at the latest by {request.due_on.day} " in receipt.body


def test_a_question_to_the_data_subject_that_could_not_be_sent_is_in_the_requests_trail():
    """Retries spent on the e-mail asking the subject about their agent: staff see it in the audit trail."""
    from identity import tasks as identity_tasks
    from identity.models import SubjectConfirmation
    from requests_app.models import EventKind, RequestEvent

    request = submitted_request(email="agent@example.com")
    confirmation = SubjectConfirmation.objects.create(
        request=request, subject_email="subject@example.com", token_hash="pending-x"
    )
    identity_tasks.send_subject_confirmation.on_failure(OSError("x"), "task-id", (confirmation.pk,), {}, None)

    failed = RequestEvent.objects.get(request=request, kind=EventKind.MESSAGE_FAILED)
    assert "Question to the data subject" in failed.reason
    assert "subject@example.com" not in failed.reason
