"""The statutory clock of one request: its pauses, restarts and due dates, kept with their history.

Every date is an argument (the day a question was sent, the day an answer or a document arrived), never read from
the system clock here, so that services and tests say which day counts. The arithmetic itself is in
``deadlines.py``; this module applies it to a request and records each change of due date against the event that
caused it (``DueDateChange``).
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from . import deadlines
from .audit import event_record
from .models import DataSubjectRequest, DueDateChange, EventKind, PauseReason, RequestEvent

CLOCK_FIELDS = ["clock_started_on", "clock_paused_on", "clock_pause_reason", "paused_days", "extension_months"]


def deadline_recompute(request: DataSubjectRequest, event: RequestEvent) -> None:
    """Recompute the legal and internal dates from the clock fields, save them, and keep the history of a change."""
    due_on = deadlines.due_date(
        clock_start=request.clock_started_on,
        jurisdiction=request.jurisdiction,
        extension_months=request.extension_months,
        paused_days=request.paused_days,
    )
    target_on = deadlines.internal_target_date(
        clock_start=request.clock_started_on,
        jurisdiction=request.jurisdiction,
        target_days=settings.DSAR_INTERNAL_TARGET_DAYS,
        paused_days=request.paused_days,
    )
    if due_on != request.due_on or target_on != request.target_on:
        DueDateChange.objects.create(
            request=request, event=event, previous_due_on=request.due_on, due_on=due_on, target_on=target_on
        )
        request.due_on = due_on
        request.target_on = target_on
    request.save(update_fields=[*CLOCK_FIELDS, "due_on", "target_on", "updated_at"])


def clock_pause(request: DataSubjectRequest, *, reason: str, on: date, actor_kind: str) -> None:
    """Stop the clock from ``on`` (UK GDPR Art. 12(3A) for clarification; Art. 12(6) for identity)."""
    if request.clock_paused_on is not None:
        return
    request.clock_paused_on = on
    request.clock_pause_reason = reason
    request.save(update_fields=["clock_paused_on", "clock_pause_reason", "updated_at"])
    event_record(
        request_id=request.pk, kind=EventKind.CLOCK_PAUSED, actor_kind=actor_kind, reason=PauseReason(reason).label
    )


@dataclass(frozen=True)
class ClockChange:
    """New values of the clock fields, and the dates they give, worked out before the status move that carries them
    (so that they are saved in the same guarded move: ``requests_app.lifecycle``)."""

    changes: dict[str, Any]
    previous_due_on: date
    previous_target_on: date
    # The clock's own audit event (restarted, resumed), or None when the move's event says it all.
    event_kind: str | None = None


def _with_dates(request: DataSubjectRequest, changes: dict[str, Any]) -> dict[str, Any]:
    values = {name: changes.get(name, getattr(request, name)) for name in CLOCK_FIELDS}
    due_on = deadlines.due_date(
        clock_start=values["clock_started_on"],
        jurisdiction=request.jurisdiction,
        extension_months=values["extension_months"],
        paused_days=values["paused_days"],
    )
    target_on = deadlines.internal_target_date(
        clock_start=values["clock_started_on"],
        jurisdiction=request.jurisdiction,
        target_days=settings.DSAR_INTERNAL_TARGET_DAYS,
        paused_days=values["paused_days"],
    )
    return {**changes, "due_on": due_on, "target_on": target_on}


def resume_planned(request: DataSubjectRequest, *, on: date) -> ClockChange | None:
    """End a pause on ``on``, the day what we asked for arrived; None when the clock runs.

    UK: identity evidence restarts the clock from the day it arrives (UK GDPR Art. 12(3A)(b)), and so does a fee
    from the day it is paid (UK GDPR Art. 12A, "relevant time" (c)); otherwise, and in the EU (EDPB Guidelines
    01/2022), the paused days are added to the deadline.
    """
    if request.clock_paused_on is None:
        return None
    restarts = request.clock_pause_reason in (PauseReason.IDENTITY, PauseReason.FEE)
    if restarts and deadlines.is_uk(request.jurisdiction):
        changes = {"clock_started_on": on, "paused_days": 0}
        kind = EventKind.CLOCK_RESTARTED
    else:
        changes = {"paused_days": request.paused_days + deadlines.paused_days_between(request.clock_paused_on, on)}
        kind = EventKind.CLOCK_RESUMED
    changes.update(clock_paused_on=None, clock_pause_reason="")
    return ClockChange(
        changes=_with_dates(request, changes),
        previous_due_on=request.due_on,
        previous_target_on=request.target_on,
        event_kind=kind,
    )


def pause_ended_without_answer(request: DataSubjectRequest, *, on: date) -> ClockChange | None:
    """The clock of a request whose pause ends on ``on`` because the request itself ends (a refusal).

    Nothing was received, so even in the UK the clock does not restart; the paused days are kept in case the
    request is ever reopened. None when the clock runs.
    """
    if request.clock_paused_on is None:
        return None
    changes = {
        "paused_days": request.paused_days + deadlines.paused_days_between(request.clock_paused_on, on),
        "clock_paused_on": None,
        "clock_pause_reason": "",
    }
    return ClockChange(
        changes=_with_dates(request, changes),
        previous_due_on=request.due_on,
        previous_target_on=request.target_on,
    )


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
        event = event_record(request_id=request.pk, kind=change.event_kind, actor=actor, actor_kind=actor_kind)
    due_on, target_on = change.changes["due_on"], change.changes["target_on"]
    if due_on != change.previous_due_on or target_on != change.previous_target_on:
        DueDateChange.objects.create(
            request=request, event=event, previous_due_on=change.previous_due_on, due_on=due_on, target_on=target_on
        )
