"""Restriction of processing (GDPR Art. 18): putting it in force, logging its exceptions, and lifting it.

- Art. 18(1): a restriction rests on one or more of the grounds (a)-(d); it is put in force by a RESTRICT run of the
  change engine, which flags the person's data in every system with a restriction rule (or a manual task).
- Art. 18(2): while restricted, the data is only stored, unless the person consents, or for legal claims, the
  protection of another person's rights, or an important public interest; every such use is logged
  (``restriction_exception_log``).
- Art. 18(3): the person is told before the restriction is lifted. **Lifting is blocked until that notice was sent**
  (``restriction_lift_notify``), and the LIFT_RESTRICTION run starts only on or after the day the notice gives: by
  staff on the day, or by the hourly task (``restrictions_lift_due``) which lifts every restriction whose day has come.

A restriction's status moves through ``RESTRICTION_LIFECYCLE`` (requested -> in_force -> lift_notified -> lifted),
every move in the request's audit trail.
"""

from collections.abc import Sequence
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from datasystems.connectors.changes import ChangeKind
from requests_app.audit import SYSTEM, actor_kind_of, event_record
from requests_app.correspondence import message_send
from requests_app.lifecycle import Lifecycle
from requests_app.locks import request_lock
from requests_app.models import DataSubjectRequest, EventKind, MessageKind, Outcome, Right, Status
from requests_app.services import RequestError, request_complete

from .models import ChangeRun
from .models_decisions import (
    ExceptionGround,
    ObjectionDecision,
    RectificationDecision,
    Restriction,
    RestrictionException,
    RestrictionGroundChoice,
    RestrictionStatus,
)
from .services import change_run_start

S = RestrictionStatus

RESTRICTION_MOVES = {
    S.REQUESTED: frozenset({S.IN_FORCE}),
    S.IN_FORCE: frozenset({S.LIFT_NOTIFIED}),
    # Art. 18(3): only a restriction the person was told about can be lifted.
    S.LIFT_NOTIFIED: frozenset({S.LIFTED}),
    S.LIFTED: frozenset(),
}

RESTRICTION_LIFECYCLE = Lifecycle(
    name="restriction",
    model=Restriction,
    transitions=RESTRICTION_MOVES,
    event_kind=EventKind.RESTRICTION_STATUS_CHANGED,
)

# Why a restriction on ground (a) is lifted (told to the person, Art. 18(3)).
ACCURACY_DECIDED = gettext_lazy(
    "We have decided on the correction you asked for, so the accuracy of your data is no longer in question."
)

# The runs whose end moves a restriction.
FINISHED_WELL = ("done", "partly_done")


class RestrictionError(Exception):
    """A restriction cannot be started, noticed or lifted as asked; the message is for staff."""


def restriction_start(
    *,
    request: DataSubjectRequest,
    grounds: Sequence[str],
    scope: str,
    actor: AbstractBaseUser | None,
    objection_decision: ObjectionDecision | None = None,
) -> Restriction:
    """Restrict the processing of the person's data on ``grounds`` (GDPR Art. 18(1)(a)-(d)) and start the RESTRICT
    run that flags it in the systems; the restriction is in force once that run is done (``run_finished``).

    Only a restriction's own grounds are accepted, at least one. A case handler starting it approves the run (a
    restriction changes no data: it stops its use, and waiting would defeat it).
    """
    grounds = list(dict.fromkeys(grounds))
    if not grounds or not set(grounds) <= set(RestrictionGroundChoice.values):
        raise RestrictionError(_("Choose at least one ground of Article 18(1) for the restriction."))
    with transaction.atomic():
        request_lock(request.pk)
        restriction = Restriction.objects.create(
            request=request,
            grounds=grounds,
            scope=scope.strip() or _("All the data we hold about the person"),
            objection_decision=objection_decision,
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        event_record(
            request_id=request.pk,
            kind=EventKind.RESTRICTION_STATUS_CHANGED,
            actor=actor,
            actor_kind=actor_kind_of(actor),
            to_status="",
            reason=_("Restriction requested on the grounds: %(grounds)s")
            % {"grounds": "; ".join(restriction.grounds_display())},
        )
        run = change_run_start(request=request, kind=ChangeKind.RESTRICT, actor=actor, approved=True)
        Restriction.objects.filter(pk=restriction.pk).update(restrict_run=run)
        restriction.restrict_run = run
    return restriction


def restriction_exception_log(
    *,
    restriction: Restriction,
    ground: str,
    processing: str,
    used_by: str,
    used_on: date,
    note: str,
    actor: AbstractBaseUser,
) -> RestrictionException:
    """Log one use of restricted data beyond storage (GDPR Art. 18(2)): only on one of its four grounds, saying what
    processing, by whom and when. A restriction already lifted needs none."""
    if ground not in ExceptionGround.values:
        raise RestrictionError(_("Choose the ground of Article 18(2) the use rests on."))
    if not processing.strip() or not used_by.strip():
        raise RestrictionError(_("Say what processing was done and by whom."))
    if used_on > timezone.localdate():
        raise RestrictionError(_("The day of use cannot be in the future."))
    with transaction.atomic():
        request_lock(restriction.request_id)
        if Restriction.objects.get(pk=restriction.pk).status == S.LIFTED:
            raise RestrictionError(_("This restriction was lifted: the data may be used again without an exception."))
        exception = RestrictionException.objects.create(
            restriction=restriction,
            ground=ground,
            processing=processing.strip(),
            used_by=used_by.strip()[:200],
            used_on=used_on,
            note=note.strip(),
            recorded_by=actor,
        )
        event_record(
            request_id=restriction.request_id,
            kind=EventKind.RESTRICTION_EXCEPTION,
            actor=actor,
            actor_kind=actor_kind_of(actor),
            reason=f"{ExceptionGround(ground).label}: {exception.processing} ({exception.used_by}, {used_on})",
        )
    return exception


def restriction_lift_notify(
    *, restriction: Restriction, lift_on: date, reason: str, actor: AbstractBaseUser | None, today: date | None = None
) -> Restriction:
    """Tell the person, before it happens, that the restriction will be lifted, when and why (GDPR Art. 18(3)).

    The day must come after the notice (``today``), so the person has it before the data is used again; the notice
    is a message on the request (e-mailed, or posted), and the restriction can then be lifted on or after that day.
    """
    today = today or timezone.localdate()
    if not reason.strip():
        raise RestrictionError(_("Say why the restriction will be lifted: the person is told (Art. 18(3))."))
    if lift_on <= today:
        raise RestrictionError(_("The day of lifting must come after today, so the person is told before it."))
    with transaction.atomic():
        request = request_lock(restriction.request_id)
        current = Restriction.objects.get(pk=restriction.pk)
        if current.status != S.IN_FORCE:
            raise RestrictionError(_("Only a restriction in force can be announced for lifting."))
        notice = message_send(
            request,
            MessageKind.RESTRICTION_LIFT,
            {"scope": current.scope, "lift_on": lift_on, "reason": reason.strip()},
        )
        RESTRICTION_LIFECYCLE.move(
            restriction,
            S.LIFT_NOTIFIED,
            actor=actor,
            actor_kind=actor_kind_of(actor),
            reason=_("The person was told it will be lifted on or after %(day)s.") % {"day": lift_on.isoformat()},
            changes={
                "lift_on": lift_on,
                "lift_reason": reason.strip(),
                "lift_notice": notice,
                "lift_notified_by": actor if actor is not None and actor.is_authenticated else None,
            },
        )
    return restriction


def restriction_lift(*, restriction: Restriction, actor: AbstractBaseUser | None, today: date | None = None) -> bool:
    """Start the LIFT_RESTRICTION run (GDPR Art. 18(3)); False when it was started already.

    Blocked until the person was sent the notice, and before the day it gives; the restriction is lifted once the
    run is done (``run_finished``).
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        request = request_lock(restriction.request_id)
        current = Restriction.objects.select_for_update().get(pk=restriction.pk)
        if current.lift_run_id is not None or current.status == S.LIFTED:
            return False
        if current.status != S.LIFT_NOTIFIED or current.lift_notice_id is None:
            raise RestrictionError(
                _("The person must be told before the restriction is lifted (GDPR Art. 18(3)): send the notice first.")
            )
        if today < current.lift_on:
            raise RestrictionError(
                _("The notice told the person it would be lifted on or after %(day)s: it cannot be lifted before.")
                % {"day": current.lift_on.isoformat()}
            )
        # The lift was decided with the notice: its sender's approval carries the run (else staff approve it).
        approver = actor if actor is not None else current.lift_notified_by
        run = change_run_start(request=request, kind=ChangeKind.LIFT_RESTRICTION, actor=approver, approved=True)
        current.lift_run = run
        current.save(update_fields=["lift_run"])
        restriction.lift_run = run
    return True


def restrictions_lift_due(*, today: date | None = None) -> int:
    """Lift every restriction whose notified day has come (Art. 18(3)); run twice, starts each lift once."""
    today = today or timezone.localdate()
    due = Restriction.objects.filter(status=S.LIFT_NOTIFIED, lift_on__lte=today, lift_run__isnull=True)
    started = 0
    for restriction in due.order_by("pk"):
        try:
            started += restriction_lift(restriction=restriction, actor=None, today=today)
        except RestrictionError:
            continue  # moved on meanwhile (the next run sees it)
    return started


def restrictions_end_of_ground(
    *, request_id: int, grounds: Sequence[str], reason: str, today: date | None = None
) -> int:
    """The ground of restrictions on ``request_id`` has ended (the accuracy was checked, Art. 18(1)(a); the
    objection was decided, Art. 18(1)(d)): tell the person they will be lifted after
    ``DSAR_RESTRICTION_LIFT_NOTICE_DAYS`` days (Art. 18(3)). Restrictions not in force yet are told once they are."""
    today = today or timezone.localdate()
    lift_on = today + timedelta(days=settings.DSAR_RESTRICTION_LIFT_NOTICE_DAYS)
    told = 0
    waiting = Restriction.objects.filter(request_id=request_id, status=S.IN_FORCE)
    for restriction in waiting.order_by("pk"):
        if set(restriction.grounds) <= set(grounds):
            restriction_lift_notify(restriction=restriction, lift_on=lift_on, reason=reason, actor=None, today=today)
            told += 1
    return told


def run_finished(*, run: ChangeRun, today: date | None = None) -> None:
    """A RESTRICT run that is done puts its restriction in force (the systems flagged are its jobs'); a
    LIFT_RESTRICTION run that is done lifts it. A failed run leaves the restriction where it was: staff retry the
    run on the case page."""
    if run.status not in FINISHED_WELL:
        return
    today = today or timezone.localdate()
    if run.kind == ChangeKind.RESTRICT:
        for restriction in Restriction.objects.filter(restrict_run=run, status=S.REQUESTED):
            RESTRICTION_LIFECYCLE.move(
                restriction,
                S.IN_FORCE,
                actor_kind=SYSTEM,
                reason=_("Flagged in the systems."),
                changes={"started_on": today},
            )
            _complete_restriction_request(restriction)
            _end_if_ground_over(restriction, today=today)
    elif run.kind == ChangeKind.LIFT_RESTRICTION:
        for restriction in Restriction.objects.filter(lift_run=run, status=S.LIFT_NOTIFIED):
            RESTRICTION_LIFECYCLE.move(
                restriction,
                S.LIFTED,
                actor_kind=SYSTEM,
                reason=_("Lifted in the systems."),
                changes={"lifted_on": today},
            )


def _complete_restriction_request(restriction: Restriction) -> None:
    """A restriction request is answered once its restriction is in force (Art. 18(1), 12(3)); a restriction on a
    rectification or an objection request is part of that request, answered with its own decision."""
    request = DataSubjectRequest.objects.get(pk=restriction.request_id)
    if request.right != Right.RESTRICTION or request.status != Status.IN_PROGRESS:
        return
    try:
        request_complete(
            request=request,
            actor=restriction.created_by,
            outcome=Outcome.FULFILLED,
            summary=_(
                "We have restricted the use of your data (%(scope)s): we only store it now. We will tell you before "
                "the restriction is lifted."
            )
            % {"scope": restriction.scope},
        )
    except RequestError:
        return  # moved on meanwhile (withdrawn): the restriction stays in force


def _end_if_ground_over(restriction: Restriction, *, today: date) -> None:
    """A restriction that went in force after the decision it waited for was made is told at once (Art. 18(3))."""
    decided = RectificationDecision.objects.filter(request_id=restriction.request_id).exists()
    if restriction.grounds == [RestrictionGroundChoice.ACCURACY_CONTESTED] and decided:
        restrictions_end_of_ground(
            request_id=restriction.request_id,
            grounds=[RestrictionGroundChoice.ACCURACY_CONTESTED],
            reason=str(ACCURACY_DECIDED),
            today=today,
        )
