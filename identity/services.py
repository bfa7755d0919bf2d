"""Proving who a requester is, and on what authority an agent acts.

E-mail possession, matching our records, evidence checked by staff, and the data subject's own answer to an agent.
Each method answers one question at one assurance level; the policy says which level a request needs. Identity
drives the case through the request core's public operations (``requests_app.services``), never by setting a
request's status here; flows that must commit together with a move of the request (confirming the e-mail address
and starting the checks, an upload of evidence, a decision) are written here, the highest app they touch.

Two lifecycles live here, each a table of allowed moves behind ``requests_app.lifecycle``'s guarded setter: the
identity verification (``VERIFICATION_LIFECYCLE``) and the subject's answer to an agent (``SUBJECT_ANSWER``).
"""

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from dsar_portal import filestore
from dsar_portal.crypto import email_lookup_hash
from dsar_portal.onetime import CodeCheck, new_link_token, secret_hash
from dsar_portal.text import NAME_MAX_LENGTH, name_for_email
from organisation.selectors import organisation_get
from requests_app import services as request_services
from requests_app.audit import DATA_SUBJECT, REQUESTER, SYSTEM, actor_kind_of, event_record
from requests_app.lifecycle import IllegalTransition, Lifecycle
from requests_app.locks import request_lock
from requests_app.models import (
    DataSubjectRequest,
    DocumentPurpose,
    EventKind,
    RefusalGround,
    RequestDocument,
    RequesterRole,
    Status,
)
from requests_app.scope import agent_authority_of

from . import policy as identity_policy
from . import tasks
from .matching import MatchStrength, get_matcher, phone_hash, postcode_hash
from .methods import MethodOutcome, VerificationMethod, method_for_step, registered_methods
from .models import (
    AssuranceLevel,
    ChildCompetence,
    DemoCustomer,
    EvidenceCheck,
    IdentityVerification,
    SubjectConfirmation,
    VerificationStatus,
    VerificationStep,
)

logger = logging.getLogger(__name__)

SUBJECT_LINK_PURPOSE = "subject-confirmation"
# An agent is named to the subject as "<full name> of <organisation>", each part at most NAME_MAX_LENGTH.
AGENT_NAME_MAX_LENGTH = 2 * NAME_MAX_LENGTH + len(" of ")

VERIFICATION_LIFECYCLE = Lifecycle(
    name="identity verification",
    model=IdentityVerification,
    transitions={
        VerificationStatus.PENDING: frozenset(
            {
                VerificationStatus.EVIDENCE_RECEIVED,
                VerificationStatus.VERIFIED,
                VerificationStatus.FAILED,
                VerificationStatus.TIMED_OUT,
            }
        ),
        # Staff may ask for more (back to pending), verify or fail; a decided check is never reopened: a failed or
        # timed-out check ends the request, and the person makes a new one.
        VerificationStatus.EVIDENCE_RECEIVED: frozenset(
            {VerificationStatus.PENDING, VerificationStatus.VERIFIED, VerificationStatus.FAILED}
        ),
        VerificationStatus.VERIFIED: frozenset(),
        VerificationStatus.FAILED: frozenset(),
        VerificationStatus.TIMED_OUT: frozenset(),
    },
    event_kind=EventKind.IDENTITY_STATUS_CHANGED,
)

SUBJECT_ANSWER = Lifecycle(
    name="subject's answer",
    model=SubjectConfirmation,
    field="answer",
    transitions={
        SubjectConfirmation.Answer.PENDING: frozenset(
            {SubjectConfirmation.Answer.CONFIRMED, SubjectConfirmation.Answer.DENIED}
        ),
        SubjectConfirmation.Answer.CONFIRMED: frozenset(),
        SubjectConfirmation.Answer.DENIED: frozenset(),
    },
    event_kind={
        SubjectConfirmation.Answer.CONFIRMED: EventKind.SUBJECT_CONFIRMED_AGENT,
        SubjectConfirmation.Answer.DENIED: EventKind.SUBJECT_DENIED_AGENT,
    },
)


class VerificationError(Exception):
    """A verification rule refuses what was asked; the message is safe to show the person acting."""


def _moved_on_meanwhile(request: DataSubjectRequest) -> VerificationError:
    return VerificationError(request_services.moved_on_meanwhile_message(request))


def verification_methods_check() -> None:
    """Fail at start-up, with a message for the operator, if DSAR_VERIFICATION_METHODS cannot be used."""
    try:
        methods = registered_methods()
    except (ImportError, AttributeError, TypeError) as error:
        raise ImproperlyConfigured(f"DSAR_VERIFICATION_METHODS: {error}") from error
    if not methods:
        raise ImproperlyConfigured("DSAR_VERIFICATION_METHODS lists no verification method.")
    if not any(method.level >= AssuranceLevel.EVIDENCE for method in methods):
        raise ImproperlyConfigured(
            "DSAR_VERIFICATION_METHODS has no method at the evidence level, so a request that needs a document "
            "could never be verified."
        )
    for step in (VerificationStep.MORE_DETAILS, VerificationStep.DOCUMENT):
        if step == VerificationStep.MORE_DETAILS and not any(m.step == step for m in methods):
            continue
        method_for_step(step)


# --- Confirming the e-mail address, then the checks (methods.email_possession and the rest) -------------


def request_confirm_email(*, request: DataSubjectRequest, code: str, today: date | None = None) -> CodeCheck:
    """Check the code; on success start the identity checks and move the request on, in one transaction.

    A verified requester's request goes to work; otherwise the clock stops from ``today`` while we wait for what
    we ask (UK GDPR Art. 12(6); the clock itself in ``requests_app.clock``).
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        result = request_services.request_email_confirm(request=request, code=code)
        if result is not CodeCheck.CONFIRMED:
            return result
        request_identity_begin(request=request, today=today)
    return result


def request_identity_begin(*, request: DataSubjectRequest, today: date) -> "VerificationDecision":
    """Start the identity checks of a request whose address is confirmed (or that is answered by post) and move
    it on: a verified requester's request goes to work; otherwise the clock stops from ``today`` while we wait
    for what we ask (UK GDPR Art. 12(6)). The caller holds the transaction."""
    decision = verification_start(request=request)
    if decision.verified:
        request_services.request_work_begin(request=request, reason=decision.summary)
    else:
        # UK GDPR Art. 12(6): the doubt is recorded where the records could not settle who is asking: their
        # address is not in our records (we ask for other identifiers, then a document), or a document is asked
        # for. One more detail after a partial match (the confirmed address is ours) records none, so the UK
        # clock is then suspended, not restarted (LAW.md D4).
        verification = verification_get(request=request)
        not_in_records = verification is not None and verification.records_match == MatchStrength.NONE.value
        doubt = decision.explanation if decision.step == VerificationStep.DOCUMENT or not_in_records else ""
        request_services.request_identity_check_begin(
            request=request,
            reason=decision.summary,
            on=today,
            explanation=decision.explanation,
            reasonable_doubt=doubt,
        )
    return decision


# --- The demo organisation's customer records (for the demo records matcher) ----------------------


def demo_customer_save(*, customer_number: str, name: str, email: str, phone: str = "", postcode: str = ""):
    """Create or update a demo customer: keyed hashes of the matching details, and the contact address encrypted
    (where the customer is asked about an agent; LAW.md I3)."""
    customer, _created = DemoCustomer.objects.update_or_create(
        customer_number=customer_number,
        defaults={
            "name": name,
            "contact_email": email.strip(),
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

    The first method that verifies wins; the first that needs the person says what to ask them for. Only what is
    necessary and proportionate is asked (EDPB Guidelines 01/2022; UK GDPR Art. 12(6)).
    """
    required = identity_policy.required_level(request)
    authority = agent_authority_of(request)
    verification, _created = IdentityVerification.objects.get_or_create(
        request=request,
        defaults={
            "required_level": required,
            "child_maturity_review": authority is not None and authority.for_a_child,
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
    # verification_methods_check refuses such a list at start-up; this is the last guard.
    raise ImproperlyConfigured("No verification method can satisfy the policy; check DSAR_VERIFICATION_METHODS.")


def _mark_verified(
    verification: IdentityVerification, level: int, *, method: str, summary: str, actor=None
) -> VerificationDecision:
    VERIFICATION_LIFECYCLE.move(
        verification,
        VerificationStatus.VERIFIED,
        actor=actor,
        actor_kind=actor_kind_of(actor),
        reason=summary,
        changes={
            "achieved_level": level,
            "step": VerificationStep.NONE,
            "method": method,
            "decided_at": timezone.now(),
            "decided_by": actor if actor is not None and actor.is_authenticated else None,
            "records_match": verification.records_match,
        },
    )
    return VerificationDecision(verified=True, summary=summary)


def identity_message_dated(explanation: str, *, asked_at, timeout_days: int | None = None) -> str:
    """The words of an identity message with its date and the date by which we need an answer (LAW.md I5).

    The wait is counted from this, the latest, request for information (UK GDPR Art. 12(6); the ICO: a person told
    on day 28 that their document is not enough gets the full period again).
    """
    days = timeout_days if timeout_days is not None else identity_policy.policy_get().response_timeout_days
    asked_on = timezone.localdate(asked_at)
    return _(
        "%(explanation)s\n\nWe asked for this on %(asked)s. If we have not heard from you by %(closes)s, we will "
        "have to close the request."
    ) % {
        "explanation": explanation,
        "asked": asked_on.strftime("%d %B %Y"),
        "closes": (asked_on + timedelta(days=days)).strftime("%d %B %Y"),
    }


def _ask_for(
    verification: IdentityVerification,
    *,
    step: str,
    explanation: str,
    actor=None,
    actor_kind: str = SYSTEM,
    document_reason: str = "",
) -> str:
    """Ask the person for ``step``: back to pending (a guarded move) if evidence had arrived, else just the ask.

    Every ask restarts the wait (``asked_at``; LAW.md I5) and clears the reminder; a document is asked only with a
    recorded reason, kept with the check (Art. 12(6) "reasonable doubts"; LAW.md I1). Returns the dated message.
    """
    if step == VerificationStep.DOCUMENT and not (document_reason or verification.document_reason):
        raise VerificationError(_("Record why a document is needed before asking for one."))
    now = timezone.now()
    changes = {
        "step": step,
        "request_to_requester": explanation,
        "asked_at": now,
        "reminder_sent_at": None,
        "records_match": verification.records_match,
        "document_reason": document_reason or verification.document_reason,
    }
    if verification.status == VerificationStatus.PENDING:
        request_lock(verification.request_id)
        IdentityVerification.objects.select_for_update().filter(pk=verification.pk).update(
            **changes, updated_at=timezone.now()
        )
        for name, value in changes.items():
            setattr(verification, name, value)
    else:
        VERIFICATION_LIFECYCLE.move(
            verification,
            VerificationStatus.PENDING,
            actor=actor,
            actor_kind=actor_kind,
            reason=str(VerificationStep(step).label),
            changes=changes,
        )
    return identity_message_dated(explanation, asked_at=now)


def _ask(verification: IdentityVerification, method: VerificationMethod) -> VerificationDecision:
    explanation = method.explanation(verification.request)
    reason = method.reason(verification.request, verification) if hasattr(method, "reason") else ""
    dated = _ask_for(verification, step=method.step, explanation=explanation, document_reason=reason)
    return VerificationDecision(verified=False, step=method.step, explanation=dated, summary=str(method.step))


def verification_document_ask(
    *, request: DataSubjectRequest, actor: AbstractBaseUser, reason: str
) -> IdentityVerification:
    """Staff ask for a document instead of more identifiers, with the reason recorded (Art. 12(6) "reasonable
    doubts"; EDPB Guidelines 01/2022 §3: a document only where strictly necessary; LAW.md I1)."""
    if not actor.has_perm("identity.decide_verification"):
        raise PermissionError("not allowed to decide verification")
    if not reason.strip():
        raise VerificationError(_("Record why a document is needed."))
    with transaction.atomic():
        locked_request = request_lock(request.pk)
        verification = IdentityVerification.objects.select_for_update().get(request=locked_request)
        if locked_request.status != Status.AWAITING_IDENTITY_VERIFICATION:
            raise _moved_on_meanwhile(locked_request)
        if verification.status not in (VerificationStatus.PENDING, VerificationStatus.EVIDENCE_RECEIVED):
            raise VerificationError(_("This verification has already been decided."))
        method = method_for_step(VerificationStep.DOCUMENT)
        dated = _ask_for(
            verification,
            step=VerificationStep.DOCUMENT,
            explanation=method.explanation(locked_request),
            actor=actor,
            actor_kind=actor_kind_of(actor),
            document_reason=reason.strip(),
        )
        request_services.request_identity_more_needed(request=locked_request, actor=actor, explanation=dated)
    return verification


def verification_get(*, request: DataSubjectRequest) -> IdentityVerification | None:
    return IdentityVerification.objects.filter(request=request).first()


# --- One more detail, matched against our records (methods.records_match) -----------------------------------


def verification_add_details(*, request: DataSubjectRequest, identifiers: dict[str, str]) -> VerificationDecision:
    """The person gave one more detail. A match verifies them; after a few misses we ask for a document."""
    with transaction.atomic():
        request_lock(request.pk)
        verification = IdentityVerification.objects.select_for_update().get(request=request)
        if verification.step != VerificationStep.MORE_DETAILS or verification.status != VerificationStatus.PENDING:
            raise VerificationError(_("We are not asking for more details on this request."))
        verification.detail_attempts += 1
        verification.save(update_fields=["detail_attempts", "updated_at"])
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
        if verification.records_match:
            verification.save(update_fields=["records_match", "updated_at"])
        return VerificationDecision(
            verified=False,
            step=VerificationStep.MORE_DETAILS,
            explanation=verification.request_to_requester,
            summary=result.summary,
        )


# --- Evidence: sent by the person, reviewed by staff (methods.staff_evidence) ----------------------------------


def evidence_received(*, verification: IdentityVerification, actor_kind: str = REQUESTER) -> None:
    """A document arrived: the check waits for staff. Nothing changes once the check is verified."""
    if verification.status in (VerificationStatus.VERIFIED, VerificationStatus.EVIDENCE_RECEIVED):
        return
    VERIFICATION_LIFECYCLE.move(
        verification,
        VerificationStatus.EVIDENCE_RECEIVED,
        actor_kind=actor_kind,
        reason=_("Document received"),
    )


def request_evidence_upload(*, request: DataSubjectRequest, document, purpose: str) -> RequestDocument:
    """A document the person sends when we have asked for one (identity or authority).

    Accepted only while the current step of the identity check asks for a document (EDPB Guidelines 01/2022: we
    collect evidence only when it is necessary), until staff decide: a second page sent while the first waits for
    review (the back of an ID card) is kept with it, within the per-request caps of ``request_document_store``
    and the upload rate limits. Locks the request, then its verification (the lock order of
    ``requests_app.locks``); a rollback leaves no file behind (``filestore.atomic``).
    """
    with filestore.atomic():
        locked = request_lock(request.pk)
        if locked.status != Status.AWAITING_IDENTITY_VERIFICATION:
            raise VerificationError(_("We have not asked for a document on this request."))
        verification = IdentityVerification.objects.select_for_update().filter(request=locked).first()
        if verification is not None and verification.status in (
            VerificationStatus.FAILED,
            VerificationStatus.TIMED_OUT,
        ):
            raise VerificationError(_("This identity check has already been decided; please make a new request."))
        if (
            verification is None
            or verification.step != VerificationStep.DOCUMENT
            or verification.status not in (VerificationStatus.PENDING, VerificationStatus.EVIDENCE_RECEIVED)
        ):
            raise VerificationError(_("We have not asked for a document on this request."))
        try:
            stored = request_services.request_document_store(request=locked, upload=document, purpose=purpose)
        except request_services.RequestError as error:  # too many documents on this request
            raise VerificationError(str(error)) from error
        evidence_received(verification=verification)
        return stored


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


MORE_NEEDED = "more_needed"


def verification_decide(
    *,
    request: DataSubjectRequest,
    actor: AbstractBaseUser,
    outcome: str,
    document_kind: str = "",
    message: str = "",
    response_to_agent: bool = False,
    authority_sufficient_reason: str = "",
    child_competence: str = "",
    child_competence_reason: str = "",
) -> IdentityVerification:
    """Staff decide on the evidence: verified, more needed (with a message), or failed (with reasons).

    Locks the request first, then its verification (``requests_app.locks``). A decision on a request that moved
    on meanwhile (withdrawn a second ago, say) is refused with a message saying so.

    Recording a document check ("verified: passport checked", or more needed / failed naming a document) needs the
    permission to see the documents: the check record outlives the document (it is the evidence of the decision,
    Art. 5(2) accountability), so only someone who could have looked may sign it. Without that permission a
    reviewer may still ask for more or refuse, and no document check is recorded in their name.

    The data subject's answer about an agent is a supplementary signal, never a bar (LAW.md I3): while it is
    pending, staff may verify once ``DSAR_SUBJECT_ANSWER_WAIT_DAYS`` have passed since it was asked, or at once
    with a recorded judgement that the authority is sufficient (``authority_sufficient_reason``, audited).

    For a parent acting for a child, verification needs staff's recorded decision on the child's competence and
    best interests (ICO guidance on children's rights; DPA 2018 s.208 in Scotland; LAW.md I4). The response is
    then routed per authority type (``response_recipient``).
    """
    if not actor.has_perm("identity.decide_verification"):
        raise PermissionError("not allowed to decide verification")
    can_check_documents = actor.has_perm("identity.view_evidence")
    if not can_check_documents and (outcome == VerificationStatus.VERIFIED or document_kind.strip()):
        raise PermissionError(_("Recording a document check needs the permission to view identity documents."))
    with transaction.atomic():
        locked_request = request_lock(request.pk)
        verification = IdentityVerification.objects.select_for_update().get(request=locked_request)
        if locked_request.status != Status.AWAITING_IDENTITY_VERIFICATION:
            raise _moved_on_meanwhile(locked_request)
        if verification.status in (VerificationStatus.VERIFIED, VerificationStatus.FAILED):
            raise VerificationError(_("This verification has already been decided."))
        documents = list(_evidence_documents(request))
        if outcome == VerificationStatus.VERIFIED:
            if not documents and verification.required_level >= AssuranceLevel.EVIDENCE:
                raise VerificationError(_("There is no document to check yet."))
            if not document_kind.strip():
                raise VerificationError(_("Say what document you checked, e.g. 'passport'."))
            _subject_answer_check(request, verification, actor, authority_sufficient_reason)
            _child_competence_record(verification, actor, child_competence, child_competence_reason)
            received_on = timezone.localdate(max(d.uploaded_at for d in documents)) if documents else None
            if request.requester_role == RequesterRole.AGENT:
                _response_route(locked_request, verification, actor, letter_says_agent=response_to_agent)
            _record_check(request, actor, document_kind, VerificationStatus.VERIFIED)
            _mark_verified(verification, AssuranceLevel.EVIDENCE, method="evidence", summary=document_kind, actor=actor)
            request_services.request_identity_verified(
                request=request,
                actor=actor,
                evidence_received_on=received_on,
                note=_("%(kind)s checked") % {"kind": document_kind},
            )
        elif outcome == MORE_NEEDED:
            if not message.strip():
                raise VerificationError(_("Tell the person what else you need and why."))
            if documents and can_check_documents:
                _record_check(request, actor, document_kind or _("document"), MORE_NEEDED)
            dated = _ask_for(
                verification,
                step=VerificationStep.DOCUMENT,
                explanation=message.strip(),
                actor=actor,
                actor_kind=actor_kind_of(actor),
                document_reason=verification.document_reason or message.strip(),
            )
            request_services.request_identity_more_needed(request=request, actor=actor, explanation=dated)
        elif outcome == VerificationStatus.FAILED:
            if not message.strip():
                raise VerificationError(_("Give the reasons, which we send to the person."))
            if documents and can_check_documents:
                _record_check(request, actor, document_kind or _("document"), VerificationStatus.FAILED)
            VERIFICATION_LIFECYCLE.move(
                verification,
                VerificationStatus.FAILED,
                actor=actor,
                actor_kind=actor_kind_of(actor),
                reason=message.strip(),
                changes={"decided_at": timezone.now(), "decided_by": actor},
            )
            request_services.request_refuse(
                request=request, actor=actor, ground=RefusalGround.IDENTITY_NOT_VERIFIED, reasons=message.strip()
            )
        else:
            raise VerificationError(_("Unknown outcome."))
    # Deletion after the retention period is done by the periodic purge (beat,
    # or run_scheduled_jobs), not a day-long countdown: Redis would redeliver it.
    return verification


def _subject_answer_check(
    request: DataSubjectRequest, verification: IdentityVerification, actor, sufficient_reason: str
) -> None:
    """Refuse to verify on a pending answer only within the wait, and without a recorded judgement (LAW.md I3)."""
    confirmation = SubjectConfirmation.objects.filter(request=request).first()
    if confirmation is None or confirmation.answer != SubjectConfirmation.Answer.PENDING:
        return
    if sufficient_reason.strip():
        verification.authority_sufficient_reason = sufficient_reason.strip()
        verification.save(update_fields=["authority_sufficient_reason", "updated_at"])
        event_record(
            request_id=request.pk,
            kind=EventKind.IDENTITY_JUDGEMENT,
            actor=actor,
            actor_kind=actor_kind_of(actor),
            reason=_("Authority judged sufficient without the data subject's answer: %(reason)s")
            % {"reason": sufficient_reason.strip()},
        )
        return
    asked = confirmation.sent_at or confirmation.created_at
    if timezone.now() - asked >= timedelta(days=settings.DSAR_SUBJECT_ANSWER_WAIT_DAYS):
        return
    raise VerificationError(
        _(
            "We are waiting for the data subject to confirm that this agent acts for them. You may go on after "
            "%(days)s days without an answer, or now if you record why the authority is sufficient."
        )
        % {"days": settings.DSAR_SUBJECT_ANSWER_WAIT_DAYS}
    )


def _child_competence_record(verification: IdentityVerification, actor, competence: str, reason: str) -> None:
    """A parent's request for a child verifies only with staff's decision on competence and best interests."""
    if not verification.child_maturity_review:
        return
    if competence not in ChildCompetence.values or not reason.strip():
        raise VerificationError(
            _(
                "Record your decision on the child's competence and best interests, with your reasons, before "
                "verifying (%(presumption)s)."
            )
            % {"presumption": child_presumption(verification)}
        )
    verification.child_competence = competence
    verification.child_competence_reason = reason.strip()
    verification.save(update_fields=["child_competence", "child_competence_reason", "updated_at"])
    event_record(
        request_id=verification.request_id,
        kind=EventKind.IDENTITY_JUDGEMENT,
        actor=actor,
        actor_kind=actor_kind_of(actor),
        reason=f"{ChildCompetence(competence).label}: {reason.strip()}",
    )


SCOTTISH_COMPETENCE_AGE = 12


def child_age_on(verification: IdentityVerification, on: date | None = None) -> int | None:
    """The child's age as the agent stated it (from the date of birth when given)."""
    if verification.child_birth_date:
        on = on or timezone.localdate()
        born = verification.child_birth_date
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return verification.child_age


def child_presumption(verification: IdentityVerification) -> str:
    """What the law presumes about the child, for the staff page (DPA 2018 s.208; ICO guidance elsewhere)."""
    age = child_age_on(verification)
    if verification.child_in_scotland and age is not None and age >= SCOTTISH_COMPETENCE_AGE:
        return _("the child lives in Scotland and is 12 or over, so is presumed competent (DPA 2018 s.208)")
    if verification.child_in_scotland:
        return _("the child lives in Scotland; from 12 a child is presumed competent (DPA 2018 s.208)")
    return _("outside Scotland there is no fixed age: judge the child's maturity (ICO guidance)")


def verification_child_record(
    *, request: DataSubjectRequest, birth_date: date | None, age: int | None, in_scotland: bool | None
) -> None:
    """Keep what the agent stated about the child with the check (LAW.md I4)."""
    IdentityVerification.objects.filter(request=request).update(
        child_birth_date=birth_date,
        child_age=age,
        child_in_scotland=in_scotland,
        child_maturity_review=True,
        updated_at=timezone.now(),
    )


# Who receives the response, per authority type (LAW.md I3; ICO guidance on requests made on behalf of others: an
# attorney, deputy, guardian or holder of a court order acts because the person cannot; a letter of authority
# says what the agent may receive).
AGENT_RECEIVES = frozenset(
    {
        "power_of_attorney",
        "power_of_attorney_scotland",
        "power_of_attorney_ni",
        "deputyship",
        "guardianship_scotland",
        "court_order",
    }
)


def response_recipient(*, authority_type: str, child_competence: str = "", letter_says_agent: bool = False) -> str:
    """``"requester"`` (the agent) or ``"subject"``: who receives our messages and the response."""
    if authority_type in AGENT_RECEIVES:
        return "requester"
    if authority_type == "parental_responsibility":
        if child_competence == ChildCompetence.COMPETENT_RESPOND_TO_CHILD:
            return "subject"
        return "requester"
    # A letter of authority: as the letter says, else the data subject when in doubt.
    return "requester" if letter_says_agent else "subject"


def _response_route(
    request: DataSubjectRequest, verification: IdentityVerification, actor, *, letter_says_agent: bool
) -> None:
    authority = agent_authority_of(request)
    recipient = response_recipient(
        authority_type=authority.authority_type if authority else "",
        child_competence=verification.child_competence,
        letter_says_agent=letter_says_agent,
    )
    subject_email = ""
    if recipient == "subject":
        subject_email = get_matcher().held_email(identifiers=request.identifiers or {})
        if not subject_email:
            raise VerificationError(
                _(
                    "The response would go to the data subject, but we hold no address for them. Tick that the "
                    "authority covers sending it to the agent, or find the subject's details first."
                )
            )
    verification.response_to_agent = recipient == "requester"
    verification.save(update_fields=["response_to_agent", "updated_at"])
    request_services.request_respond_to_set(
        request=request,
        respond_to=recipient,
        subject_email=subject_email,
        actor=actor,
        reason=str(authority.authority_type if authority else ""),
    )


def _subject_answer(request: DataSubjectRequest) -> str | None:
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
    """Delete identity and authority evidence once its purpose is spent and the retention period has passed.

    Evidence is kept no longer than needed to check it (EDPB Guidelines 01/2022 §3; Art. 5(1)(c) and (e); LAW.md
    I2 and §6(h)). Its purpose is spent, and the retention period (``evidence_retention_hours``) starts:

    - at a staff check, for the documents sent before it (a "more needed" check too: the next document is judged
      on its own);
    - at the decision of the verification (verified, failed, timed out), for every document, including those sent
      after the last check;
    - at any end of the request (completed, refused, withdrawn, closed; a refusal after the subject denied the
      agent included), for every document.

    Only the record of the check survives ("passport checked by J. Smith"). Runs from beat every 15 minutes (or
    run_scheduled_jobs); safe to run any number of times.
    """
    now = now or timezone.now()
    hours = identity_policy.policy_get().evidence_retention_hours
    cutoff = now - timedelta(hours=hours)
    evidence = RequestDocument.objects.filter(
        purpose__in=[DocumentPurpose.IDENTITY_EVIDENCE, DocumentPurpose.AUTHORITY], deleted_at=None
    )
    if request_id is not None:
        evidence = evidence.filter(request_id=request_id)
    ended = {
        VerificationStatus.VERIFIED,
        VerificationStatus.FAILED,
        VerificationStatus.TIMED_OUT,
    }
    deleted = 0
    for rid in set(evidence.values_list("request_id", flat=True)):
        request = DataSubjectRequest.objects.filter(pk=rid).only("pk", "closed_at").first()
        verification = IdentityVerification.objects.filter(request_id=rid).only("status", "decided_at").first()
        spent_at = None  # when every document of the request lost its purpose
        if request is not None and request.closed_at is not None:
            spent_at = request.closed_at
        if verification is not None and verification.status in ended and verification.decided_at is not None:
            spent_at = min(spent_at, verification.decided_at) if spent_at else verification.decided_at
        latest_check = (
            EvidenceCheck.objects.filter(request_id=rid, checked_at__lte=cutoff).order_by("-checked_at").first()
        )
        with transaction.atomic():
            documents = evidence.filter(request_id=rid)
            if spent_at is None or spent_at > cutoff:
                if latest_check is None:
                    continue
                documents = documents.filter(uploaded_at__lte=latest_check.checked_at)
            for document in documents:
                if request_services.request_document_delete(document=document, on=now):
                    deleted += 1
            EvidenceCheck.objects.filter(request_id=rid, evidence_deleted_at=None, checked_at__lte=cutoff).update(
                evidence_deleted_at=now
            )
    if deleted:
        logger.info("deleted %s evidence documents", deleted)
    return deleted


# --- Time-outs ------------------------------------------------------------------------------------


def verification_timeouts_sweep(*, now=None) -> tuple[int, int]:
    """Remind, then close, requests whose identity evidence never came. Returns (reminded, closed)."""
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
    for verification_id, rid in waiting.filter(asked_at__lte=now - timeout).values_list("pk", "request_id"):
        with transaction.atomic():
            request_lock(rid)
            verification = IdentityVerification.objects.select_for_update().get(pk=verification_id)
            if verification.status != VerificationStatus.PENDING:
                continue
            VERIFICATION_LIFECYCLE.move(
                verification,
                VerificationStatus.TIMED_OUT,
                actor_kind=SYSTEM,
                changes={"decided_at": now},
            )
            try:
                request_services.request_refuse(
                    request=verification.request,
                    actor=None,
                    ground=RefusalGround.IDENTITY_NOT_VERIFIED,
                    reasons=_(
                        "We asked you on %(date)s for what we need to confirm your identity and did not receive it "
                        "within %(days)s days, so we cannot act on this request. You are welcome to make a new "
                        "request."
                    )
                    % {"date": timezone.localdate(verification.asked_at).strftime("%d %B %Y"), "days": timeout.days},
                    on=timezone.localdate(now),
                )
            except request_services.RequestError:
                continue
            closed += 1
    for verification_id, rid in waiting.filter(
        asked_at__lte=now - remind_at, asked_at__gt=now - timeout, reminder_sent_at=None
    ).values_list("pk", "request_id"):
        with transaction.atomic():
            request_lock(rid)
            verification = IdentityVerification.objects.select_for_update().get(pk=verification_id)
            if verification.reminder_sent_at or verification.status != VerificationStatus.PENDING:
                continue
            verification.reminder_sent_at = now
            verification.save(update_fields=["reminder_sent_at", "updated_at"])
            request_services.request_identity_reminder(
                request=verification.request,
                explanation=identity_message_dated(
                    verification.request_to_requester, asked_at=verification.asked_at, timeout_days=timeout.days
                ),
                closes_on=timezone.localdate(verification.asked_at + timeout),
            )
            reminded += 1
    return reminded, closed


# --- The data subject's answer to an agent ----------------------------------------------------------


def subject_confirmation_create(*, request: DataSubjectRequest, agent_name: str) -> SubjectConfirmation | None:
    """Ask the data subject whether the agent acts for them; the e-mail goes after the commit.

    Only to the address the organisation already holds for the subject (the records matcher's ``held_email``),
    never one the agent typed: a mistyped or malicious address would disclose the subject's relationship with us,
    and an agent could confirm themselves (Art. 5(1)(f), Art. 32; LAW.md I3). None when we hold no address: staff
    then judge the authority on the documents.
    """
    subject_email = get_matcher().held_email(identifiers=request.identifiers or {})
    if not subject_email:
        event_record(
            request_id=request.pk,
            kind=EventKind.IDENTITY_JUDGEMENT,
            actor_kind=SYSTEM,
            reason=_("We hold no contact address for the data subject: they were not asked about the agent"),
        )
        return None
    confirmation = SubjectConfirmation.objects.create(
        request=request,
        subject_email=subject_email.strip(),
        agent_name=agent_name,
        token_hash=f"pending-{request.pk}",
    )
    transaction.on_commit(lambda: tasks.send_subject_confirmation.delay(confirmation.pk))
    return confirmation


def subject_confirmation_deliver(*, confirmation_id: int) -> bool:
    """E-mail the data subject a link to confirm or deny the agent; a second run sends nothing."""
    with transaction.atomic():
        confirmation = (
            SubjectConfirmation.objects.select_for_update(of=("self",))
            .select_related("request")
            .filter(pk=confirmation_id, sent_at=None)
            .first()
        )
        if confirmation is None:
            return False
        token = new_link_token()
        confirmation.token_hash = secret_hash(token, purpose=SUBJECT_LINK_PURPOSE)
        confirmation.sent_at = timezone.now()
        confirmation.save(update_fields=["token_hash", "sent_at"])
        request = confirmation.request
        body = render_to_string(
            "identity/emails/subject_confirmation.txt",
            {
                "request": request,
                # The only words of the agent's in an e-mail to someone who never asked for it: plain, short names,
                # quoted as theirs (forms refuse worse; this also covers names stored before they did).
                "agent_name": name_for_email(
                    confirmation.agent_name or request.requester_name, max_length=AGENT_NAME_MAX_LENGTH
                ),
                "sent_on": timezone.localdate(confirmation.sent_at),
                "organisation": organisation_get(),
                "url": settings.DSAR_PUBLIC_URL + reverse("identity:subject_confirm", args=[token]),
            },
        )
        EmailMessage(
            subject=f"Is someone acting for you? ({request.reference})", body=body, to=[confirmation.subject_email]
        ).send()
    return True


def subject_confirmation_delivery_failed(*, confirmation_id: int, error: str) -> None:
    """The question to the data subject could not be e-mailed after every retry: say so in the request's trail
    (the error's type only: a mail server's message can name the address)."""
    confirmation = SubjectConfirmation.objects.filter(pk=confirmation_id, sent_at=None).first()
    if confirmation is None:
        return
    event_record(
        request_id=confirmation.request_id,
        kind=EventKind.MESSAGE_FAILED,
        actor_kind=SYSTEM,
        reason=f"{_('Question to the data subject about the agent')}: {error}",
    )
    logger.error("subject confirmation %s for request %s not sent: %s", confirmation_id, confirmation.request_id, error)


def subject_confirmation_for_token(*, token: str) -> SubjectConfirmation | None:
    return (
        SubjectConfirmation.objects.select_related("request")
        .filter(token_hash=secret_hash(token, purpose=SUBJECT_LINK_PURPOSE))
        .first()
    )


def subject_confirmation_answer(*, confirmation: SubjectConfirmation, confirmed: bool) -> SubjectConfirmation:
    """The subject confirms or denies. A denial stops the request at once and is recorded.

    A second click with the same answer changes nothing; a different answer after the first is refused.
    """
    answer = SubjectConfirmation.Answer.CONFIRMED if confirmed else SubjectConfirmation.Answer.DENIED
    with transaction.atomic():
        try:
            move = SUBJECT_ANSWER.move(
                confirmation, answer, actor_kind=DATA_SUBJECT, changes={"answered_at": timezone.now()}
            )
        except IllegalTransition:
            raise VerificationError(_("This question has already been answered.")) from None
        request = DataSubjectRequest.objects.get(pk=confirmation.request_id)
        if move.changed and not confirmed and request.is_open:
            request_services.request_refuse(
                request=request,
                actor=None,
                ground=RefusalGround.SUBJECT_DENIED_AGENT,
                reasons=_(
                    "The person this request is about told us that you do not act for them, so we have "
                    "stopped the request and will not disclose their information."
                ),
            )
    return confirmation
