"""The retention schedule enforced, legal holds, and the DPO's edits (GDPR Art. 5(1)(e), 5(2); LAW.md §6(h)).

The deletion job (``retention_run``) deletes exactly what the schedule says and nothing else:

- a request closed with its e-mail never confirmed, ``RecordKind.UNCONFIRMED_REQUEST`` days after closure;
- a closed case file (completed, refused or withdrawn), ``RecordKind.CASE_FILE`` days after closure;
- an agent account not used for ``RecordKind.AGENT_ACCOUNT`` days, once the agent was e-mailed ``notice_days``
  before and did not sign in since (an account whose filings are still on record is kept with them);
- a closed complaint about no case, ``RecordKind.COMPLAINT`` days after it was closed.

A case under a legal hold, or with a complaint still open about it (UK DPA 2018 s.164A; the complaints app's own
rows are read, so nothing below has to tell this app), is never deleted. A complaint about a case is part of the
case file: the file's period runs from the later of the case's closure and the complaint's (from the complaint's,
the complaint period if that is longer), and the complaint is deleted with the case (its link is ``SET_NULL``, so
it is deleted first, explicitly). Deleting a case deletes the request's row and, through its foreign keys (all
``CASCADE``), everything hanging off it: events, messages, documents, status links, identity records,
compilations, releases, change runs; their encrypted files go from the file store once the deletion commits.
Before that, an anonymous ``ClosedCaseFigure`` keeps what the DPO's figures count. The marketing suppression list
is never touched (Art. 21(3): its entries hold the request id as a plain number).

Each case is deleted in its own short transaction, in batches of ``DSAR_RETENTION_BATCH_SIZE``, at most
``DSAR_RETENTION_RUN_LIMIT`` a run: a second run finds nothing more to do (idempotent), and a run that stops half
way leaves every case either whole or gone.
"""

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import DateTimeField, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.deletion import ProtectedError, RestrictedError
from django.db.models.functions import Coalesce, Greatest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Agent, AgentFiling
from complaints.models import Complaint, ComplaintEvent, ComplaintStatus
from fulfilment.models import Compilation, Release, SearchPart
from fulfilment.releases import RELEASES
from fulfilment.services import ARCHIVES, PARTS
from identity.models import IdentityVerification, VerificationStatus
from requests_app import documents
from requests_app.audit import STAFF, event_record
from requests_app.lifecycle import Lifecycle
from requests_app.locks import request_lock
from requests_app.models import DataSubjectRequest, EventKind, RequestDocument, Status

from .models import (
    AgentDeletionNotice,
    ClosedCaseFigure,
    HoldReason,
    HoldStatus,
    LegalHold,
    RecordKind,
    RetentionRule,
    RetentionRuleChange,
    RetentionRun,
)
from .schedule import Period, period_get, schedule_get
from .tasks import send_agent_deletion_notice

logger = logging.getLogger(__name__)

# The statuses of a closed case file (requests_app.workflow: the request was answered or withdrawn).
CASE_FILE_STATUSES = (Status.COMPLETED, Status.REFUSED, Status.WITHDRAWN)
STATUSES_OF_KIND = {
    RecordKind.UNCONFIRMED_REQUEST: (Status.CLOSED_UNCONFIRMED,),
    RecordKind.CASE_FILE: CASE_FILE_STATUSES,
}
# A complaint not yet answered or withdrawn keeps its case (UK DPA 2018 s.164A; LAW.md §6(h) "legal hold on
# complaints").
OPEN_COMPLAINT_STATUSES = (ComplaintStatus.RECEIVED, ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.INVESTIGATING)
# An answered or withdrawn complaint (s.164A(4)-(5)): its own period, or its case file's, runs from its closure.
CLOSED_COMPLAINT_STATUSES = (ComplaintStatus.RESOLVED, ComplaintStatus.WITHDRAWN)
# The statuses whose request was answered (casework.metrics.ANSWERED_STATUSES).
ANSWERED_STATUSES = (Status.COMPLETED, Status.REFUSED)


class RetentionError(Exception):
    """A schedule edit or a hold the rules refuse; the message says why, for the person who asked."""


# --- What is due -------------------------------------------------------------------------------------------------


def held_condition(request_ref: str = "pk") -> Q:
    """Requests under a legal hold or with an open complaint about them, the request's id read from
    ``request_ref`` (registered with requests_app.retention_holds for the sweeps below this app)."""
    return Q(
        Exists(LegalHold.objects.filter(request_id=OuterRef(request_ref), status=HoldStatus.HELD))
        | Exists(Complaint.objects.filter(request_id=OuterRef(request_ref), status__in=OPEN_COMPLAINT_STATUSES))
    )


def complaints_with_closure() -> QuerySet[Complaint]:
    """Closed complaints annotated with ``closure``: when they were answered or withdrawn (UK DPA 2018 s.164A(4)).

    Read from the complaint's append-only history (the step that closed it, which the complaint lifecycle writes
    for both endings; a withdrawal sets no field of its own), then its outcome's time, then its last change."""
    closing_step = ComplaintEvent.objects.filter(
        complaint_id=OuterRef("pk"), to_status__in=CLOSED_COMPLAINT_STATUSES
    ).order_by("-created_at", "-pk")
    return Complaint.objects.filter(status__in=CLOSED_COMPLAINT_STATUSES).annotate(
        closure=Coalesce(
            Subquery(closing_step.values("created_at")[:1]),
            F("resolved_at"),
            F("updated_at"),
            output_field=DateTimeField(),
        )
    )


def requests_past_period(
    kind: str, *, now: datetime, period: Period | None = None, complaint_period: Period | None = None
) -> QuerySet[DataSubjectRequest]:
    """Requests of ``kind`` whose period has run, held or not (Art. 5(1)(e)): closed at least the period before
    ``now``, and every complaint about them closed at least that long before ``now`` too (a complaint is part of
    the case file, LAW.md §6(g)-(h), so the file's period runs from the later closure), or the complaint period if
    longer (a complaint is never kept shorter for being about a case, UK DPA 2018 s.164A). An open complaint is a
    hold (``held_condition``), not part of this."""
    period = period or period_get(kind)
    complaint_period = complaint_period or period_get(RecordKind.COMPLAINT)
    cutoff = now - timedelta(days=period.days)
    complaint_cutoff = now - timedelta(days=max(period.days, complaint_period.days))
    complaint_closed_since = complaints_with_closure().filter(request_id=OuterRef("pk"), closure__gt=complaint_cutoff)
    return DataSubjectRequest.objects.filter(status__in=STATUSES_OF_KIND[kind], closed_at__lte=cutoff).exclude(
        Exists(complaint_closed_since)
    )


def requests_due(
    kind: str, *, now: datetime, period: Period | None = None, complaint_period: Period | None = None
) -> QuerySet[DataSubjectRequest]:
    """Requests of ``kind`` past their period and free to delete: no legal hold, no open complaint."""
    past = requests_past_period(kind, now=now, period=period, complaint_period=complaint_period)
    return past.exclude(held_condition())


def complaints_due(*, now: datetime, period: Period | None = None) -> QuerySet[Complaint]:
    """Closed complaints about no case, closed at least the complaint period before ``now`` (Art. 5(1)(e); UK DPA
    2018 s.164A). A complaint about a case is never due on its own: it goes with the case file."""
    period = period or period_get(RecordKind.COMPLAINT)
    return complaints_with_closure().filter(request__isnull=True, closure__lte=now - timedelta(days=period.days))


def hold_kept(request: DataSubjectRequest, holds: Iterable[LegalHold] | None = None) -> list[str]:
    """Why ``request`` is kept whatever its age: the reasons of its holds (``holds`` if already read), and an open
    complaint (for the case page)."""
    if holds is None:
        holds = LegalHold.objects.filter(request=request, status=HoldStatus.HELD)
    reasons = [hold.get_reason_display() for hold in holds if hold.status == HoldStatus.HELD]
    if Complaint.objects.filter(request=request, status__in=OPEN_COMPLAINT_STATUSES).exists():
        reasons.append(_("An open complaint about this request"))
    return reasons


@dataclass(frozen=True)
class CaseDeletion:
    on: date  # the first day the deletion job may delete the case, holds apart
    from_complaint: bool  # the day is counted from a complaint's closure, not the case's


def case_deletion_date(request: DataSubjectRequest) -> CaseDeletion | None:
    """When a closed case file's period ends (for the case page; Art. 5(1)(e)): its period from its closure, or from
    the latest closure of a complaint about it the longer of that and the complaint period (``requests_past_period``).
    None while the case is open."""
    kind = next((kind for kind, statuses in STATUSES_OF_KIND.items() if request.status in statuses), None)
    if kind is None or request.closed_at is None:
        return None
    schedule = schedule_get()
    period, complaint_period = schedule[kind], schedule[RecordKind.COMPLAINT]
    ends = request.closed_at + timedelta(days=period.days)
    last_closure = (
        complaints_with_closure().filter(request=request).order_by("-closure").values_list("closure", flat=True).first()
    )
    from_complaint = False
    if last_closure is not None:
        complaint_ends = last_closure + timedelta(days=max(period.days, complaint_period.days))
        if complaint_ends > ends:
            ends, from_complaint = complaint_ends, True
    return CaseDeletion(on=timezone.localdate(ends), from_complaint=from_complaint)


def _agents_with_last_use() -> QuerySet[Agent]:
    """Agents with ``last_use`` (their last sign-in, or the account's creation if they never signed in; filing a
    request needs a sign-in, so it is covered) and ``has_filings`` (requests of theirs still on record)."""
    return Agent.objects.annotate(
        last_use=Greatest(
            Coalesce("user__last_login", "created_at", output_field=DateTimeField()),
            "created_at",
            output_field=DateTimeField(),
        ),
        has_filings=Exists(AgentFiling.objects.filter(agent_id=OuterRef("pk"))),
    )


def agents_to_notify(*, now: datetime, period: Period | None = None) -> QuerySet[Agent]:
    """Unused agent accounts that reach their period within the notice time and have not been told since their
    last use (a sign-in after a notice makes it stale)."""
    period = period or period_get(RecordKind.AGENT_ACCOUNT)
    notice_from = now - timedelta(days=period.days - (period.notice_days or 0))
    current_notice = AgentDeletionNotice.objects.filter(agent_id=OuterRef("pk"), created_at__gte=OuterRef("last_use"))
    return _agents_with_last_use().filter(last_use__lte=notice_from, has_filings=False).exclude(Exists(current_notice))


def agents_due(*, now: datetime, period: Period | None = None) -> QuerySet[Agent]:
    """Agent accounts to delete: unused for the period, told at least the notice time ago, unused since."""
    period = period or period_get(RecordKind.AGENT_ACCOUNT)
    told = AgentDeletionNotice.objects.filter(
        agent_id=OuterRef("pk"),
        sent_at__isnull=False,
        created_at__gte=OuterRef("last_use"),
        delete_after__lte=now,
    )
    return _agents_with_last_use().filter(
        Exists(told), last_use__lte=now - timedelta(days=period.days), has_filings=False
    )


@dataclass(frozen=True)
class DueCount:
    due: int
    kept: int


def counts_due(*, now: datetime) -> dict[str, DueCount]:
    """For each kind of the schedule: how many are due for deletion now, and how many past their period are kept
    by a legal hold or an open complaint (agents: kept = told and waiting for the notice time)."""
    schedule = schedule_get()
    counts = {}
    for kind in (RecordKind.UNCONFIRMED_REQUEST, RecordKind.CASE_FILE):
        periods = {"period": schedule[kind], "complaint_period": schedule[RecordKind.COMPLAINT]}
        past = requests_past_period(kind, now=now, **periods).count()
        due = requests_due(kind, now=now, **periods).count()
        counts[kind.value] = DueCount(due=due, kept=past - due)
    agent_period = schedule[RecordKind.AGENT_ACCOUNT]
    counts[RecordKind.AGENT_ACCOUNT.value] = DueCount(
        due=agents_due(now=now, period=agent_period).count(),
        kept=AgentDeletionNotice.objects.filter(delete_after__gt=now).count(),
    )
    counts[RecordKind.COMPLAINT.value] = DueCount(
        due=complaints_due(now=now, period=schedule[RecordKind.COMPLAINT]).count(), kept=0
    )
    return counts


# --- Deleting a case ---------------------------------------------------------------------------------------------


def _month(day: date) -> date:
    return day.replace(day=1)


def closed_case_figure_for(request: DataSubjectRequest) -> ClosedCaseFigure:
    """The anonymous figures of ``request`` that casework.metrics counts (unsaved): months, flags and durations
    computed exactly as the metrics compute them from a live request, so totals do not move when it is deleted."""
    closed_day = timezone.localdate(request.closed_at)
    figure = ClosedCaseFigure(
        right=request.right,
        jurisdiction=request.jurisdiction,
        channel=request.channel,
        status=request.status,
        outcome=request.outcome,
        refusal_ground=request.refusal_ground,
        received_month=_month(request.received_on),
        closed_month=_month(closed_day),
        answered_late=request.answered_late,
        extension_used=request.extension_months > 0,
        fee_asked=request.fee_requested_on is not None,
    )
    if request.status in ANSWERED_STATUSES:
        answered_day = request.answered_on or closed_day
        figure.answered_month = _month(answered_day)
        figure.answered_in_time = answered_day <= request.due_on
        figure.days_to_answer = (answered_day - request.received_on).days
    verification = (
        IdentityVerification.objects.filter(
            request=request,
            status__in=(VerificationStatus.VERIFIED, VerificationStatus.FAILED),
            decided_at__isnull=False,
        )
        .only("decided_at")
        .first()
    )
    if verification is not None:
        figure.verified_month = _month(timezone.localdate(verification.decided_at))
        figure.hours_to_verify = (verification.decided_at - request.received_at).total_seconds() / 3600
    if request.suppressed_at is not None:
        figure.suppressed_month = _month(timezone.localdate(request.suppressed_at))
        figure.hours_to_suppression = (request.suppressed_at - request.received_at).total_seconds() / 3600
    return figure


def _files_of(request_id: int) -> list[tuple[object, str]]:
    """Every file in the file store that belongs to the request: (store, name) pairs."""
    files: list[tuple[object, str]] = []
    for key in RequestDocument.objects.filter(request_id=request_id, deleted_at=None).values_list(
        "storage_key", flat=True
    ):
        files.append((documents, key))
    for name in (
        Compilation.objects.filter(request_id=request_id)
        .exclude(archive_name="")
        .values_list("archive_name", flat=True)
    ):
        files.append((ARCHIVES, name))
    for csv_name, json_name in SearchPart.objects.filter(job__request_id=request_id).values_list(
        "csv_name", "json_name"
    ):
        files.extend((PARTS, name) for name in (csv_name, json_name) if name)
    for name in (
        Release.objects.filter(request_id=request_id).exclude(archive_name="").values_list("archive_name", flat=True)
    ):
        files.append((RELEASES, name))
    return files


def _files_delete(files: Iterable[tuple[object, str]]) -> None:
    for store, name in files:
        if store is documents:
            documents.document_erase_file(RequestDocument(storage_key=name))
        else:
            store.delete(name)


def case_delete(
    *,
    request_id: int,
    kind: str,
    now: datetime,
    period: Period | None = None,
    complaint_period: Period | None = None,
) -> str:
    """Delete one case that the schedule says is due, with its files, keeping its anonymous figures.

    Returns "deleted", or why not: "gone" (deleted meanwhile, or locked by another run), "kept" (no longer due: a
    hold placed or a complaint opened meanwhile, the check repeated under the row's lock), "blocked" (a row that
    protects it: the deletion rolls back and the case stays whole).
    """
    with transaction.atomic():
        request = DataSubjectRequest.objects.select_for_update(of=("self",), skip_locked=True).filter(pk=request_id)
        request = request.first()
        if request is None:
            return "gone"
        due = requests_due(kind, now=now, period=period, complaint_period=complaint_period)
        if not due.filter(pk=request_id).exists():
            return "kept"
        figure = closed_case_figure_for(request)
        files = _files_of(request_id)
        try:
            with transaction.atomic():
                # The complaints about the case are part of its file (LAW.md §6(g)-(h)); their link is SET_NULL,
                # so they would otherwise outlive it, unlinked, with nothing to delete them on time.
                Complaint.objects.filter(request_id=request_id).delete()
                request.delete()
        except (ProtectedError, RestrictedError) as error:
            logger.warning("retention: request %s not deleted, a %s row protects it", request_id, type(error).__name__)
            return "blocked"
        figure.save()
        transaction.on_commit(lambda: _files_delete(files))
    return "deleted"


def complaint_delete(*, complaint_id: int, now: datetime, period: Period | None = None) -> bool:
    """Delete one closed complaint about no case that is past its period, with its history and its notices
    (Art. 5(1)(e); UK DPA 2018 s.164A). The check is repeated under the row's lock: a complaint linked or reopened
    meanwhile is kept. Returns whether it was deleted."""
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update(skip_locked=True).filter(pk=complaint_id).first()
        if complaint is None or not complaints_due(now=now, period=period).filter(pk=complaint_id).exists():
            return False
        complaint.delete()
    return True


# --- Agent accounts ----------------------------------------------------------------------------------------------


def agent_notice_make(*, agent_id: int, now: datetime, period: Period) -> AgentDeletionNotice | None:
    """Record that ``agent_id`` is to be told its account will be deleted, and send the e-mail after commit."""
    with transaction.atomic():
        agent = Agent.objects.select_for_update().filter(pk=agent_id).first()
        if agent is None or not agents_to_notify(now=now, period=period).filter(pk=agent_id).exists():
            return None
        last_use = _agents_with_last_use().get(pk=agent_id).last_use
        delete_after = max(now + timedelta(days=period.notice_days or 0), last_use + timedelta(days=period.days))
        notice, _created = AgentDeletionNotice.objects.update_or_create(
            agent=agent, defaults={"created_at": now, "sent_at": None, "delete_after": delete_after}
        )
        transaction.on_commit(lambda: send_agent_deletion_notice.delay(notice.pk))
    return notice


def agent_notice_deliver(*, notice_id: int) -> bool:
    """E-mail the notice and mark it sent in the same transaction: a second run sends nothing (LAW.md §6(h))."""
    with transaction.atomic():
        notice = (
            AgentDeletionNotice.objects.select_for_update(of=("self",))
            .select_related("agent")
            .filter(pk=notice_id, sent_at=None)
            .first()
        )
        if notice is None:
            return False
        body = render_to_string(
            "retention/emails/agent_deletion_notice.txt",
            {"delete_after": timezone.localdate(notice.delete_after), "public_url": settings.DSAR_PUBLIC_URL},
        )
        EmailMessage(subject=_("Your agent account will be deleted"), body=body, to=[notice.agent.email]).send()
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
    return True


def agent_delete(*, agent_id: int, now: datetime, period: Period) -> bool:
    """Delete an unused agent account that was told and did not sign in since (its login and codes with it)."""
    with transaction.atomic():
        agent = Agent.objects.select_for_update().select_related("user").filter(pk=agent_id).first()
        if agent is None or not agents_due(now=now, period=period).filter(pk=agent_id).exists():
            return False
        agent.user.delete()
    return True


# --- The run -----------------------------------------------------------------------------------------------------


def retention_run(*, now: datetime | None = None) -> RetentionRun:
    """Apply the whole schedule once (the daily job; LAW.md §6(h), Art. 5(1)(e)). Safe to run any number of times:
    what was deleted is gone, what is not due is left, a notice is sent once."""
    now = now or timezone.now()
    batch_size = settings.DSAR_RETENTION_BATCH_SIZE
    budget = settings.DSAR_RETENTION_RUN_LIMIT
    schedule = schedule_get()
    run = RetentionRun.objects.create(started_at=now)
    counts: Counter[str] = Counter()
    complaint_period = schedule[RecordKind.COMPLAINT]
    for kind in (RecordKind.UNCONFIRMED_REQUEST, RecordKind.CASE_FILE):
        period = schedule[kind]
        tried: set[int] = set()
        while budget > 0:
            due = requests_due(kind, now=now, period=period, complaint_period=complaint_period)
            due = due.exclude(pk__in=tried).order_by("closed_at", "pk")
            ids = list(due.values_list("pk", flat=True)[: min(batch_size, budget)])
            if not ids:
                break
            for request_id in ids:
                outcome = case_delete(
                    request_id=request_id, kind=kind, now=now, period=period, complaint_period=complaint_period
                )
                counts[kind.value if outcome == "deleted" else outcome] += 1
            tried.update(ids)
            budget -= len(ids)
        past = requests_past_period(kind, now=now, period=period, complaint_period=complaint_period)
        counts["held"] += past.filter(held_condition()).count()
    tried = set()
    while budget > 0:
        due = complaints_due(now=now, period=complaint_period).exclude(pk__in=tried).order_by("closure", "pk")
        ids = list(due.values_list("pk", flat=True)[: min(batch_size, budget)])
        if not ids:
            break
        for complaint_id in ids:
            deleted = complaint_delete(complaint_id=complaint_id, now=now, period=complaint_period)
            counts[RecordKind.COMPLAINT.value] += deleted
        tried.update(ids)
        budget -= len(ids)
    agent_period = schedule[RecordKind.AGENT_ACCOUNT]
    for agent_id in list(agents_due(now=now, period=agent_period).values_list("pk", flat=True)[: max(budget, 0)]):
        counts[RecordKind.AGENT_ACCOUNT.value] += agent_delete(agent_id=agent_id, now=now, period=agent_period)
    for agent_id in list(agents_to_notify(now=now, period=agent_period).values_list("pk", flat=True)[:batch_size]):
        counts["agent_notice"] += agent_notice_make(agent_id=agent_id, now=now, period=agent_period) is not None
    run.counts = {key: counts[key] for key in sorted(counts) if counts[key]}
    run.finished_at = timezone.now()
    run.save(update_fields=["counts", "finished_at"])
    logger.info("retention run %s: %s", run.pk, run.counts)
    return run


# --- The DPO's schedule ------------------------------------------------------------------------------------------


def retention_rule_set(
    *, kind: str, days: int, reason: str, actor: AbstractBaseUser, notice_days: int | None = None
) -> RetentionRule:
    """Set the period of ``kind`` (the DPO; LAW.md §6(h)): never shorter than the deployment's default, at most its
    maximum (``retention.schedule``), with the reason; the edit is kept in ``RetentionRuleChange`` (Art. 5(2))."""
    current = period_get(kind)
    if not reason.strip():
        raise RetentionError(_("Give the reason for the period: it goes in the record of the schedule."))
    if days < current.minimum_days:
        raise RetentionError(
            _(
                "%(days)s days is shorter than the portal's default of %(minimum)s days, which the record "
                "of processing states."
            )
            % {"days": days, "minimum": current.minimum_days}
        )
    if days > current.maximum_days:
        raise RetentionError(
            _("%(days)s days is longer than %(maximum)s days: keep a case longer with a legal hold instead.")
            % {"days": days, "maximum": current.maximum_days}
        )
    if kind == RecordKind.AGENT_ACCOUNT:
        if notice_days is None or not 1 <= notice_days < days:
            raise RetentionError(_("The notice must be at least one day, and shorter than the period."))
    else:
        notice_days = None
    with transaction.atomic():
        rule = RetentionRule.objects.select_for_update().filter(kind=kind).first()
        if rule is not None and rule.days == days and rule.notice_days == notice_days:
            return rule
        RetentionRuleChange.objects.create(
            kind=kind,
            from_days=current.days,
            to_days=days,
            from_notice_days=current.notice_days,
            to_notice_days=notice_days,
            reason=reason.strip(),
            changed_by=actor,
        )
        rule, _created = RetentionRule.objects.update_or_create(
            kind=kind, defaults={"days": days, "notice_days": notice_days, "updated_by": actor}
        )
    return rule


# --- Legal holds -------------------------------------------------------------------------------------------------

HOLD_LIFECYCLE = Lifecycle(
    name="legal hold",
    model=LegalHold,
    transitions={HoldStatus.HELD: frozenset({HoldStatus.RELEASED})},
    event_kind={HoldStatus.RELEASED: EventKind.LEGAL_HOLD_RELEASED},
)


def legal_hold_place(*, request: DataSubjectRequest, reason: str, note: str, actor: AbstractBaseUser) -> LegalHold:
    """Keep ``request``'s case file past its period while it may be needed for a complaint, a claim or a
    regulator (LAW.md §6(h); Art. 17(3)(e)). Recorded in the request's trail."""
    if reason not in HoldReason.values:
        raise RetentionError(_("Choose why the case is held."))
    if reason == HoldReason.OTHER and not note.strip():
        raise RetentionError(_("Say why the case is held."))
    with transaction.atomic():
        request_lock(request.pk)
        hold = LegalHold.objects.create(
            request=request, reason=reason, note=note.strip(), placed_by=actor, placed_at=timezone.now()
        )
        event_record(
            request_id=request.pk,
            kind=EventKind.LEGAL_HOLD_PLACED,
            actor=actor,
            actor_kind=STAFF,
            reason=f"{HoldReason(reason).label}. {note.strip()}".strip(),
            to_status=HoldStatus.HELD,
        )
    return hold


def legal_hold_release(*, hold: LegalHold, reason: str, actor: AbstractBaseUser) -> LegalHold:
    """Release a hold, with the reason (the case then follows the schedule again; Art. 5(1)(e))."""
    if not reason.strip():
        raise RetentionError(_("Give the reason for releasing the hold: it goes in the case's trail."))
    HOLD_LIFECYCLE.move(
        hold,
        HoldStatus.RELEASED,
        actor=actor,
        actor_kind=STAFF,
        reason=reason.strip(),
        changes={"released_by": actor, "released_at": timezone.now(), "release_reason": reason.strip()},
    )
    return hold
