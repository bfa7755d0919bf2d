"""Objections (GDPR Art. 21): direct marketing stopped at once, and the DPO's balancing decision on the others.

- Art. 21(2)-(3): an objection to direct marketing (and profiling related to it) is absolute. When such a request
  goes into progress, the engine starts a SUPPRESS_MARKETING run with no approval (``services.marketing_suppress``);
  when it is done the request is completed here (``marketing_run_finished``), which records ``suppressed_at`` and
  the MarketingSuppression entry and confirms it to the person. "Time to suppression" (receipt to the last system
  done) is measured against the internal target, the same or next working day of the request's jurisdiction
  (``suppression_timing``).
- Art. 21(1): processing on legitimate interests or a public task stops unless the controller *demonstrates*
  compelling legitimate grounds overriding the person's interests, or needs it for legal claims: the burden is on
  the controller, so a decision not to stop carries a substantive recorded reason. Art. 21(6): research and
  statistics stop unless necessary for a task carried out in the public interest. The decision is the DPO's
  (``changes.decide_objection``). While it is assessed, restriction is offered (Art. 18(1)(d),
  ``objection_restriction_offer``).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from datasystems.connectors.changes import ChangeKind
from datasystems.models import DataSystem
from requests_app import deadlines
from requests_app.audit import actor_kind_of, event_record
from requests_app.locks import request_lock
from requests_app.marketing import is_direct_marketing_objection
from requests_app.models import DataSubjectRequest, EventKind, Outcome, RefusalGround, Right, Status
from requests_app.scope import ObjectionType, scope_of
from requests_app.services import RequestError, request_complete, request_refuse

from .models import ChangeRun
from .models_decisions import (
    ObjectionDecision,
    ObjectionOutcome,
    Restriction,
    RestrictionGroundChoice,
    RestrictionStatus,
    on_ground,
)
from .restrictions import restriction_start, restrictions_end_of_ground
from .services import change_run_start

DECIDE = "changes.decide_objection"
# A decision not to stop the processing must demonstrate the grounds (Art. 21(1)): a reason of a few words cannot.
MIN_REASON_WORDS = 15

# What the DPO may decide for each kind of objection: Art. 21(1) weighs compelling grounds and legal claims;
# Art. 21(6) only asks whether the research is necessary for a public-interest task.
OUTCOMES_BY_TYPE = {
    ObjectionType.LEGITIMATE_INTERESTS: (
        ObjectionOutcome.UPHELD,
        ObjectionOutcome.COMPELLING_GROUNDS,
        ObjectionOutcome.LEGAL_CLAIMS,
    ),
    ObjectionType.RESEARCH_STATISTICS: (ObjectionOutcome.UPHELD, ObjectionOutcome.PUBLIC_INTEREST_RESEARCH),
}
REFUSAL_GROUND_OF = {
    ObjectionOutcome.COMPELLING_GROUNDS: RefusalGround.OBJECTION_COMPELLING_GROUNDS,
    ObjectionOutcome.LEGAL_CLAIMS: RefusalGround.OBJECTION_LEGAL_CLAIMS,
    ObjectionOutcome.PUBLIC_INTEREST_RESEARCH: RefusalGround.OBJECTION_PUBLIC_INTEREST_RESEARCH,
}
# An upheld objection may stop the processing in the systems by restricting the data or erasing it.
STOP_KINDS = (ChangeKind.RESTRICT, ChangeKind.ERASE)


class ObjectionError(Exception):
    """The objection cannot be decided or acted on as asked; the message is for staff."""


# --- Direct marketing (Art. 21(2)-(3)) --------------------------------------------------------------------------------


def _suppressed_at(run: ChangeRun):
    finished = [job.finished_at for job in run.jobs.all() if job.finished_at is not None]
    return max(finished) if finished else timezone.now()


def marketing_run_finished(*, run: ChangeRun) -> bool:
    """Every system stopped marketing: complete the request, recording when the last one was done as the time of
    suppression, and confirm it to the person (Art. 21(3); requests_app.services.request_complete). A run not fully
    done leaves the request open for staff to retry its failed systems. A run that reached no system (the register
    names none that markets) leaves it open too: staff check the register and complete it themselves, so a gap in
    the register is never confirmed to the person as a suppression. False when the request was not completed."""
    if run.status != "done" or not run.jobs.exists():
        return False
    request = DataSubjectRequest.objects.get(pk=run.request_id)
    if request.status != Status.IN_PROGRESS:
        return False
    # request_complete keeps a suppression time already set: the moment the last system stopped marketing.
    request.suppressed_at = request.suppressed_at or _suppressed_at(run)
    try:
        request_complete(
            request=request,
            actor=None,
            outcome=Outcome.FULFILLED,
            summary=_("We have stopped using your data for direct marketing in every system that markets."),
        )
    except RequestError:
        return False  # moved on meanwhile (withdrawn, completed by staff)
    return True


@dataclass(frozen=True)
class SuppressionTiming:
    target_on: date
    suppressed_on: date | None
    working_days: int | None
    # From receipt to the moment the last system stopped marketing (``requests_app`` ``time_to_suppression``).
    elapsed: timedelta | None = None

    @property
    def hours(self) -> float | None:
        """The time to suppression in hours, to one decimal; None while not done."""
        return None if self.elapsed is None else round(self.elapsed.total_seconds() / 3600, 1)

    @property
    def met(self) -> bool | None:
        """Whether suppression came on the same or next working day; None while not done."""
        return None if self.suppressed_on is None else self.suppressed_on <= self.target_on


def suppression_timing(request: DataSubjectRequest) -> SuppressionTiming:
    """Time to suppression against the same-or-next-working-day target of the request's jurisdiction (LAW.md
    §6(e); requests_app.deadlines.direct_marketing_target_date)."""
    suppressed_on = timezone.localdate(request.suppressed_at) if request.suppressed_at else None
    return SuppressionTiming(
        target_on=deadlines.direct_marketing_target_date(request.received_on, request.jurisdiction),
        suppressed_on=suppressed_on,
        working_days=request.working_days_to_suppression,
        elapsed=request.time_to_suppression,
    )


# --- Balancing decision (Art. 21(1), 21(6)) ---------------------------------------------------------------------------


def objection_assessable(request: DataSubjectRequest) -> bool:
    """An objection the DPO weighs: not direct marketing (that one is absolute)."""
    return request.right == Right.OBJECTION and not is_direct_marketing_objection(request)


def _restriction_refused(request: DataSubjectRequest) -> str | None:
    """Why restriction while the objection is assessed cannot be offered now (GDPR Art. 18(1)(d)), or None."""
    if not objection_assessable(request) or request.status != Status.IN_PROGRESS:
        return _("Restriction is offered only while an objection is being assessed.")
    if ObjectionDecision.objects.filter(request=request).exists():
        return _("The objection is decided already.")
    pending = Restriction.objects.filter(on_ground(RestrictionGroundChoice.OBJECTION_PENDING), request=request).exclude(
        status=RestrictionStatus.LIFTED
    )
    if pending.exists():
        return _("The processing is restricted already while the objection is assessed.")
    return None


def restriction_offerable(request: DataSubjectRequest) -> bool:
    """Whether restriction may be offered now: an objection being assessed, not yet decided, not restricted on
    ground (d) already (GDPR Art. 18(1)(d)). The case page shows the offer by the same rule the service applies."""
    return _restriction_refused(request) is None


def objection_restriction_offer(*, request: DataSubjectRequest, actor: AbstractBaseUser) -> Restriction:
    """Restrict the processing while the objection is assessed (GDPR Art. 18(1)(d)): a restriction on ground (d)
    and its RESTRICT run. Once per objection, and only before the decision."""
    refused = _restriction_refused(request)
    if refused is not None:
        raise ObjectionError(refused)
    return restriction_start(
        request=request,
        grounds=[RestrictionGroundChoice.OBJECTION_PENDING],
        scope=scope_of(request).processing,
        actor=actor,
    )


def objection_decide(
    *,
    request: DataSubjectRequest,
    actor: AbstractBaseUser,
    outcome: str,
    reasons: str,
    purposes: str = "",
    systems: Sequence[DataSystem] = (),
    stop_with: str = "",
) -> ObjectionDecision:
    """Record the DPO's balancing decision (GDPR Art. 21(1), 21(6)) and act on it.

    - Only the DPO decides (``changes.decide_objection``).
    - Upheld: the processing stops; the decision names the purposes or systems, and may start a RESTRICT or ERASE
      run in those systems. The request is completed once that run is done, or at once without one.
    - Not upheld: the controller must demonstrate its grounds (Art. 21(1)), so the reasons must be substantive
      (at least ``MIN_REASON_WORDS`` words); the person is refused on that ground with the reasons and told how
      to complain (Art. 12(4)). Art. 21(6) research objections can only be refused as necessary for a public task.
    - A restriction on ground (d) waiting for this decision is linked to it; on a refusal the person is told when it
      will be lifted (Art. 18(3)); an upheld objection keeps it in force.
    """
    if not actor.has_perm(DECIDE):
        raise ObjectionError(_("Only the data protection officer decides an objection."))
    if not objection_assessable(request):
        raise ObjectionError(_("This request is not an objection to weigh."))
    objection_type = scope_of(request).type
    if outcome not in OUTCOMES_BY_TYPE.get(objection_type, ()):
        raise ObjectionError(_("That outcome is not one the law gives for this kind of objection."))
    reasons = reasons.strip()
    if not reasons:
        raise ObjectionError(_("Record the reasons for the decision."))
    upheld = outcome == ObjectionOutcome.UPHELD
    if not upheld and len(reasons.split()) < MIN_REASON_WORDS:
        raise ObjectionError(
            _(
                "The burden is on us (GDPR Art. 21(1)): set out the grounds and how they override the person's "
                "interests, rights and freedoms, in at least %(words)s words."
            )
            % {"words": MIN_REASON_WORDS}
        )
    if upheld and not (purposes.strip() or systems):
        raise ObjectionError(_("Say which processing stops: the purposes, the systems, or both."))
    if stop_with and (not upheld or stop_with not in STOP_KINDS):
        raise ObjectionError(_("Only an upheld objection restricts or erases the data in the systems."))
    if stop_with and not systems:
        raise ObjectionError(_("Choose the systems in which the data is restricted or erased."))
    with transaction.atomic():
        locked = request_lock(request.pk)
        if locked.status != Status.IN_PROGRESS or ObjectionDecision.objects.filter(request=request).exists():
            raise ObjectionError(_("The objection was decided meanwhile, or is no longer in progress."))
        decision = ObjectionDecision.objects.create(
            request=request, outcome=outcome, reasons=reasons, purposes=purposes.strip(), decided_by=actor
        )
        decision.systems.set(systems)
        event_record(
            request_id=request.pk,
            kind=EventKind.OBJECTION_DECIDED,
            actor=actor,
            actor_kind=actor_kind_of(actor),
            reason=f"{ObjectionOutcome(outcome).label}. {reasons}",
        )
        Restriction.objects.filter(
            on_ground(RestrictionGroundChoice.OBJECTION_PENDING), request=request, objection_decision=None
        ).update(objection_decision=decision)
        if upheld and stop_with:
            decision.run = change_run_start(
                request=request, kind=stop_with, actor=actor, systems=list(systems), approved=True
            )
            decision.save(update_fields=["run"])
        elif upheld:
            request_complete(request=request, actor=actor, outcome=Outcome.FULFILLED, summary=_stopped(decision))
        else:
            try:
                request_refuse(request=request, actor=actor, ground=REFUSAL_GROUND_OF[outcome], reasons=reasons)
            except RequestError as error:
                raise ObjectionError(str(error)) from None
            restrictions_end_of_ground(
                request_id=request.pk,
                grounds=[RestrictionGroundChoice.OBJECTION_PENDING],
                reason=_("We have assessed your objection and decided that the processing continues: %(reasons)s")
                % {"reasons": reasons},
            )
    return decision


def _stopped(decision: ObjectionDecision) -> str:
    names = ", ".join(system.name for system in decision.systems.all())
    parts = [decision.purposes] if decision.purposes else []
    if names:
        parts.append(_("in these systems: %(names)s") % {"names": names})
    return _("We have stopped the processing you objected to: %(what)s.") % {"what": "; ".join(parts)}


def objection_run_finished(*, run: ChangeRun) -> bool:
    """The RESTRICT or ERASE run of an upheld objection is done: complete the request (Art. 21(1))."""
    if run.status != "done":
        return False
    decision = ObjectionDecision.objects.filter(run=run, outcome=ObjectionOutcome.UPHELD).first()
    if decision is None or decision.request.status != Status.IN_PROGRESS:
        return False
    try:
        request_complete(
            request=decision.request, actor=decision.decided_by, outcome=Outcome.FULFILLED, summary=_stopped(decision)
        )
    except RequestError:
        return False
    return True
