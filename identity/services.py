"""Proving who a requester is: e-mail possession, matching our records, evidence checked by staff.

Each method answers one question at one assurance level; the policy says
which level a request needs. Outcomes drive the request's lifecycle through
requests_app.services, never by setting a status here.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from requests_app.models import DataSubjectRequest, DocumentPurpose, RequestDocument, RequesterRole

from . import policy as identity_policy
from .methods import MethodOutcome, VerificationMethod, method_for_step, registered_methods
from .models import (
    AssuranceLevel,
    EmailConfirmation,
    EvidenceCheck,
    IdentityVerification,
    VerificationStatus,
    VerificationStep,
)
from .tokens import CodeCheck, new_code, one_time_code_check, secret_hash

logger = logging.getLogger(__name__)

CODE_PURPOSE = "email-confirmation"


class VerificationError(Exception):
    """A verification rule refuses what was asked; the message is safe to show staff."""


# --- Possession of the e-mail address (methods.email_possession) ---------------------------------------------


def email_code_issue(*, request: DataSubjectRequest) -> str:
    """Issue a fresh confirmation code for ``request`` and return it (to be e-mailed, never stored)."""
    code = new_code()
    now = timezone.now()
    with transaction.atomic():
        EmailConfirmation.objects.filter(request=request, used_at=None, retired_at=None).update(retired_at=now)
        EmailConfirmation.objects.create(
            request=request,
            code_hash=secret_hash(code, purpose=CODE_PURPOSE),
            expires_at=now + timedelta(minutes=settings.DSAR_EMAIL_CODE_TTL_MINUTES),
        )
    return code


def email_code_check(*, request: DataSubjectRequest, code: str) -> CodeCheck:
    """Check a code the person typed against the live code for ``request``."""
    return one_time_code_check(
        EmailConfirmation.objects.filter(request=request),
        code,
        purpose=CODE_PURPOSE,
        max_attempts=settings.DSAR_EMAIL_CODE_MAX_ATTEMPTS,
    )


def email_code_resend_allowed(*, request: DataSubjectRequest) -> bool:
    """Throttle resends so a code cannot be requested in a tight loop."""
    latest = EmailConfirmation.objects.filter(request=request).order_by("-created_at").first()
    if latest is None:
        return True
    wait = timedelta(seconds=settings.DSAR_EMAIL_CODE_RESEND_SECONDS)
    return timezone.now() - latest.created_at >= wait


# --- The demo organisation's customer records (for the demo records matcher) ----------------------


def demo_customer_save(*, customer_number: str, name: str, email: str, phone: str = "", postcode: str = ""):
    """Create or update a demo customer; only keyed hashes of the matching details are kept."""
    from dsar_portal.crypto import email_lookup_hash

    from .matching import phone_hash, postcode_hash
    from .models import DemoCustomer

    customer, _created = DemoCustomer.objects.update_or_create(
        customer_number=customer_number,
        defaults={
            "name": name,
            "email_hash": email_lookup_hash(email),
            "phone_hash": phone_hash(phone),
            "postcode_hash": postcode_hash(postcode),
        },
    )
    return customer


# --- Deciding what a request needs ------------------------------------------------------------


@dataclass(frozen=True)
class VerificationDecision:
    verified: bool
    step: str = VerificationStep.NONE
    # What we tell the person: what to send and why (empty when verified).
    explanation: str = ""
    summary: str = ""  # for the audit trail


def verification_start(*, request: DataSubjectRequest) -> VerificationDecision:
    """Try the methods the policy allows, weakest first, once the e-mail address is confirmed.

    The first method that verifies wins; the first that needs the person says
    what to ask them for.
    """
    required = identity_policy.required_level(request)
    agent_details = request.details.get("agent") or {}
    verification, _created = IdentityVerification.objects.get_or_create(
        request=request,
        defaults={
            "required_level": required,
            "child_maturity_review": agent_details.get("relationship") == "parent"
            or agent_details.get("authority_type") == "parental_responsibility",
        },
    )
    for method in registered_methods():
        if method.level < required:
            continue
        result = method.attempt(request, verification)
        if result.outcome is MethodOutcome.VERIFIED:
            return _mark_verified(verification, method.level, method=method.key, summary=result.summary)
        if result.outcome is MethodOutcome.ASK:
            return _ask(verification, method)
    raise VerificationError("No verification method can satisfy the policy; check DSAR_VERIFICATION_METHODS.")


def _mark_verified(
    verification: IdentityVerification, level: int, *, method: str, summary: str, actor=None
) -> VerificationDecision:
    verification.achieved_level = level
    verification.status = VerificationStatus.VERIFIED
    verification.step = VerificationStep.NONE
    verification.method = method
    verification.decided_at = timezone.now()
    verification.decided_by = actor
    verification.save()
    return VerificationDecision(verified=True, summary=summary)


def _ask(verification: IdentityVerification, method: VerificationMethod) -> VerificationDecision:
    explanation = method.explanation(verification.request)
    step = method.step
    verification.step = step
    verification.status = VerificationStatus.PENDING
    verification.request_to_requester = explanation
    verification.asked_at = verification.asked_at or timezone.now()
    verification.save()
    return VerificationDecision(verified=False, step=step, explanation=explanation, summary=str(step))


def verification_get(*, request: DataSubjectRequest) -> IdentityVerification | None:
    return IdentityVerification.objects.filter(request=request).first()


# --- One more detail, matched against our records (methods.records_match) -----------------------------------


def verification_add_details(*, request: DataSubjectRequest, identifiers: dict[str, str]) -> VerificationDecision:
    """The person gave one more detail. A match verifies them; after a few misses we ask for a document."""
    from requests_app import services as request_services

    with transaction.atomic():
        verification = IdentityVerification.objects.select_for_update().get(request=request)
        if verification.step != VerificationStep.MORE_DETAILS or verification.status != VerificationStatus.PENDING:
            raise VerificationError(_("We are not asking for more details on this request."))
        verification.detail_attempts += 1
        method = method_for_step(VerificationStep.MORE_DETAILS)
        result = method.attempt(request, verification, identifiers=identifiers)
        if result.outcome is MethodOutcome.VERIFIED:
            decision = _mark_verified(verification, method.level, method=method.key, summary=result.summary)
            request_services.request_identity_verified(
                request=request, actor=None, evidence_received_on=timezone.localdate(), note=decision.summary
            )
            return decision
        if verification.detail_attempts >= settings.DSAR_MAX_DETAIL_ATTEMPTS:
            decision = _ask(verification, method_for_step(VerificationStep.DOCUMENT))
            request_services.request_identity_more_needed(request=request, actor=None, explanation=decision.explanation)
            return decision
        verification.save()
        return VerificationDecision(
            verified=False,
            step=VerificationStep.MORE_DETAILS,
            explanation=verification.request_to_requester,
            summary=result.summary,
        )


# --- Evidence reviewed by staff (methods.staff_evidence) -----------------------------------------------------------


def evidence_received(*, request: DataSubjectRequest) -> None:
    IdentityVerification.objects.filter(request=request).exclude(status=VerificationStatus.VERIFIED).update(
        status=VerificationStatus.EVIDENCE_RECEIVED, updated_at=timezone.now()
    )


def _evidence_documents(request: DataSubjectRequest):
    return RequestDocument.objects.filter(
        request=request,
        purpose__in=[DocumentPurpose.IDENTITY_EVIDENCE, DocumentPurpose.AUTHORITY],
        deleted_at=None,
    )


def _staff_name(actor: AbstractBaseUser) -> str:
    full = actor.get_full_name() if hasattr(actor, "get_full_name") else ""
    if full:
        first, _sep, last = full.partition(" ")
        return f"{first[:1]}. {last}" if last else full
    return actor.get_username()


def verification_decide(
    *,
    request: DataSubjectRequest,
    actor: AbstractBaseUser,
    outcome: str,
    document_kind: str = "",
    message: str = "",
    response_to_agent: bool = False,
) -> IdentityVerification:
    """Staff decide on the evidence: verified, more needed (with a message), or failed (with reasons)."""
    from requests_app import services as request_services

    if not actor.has_perm("identity.decide_verification"):
        raise PermissionError("not allowed to decide verification")
    with transaction.atomic():
        verification = IdentityVerification.objects.select_for_update().get(request=request)
        if verification.status in (VerificationStatus.VERIFIED, VerificationStatus.FAILED):
            raise VerificationError(_("This verification has already been decided."))
        documents = list(_evidence_documents(request))
        if outcome == VerificationStatus.VERIFIED:
            if not documents and verification.required_level >= AssuranceLevel.EVIDENCE:
                raise VerificationError(_("There is no document to check yet."))
            if not document_kind.strip():
                raise VerificationError(_("Say what document you checked, e.g. 'passport'."))
            subject_answer = _subject_answer(request)
            if subject_answer == "pending":
                raise VerificationError(
                    _("We are waiting for the data subject to confirm that this agent acts for them.")
                )
            received_on = timezone.localdate(max(d.uploaded_at for d in documents)) if documents else None
            verification.response_to_agent = response_to_agent and request.requester_role == RequesterRole.AGENT
            _record_check(request, actor, document_kind, VerificationStatus.VERIFIED)
            _mark_verified(verification, AssuranceLevel.EVIDENCE, method="evidence", summary=document_kind, actor=actor)
            request_services.request_identity_verified(
                request=request,
                actor=actor,
                evidence_received_on=received_on,
                note=_("%(kind)s checked") % {"kind": document_kind},
            )
        elif outcome == "more_needed":
            if not message.strip():
                raise VerificationError(_("Tell the person what else you need and why."))
            if documents:
                _record_check(request, actor, document_kind or _("document"), "more_needed")
            verification.status = VerificationStatus.PENDING
            verification.step = VerificationStep.DOCUMENT
            verification.request_to_requester = message.strip()
            verification.save()
            request_services.request_identity_more_needed(request=request, actor=actor, explanation=message.strip())
        elif outcome == VerificationStatus.FAILED:
            if not message.strip():
                raise VerificationError(_("Give the reasons, which we send to the person."))
            if documents:
                _record_check(request, actor, document_kind or _("document"), VerificationStatus.FAILED)
            verification.status = VerificationStatus.FAILED
            verification.decided_at = timezone.now()
            verification.decided_by = actor
            verification.save()
            request_services.request_refuse(
                request=request, actor=actor, ground="identity_not_verified", reasons=message.strip()
            )
        else:
            raise VerificationError(_("Unknown outcome."))
    # Deletion after the retention period is done by the periodic purge (beat,
    # or run_scheduled_jobs), not a day-long countdown: Redis would redeliver it.
    return verification


def _subject_answer(request: DataSubjectRequest) -> str | None:
    from agents.models import SubjectConfirmation

    confirmation = SubjectConfirmation.objects.filter(request=request).first()
    return confirmation.answer if confirmation else None


def _record_check(request: DataSubjectRequest, actor: AbstractBaseUser, kind: str, outcome: str) -> EvidenceCheck:
    return EvidenceCheck.objects.create(
        request=request,
        document_kind=kind.strip()[:100],
        outcome=outcome,
        checked_by=actor,
        checked_by_name=_staff_name(actor),
    )


def evidence_purge(*, now=None, request_id: int | None = None) -> int:
    """Delete evidence files whose decision is older than the retention period; keep the check record.

    Runs from beat every 15 minutes (or run_scheduled_jobs); safe to run any number of times.
    """
    from requests_app import documents as document_store
    from requests_app import services as request_services

    now = now or timezone.now()
    hours = identity_policy.policy_get().evidence_retention_hours
    decided_before = now - timedelta(hours=hours)
    checks = EvidenceCheck.objects.filter(checked_at__lte=decided_before)
    if request_id is not None:
        checks = checks.filter(request_id=request_id)
    request_ids = set(checks.values_list("request_id", flat=True))
    deleted = 0
    for rid in request_ids:
        latest_check = EvidenceCheck.objects.filter(request_id=rid).order_by("-checked_at").first()
        with transaction.atomic():
            documents = RequestDocument.objects.select_for_update().filter(
                request_id=rid,
                purpose__in=[DocumentPurpose.IDENTITY_EVIDENCE, DocumentPurpose.AUTHORITY],
                deleted_at=None,
                uploaded_at__lte=latest_check.checked_at,
            )
            for document in documents:
                document_store.document_erase_file(document)
                document.deleted_at = now
                document.save(update_fields=["deleted_at"])
                request_services.record_evidence_deleted(document=document)
                deleted += 1
            EvidenceCheck.objects.filter(request_id=rid, evidence_deleted_at=None).update(evidence_deleted_at=now)
    if deleted:
        logger.info("deleted %s evidence documents", deleted)
    return deleted


# --- Time-outs ------------------------------------------------------------------------------------


def verification_timeouts_sweep(*, now=None) -> tuple[int, int]:
    """Remind, then close, requests whose identity evidence never came. Returns (reminded, closed)."""
    from requests_app import services as request_services
    from requests_app.models import Status

    now = now or timezone.now()
    policy = identity_policy.policy_get()
    timeout = timedelta(days=policy.response_timeout_days)
    remind_at = timeout - timedelta(days=policy.reminder_days_before_timeout)
    waiting = IdentityVerification.objects.filter(
        status=VerificationStatus.PENDING,
        asked_at__isnull=False,
        request__status=Status.AWAITING_IDENTITY_VERIFICATION,
    )
    closed = reminded = 0
    for verification_id in waiting.filter(asked_at__lte=now - timeout).values_list("pk", flat=True):
        with transaction.atomic():
            verification = IdentityVerification.objects.select_for_update().get(pk=verification_id)
            if verification.status != VerificationStatus.PENDING:
                continue
            verification.status = VerificationStatus.TIMED_OUT
            verification.decided_at = now
            verification.save()
            request_services.request_refuse(
                request=verification.request,
                actor=None,
                ground="identity_not_verified",
                reasons=_(
                    "We asked you on %(date)s for what we need to confirm your identity and did not receive it "
                    "within %(days)s days, so we cannot act on this request. You are welcome to make a new request."
                )
                % {"date": timezone.localdate(verification.asked_at).strftime("%d %B %Y"), "days": timeout.days},
            )
            closed += 1
    for verification_id in waiting.filter(
        asked_at__lte=now - remind_at, asked_at__gt=now - timeout, reminder_sent_at=None
    ).values_list("pk", flat=True):
        with transaction.atomic():
            verification = IdentityVerification.objects.select_for_update().get(pk=verification_id)
            if verification.reminder_sent_at or verification.status != VerificationStatus.PENDING:
                continue
            verification.reminder_sent_at = now
            verification.save(update_fields=["reminder_sent_at", "updated_at"])
            request_services.request_identity_reminder(
                request=verification.request,
                explanation=verification.request_to_requester,
                closes_on=timezone.localdate(verification.asked_at + timeout),
            )
            reminded += 1
    return reminded, closed
