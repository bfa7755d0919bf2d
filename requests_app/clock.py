"""The statutory clock of one request: its pauses, restarts and due dates, kept with their history.

Every date is an argument (the day a question was sent, the day an answer or a document arrived), never read from
the system clock here, so that services and tests say which day counts. The arithmetic itself is in
``deadlines.py``; this module applies it to a request, with the DPO's holiday overrides, and records each change of
due date against the event that caused it and the calendar it used (``DueDateChange``).
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from . import deadlines
from .audit import event_record
from .models import DataSubjectRequest, DueDateChange, EventKind, HolidayOverride, PauseReason, RequestEvent

CLOCK_FIELDS = [
    "clock_started_on",
    "clock_paused_on",
    "clock_pause_reason",
    "clock_pause_doubt",
    "paused_days",
    "extension_months",
]


@dataclass(frozen=True)
class Calendar:
    """The DPO's holiday overrides for a request's jurisdictions, and the record of them kept with a due date."""

    overrides: deadlines.HolidayOverrides
    record: dict


def calendar_for(jurisdiction: str, second_jurisdiction: str = "") -> Calendar:
    """The holiday overrides (``HolidayOverride``) of the jurisdictions a request is under."""
    rows = list(
        HolidayOverride.objects.filter(jurisdiction__in=[j for j in (jurisdiction, second_jurisdiction) if j])
        .order_by("pk")
        .values_list("pk", "jurisdiction", "day", "is_holiday")
    )
    overrides = {(code, day): flag for _pk, code, day, flag in rows}
    return Calendar(overrides, deadlines.calendar_record(overrides, [pk for pk, *_rest in rows]))


def dates_for(request: DataSubjectRequest, values: dict[str, Any], cal: Calendar) -> tuple[date, date]:
    """The legal due date and the internal target of ``request`` with the clock ``values``."""
    due_on = deadlines.due_date(
        clock_start=values["clock_started_on"],
        jurisdiction=request.jurisdiction,
        extension_months=values["extension_months"],
        paused_days=values["paused_days"],
        overrides=cal.overrides,
        also_jurisdiction=request.second_jurisdiction,
    )
    target_on = deadlines.internal_target_date(
        clock_start=values["clock_started_on"],
        jurisdiction=request.jurisdiction,
        target_days=settings.DSAR_INTERNAL_TARGET_DAYS,
        paused_days=values["paused_days"],
        overrides=cal.overrides,
        also_jurisdiction=request.second_jurisdiction,
    )
    return due_on, target_on


def deadline_recompute(request: DataSubjectRequest, event: RequestEvent) -> None:
    """Recompute the legal and internal dates from the clock fields, save them, and keep the history of a change."""
    cal = calendar_for(request.jurisdiction, request.second_jurisdiction)
    due_on, target_on = dates_for(request, {name: getattr(request, name) for name in CLOCK_FIELDS}, cal)
    if due_on != request.due_on or target_on != request.target_on:
        DueDateChange.objects.create(
            request=request,
            event=event,
            previous_due_on=request.due_on,
            due_on=due_on,
            target_on=target_on,
            calendar=cal.record,
        )
        request.due_on = due_on
        request.target_on = target_on
    request.save(update_fields=[*CLOCK_FIELDS, "due_on", "target_on", "updated_at"])


def clock_pause(
    request: DataSubjectRequest, *, reason: str, on: date, actor_kind: str, condition: str = "", actor=None
) -> None:
    """Stop the clock from ``on``; ``condition`` is the statutory condition staff recorded, kept on the event.

    Clarification: only for an access request where the controller reasonably needs the person to identify the
    information or processing activities (UK GDPR Art. 12A; EDPB Guidelines 01/2022 §5.3, Recital 63): the services
    check it. Identity: information asked for under Art. 12(6); ``condition`` is then the reasonable doubt, kept on
    the request so that the UK restart can depend on it (:func:`resume_planned`).
    """
    if request.clock_paused_on is not None:
        return
    request.clock_paused_on = on
    request.clock_pause_reason = reason
    request.clock_pause_doubt = condition[:500] if reason == PauseReason.IDENTITY else ""
    request.save(update_fields=["clock_paused_on", "clock_pause_reason", "clock_pause_doubt", "updated_at"])
    label = str(PauseReason(reason).label)
    event_record(
        request_id=request.pk,
        kind=EventKind.CLOCK_PAUSED,
        actor=actor,
        actor_kind=actor_kind,
        reason=f"{label}: {condition}" if condition else label,
    )


@dataclass(frozen=True)
class ClockChange:
    """New values of the clock fields, and the dates they give, worked out before the status move that carries them
    (so that they are saved in the same guarded move: ``requests_app.lifecycle``)."""

    changes: dict[str, Any]
    previous_due_on: date
    previous_target_on: date
    calendar: dict
    # The clock's own audit event (restarted, resumed), or None when the move's event says it all.
    event_kind: str | None = None
    event_reason: str = ""


def _planned(request: DataSubjectRequest, changes: dict[str, Any], kind: str | None, reason: str = "") -> ClockChange:
    changes.update(clock_paused_on=None, clock_pause_reason="", clock_pause_doubt="")
    cal = calendar_for(request.jurisdiction, request.second_jurisdiction)
    values = {name: changes.get(name, getattr(request, name)) for name in CLOCK_FIELDS}
    due_on, target_on = dates_for(request, values, cal)
    return ClockChange(
        changes={**changes, "due_on": due_on, "target_on": target_on},
        previous_due_on=request.due_on,
        previous_target_on=request.target_on,
        calendar=cal.record,
        event_kind=kind,
        event_reason=reason,
    )


def resume_planned(
    request: DataSubjectRequest, *, on: date | None, decided_on: date | None = None
) -> ClockChange | None:
    """End a pause because what we asked for arrived on ``on``; None when the clock runs.

    ``on`` is the day of a stored receipt (a document's upload, a reply), never the day staff decide: ``None`` means
    nothing was received, and ``decided_on`` is then the day the wait ended.

    * Identity, UK (UK GDPR Art. 12A: the "relevant time" is receipt of the information requested under Art. 12(6)):
      the clock restarts on ``on``, but only where a reasonable doubt was recorded when it was asked for (Art. 12(6));
      without one the paused days are added instead (a suspension). With nothing received the relevant time never
      moved: the clock resumes as if it had never stopped (no days added; LAW.md D3).
    * Identity, EU (EDPB Guidelines 01/2022 §5.3): the days waited are added (a suspension), up to the day the
      information arrived or, with nothing received, the day the wait ended.
    * Fee, UK (Art. 12A "relevant time" (c)): the clock restarts on the day of payment. (In the EU the clock never
      stopped for a fee.)
    * Clarification of an access request: the days from the question to the answer are added; in the UK both ends
      are excluded from the period (Art. 12A, :func:`deadlines.paused_days_between`).
    """
    if request.clock_paused_on is None:
        return None
    uk = deadlines.uk_rules_apply(request.jurisdiction, request.second_jurisdiction)
    if request.clock_pause_reason == PauseReason.FEE and uk and on is not None:
        # UK GDPR Art. 12A, "relevant time" (c): a new month from the day the fee is paid.
        return _planned(request, {"clock_started_on": on, "paused_days": 0}, EventKind.CLOCK_RESTARTED)
    if request.clock_pause_reason == PauseReason.IDENTITY and uk:
        if on is None:
            return _planned(request, {}, EventKind.CLOCK_RESUMED, "Nothing was received: the clock ran throughout")
        if request.clock_pause_doubt:
            return _planned(request, {"clock_started_on": on, "paused_days": 0}, EventKind.CLOCK_RESTARTED)
    end = on if on is not None else decided_on
    if end is None:
        raise ValueError("resume_planned needs the day of receipt or, with nothing received, the day of the decision")
    statutory = uk and request.clock_pause_reason == PauseReason.CLARIFICATION
    days = deadlines.paused_days_between(request.clock_paused_on, end, statutory_stop=statutory)
    return _planned(request, {"paused_days": request.paused_days + days}, EventKind.CLOCK_RESUMED)


def pause_ended_without_answer(
    request: DataSubjectRequest, *, on: date, kind: str | None = None, reason: str = ""
) -> ClockChange | None:
    """The clock of a request whose pause ends on ``on`` with nothing received (a refusal; staff resume without an
    answer, ICO: "you must still comply"; EDPB: a person who wants everything gets everything).

    Nothing was received, so even in the UK the clock does not restart; the paused days up to ``on`` (the shorter
    count, :func:`deadlines.paused_days_between`) are kept, also in case the request is ever reopened. None when the
    clock runs.
    """
    if request.clock_paused_on is None:
        return None
    days = deadlines.paused_days_between(request.clock_paused_on, on)
    return _planned(request, {"paused_days": request.paused_days + days}, kind, reason)


def clock_change_record(
    request: DataSubjectRequest,
    change: ClockChange,
    *,
    move_event: RequestEvent,
    actor: AbstractBaseUser | None = None,
    actor_kind: str,
) -> None:
    """After the move that saved ``change``: the clock's own event, and the due date's history if it moved."""
    event = move_event
    if change.event_kind is not None:
        event = event_record(
            request_id=request.pk,
            kind=change.event_kind,
            actor=actor,
            actor_kind=actor_kind,
            reason=change.event_reason,
        )
    due_on, target_on = change.changes["due_on"], change.changes["target_on"]
    if due_on != change.previous_due_on or target_on != change.previous_target_on:
        DueDateChange.objects.create(
            request=request,
            event=event,
            previous_due_on=change.previous_due_on,
            due_on=due_on,
            target_on=target_on,
            calendar=change.calendar,
        )
