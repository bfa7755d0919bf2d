"""The request lifecycle: every allowed move in one table, and the one function that makes it.

Nothing else in the code base assigns ``DataSubjectRequest.status``. The
function locks the row, treats a repeat as a no-op, refuses an illegal move
and writes the move to the request's audit trail.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from .models import DataSubjectRequest, EventKind, RequestEvent, Status

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.AWAITING_EMAIL_CONFIRMATION: frozenset(
        {
            Status.AWAITING_IDENTITY_VERIFICATION,
            Status.IN_PROGRESS,
            Status.WITHDRAWN,
            Status.CLOSED_UNCONFIRMED,
        }
    ),
    Status.AWAITING_IDENTITY_VERIFICATION: frozenset({Status.IN_PROGRESS, Status.REFUSED, Status.WITHDRAWN}),
    Status.IN_PROGRESS: frozenset(
        {
            Status.AWAITING_IDENTITY_VERIFICATION,
            Status.AWAITING_CLARIFICATION,
            Status.COMPLETED,
            Status.REFUSED,
            Status.WITHDRAWN,
        }
    ),
    Status.AWAITING_CLARIFICATION: frozenset({Status.IN_PROGRESS, Status.REFUSED, Status.WITHDRAWN}),
    # A completed or refused request can be reopened, for example after a
    # complaint shows the answer was incomplete.
    Status.COMPLETED: frozenset({Status.IN_PROGRESS}),
    Status.REFUSED: frozenset({Status.IN_PROGRESS}),
    Status.WITHDRAWN: frozenset(),
    Status.CLOSED_UNCONFIRMED: frozenset(),
}

TERMINAL_STATUSES = frozenset({Status.COMPLETED, Status.REFUSED, Status.WITHDRAWN, Status.CLOSED_UNCONFIRMED})
OPEN_STATUSES = frozenset(set(Status.values) - TERMINAL_STATUSES)
# Statuses in which the statutory clock runs or is paused (not before the
# e-mail is confirmed, not after the request ends).
EXTENDABLE_STATUSES = frozenset(
    {Status.AWAITING_IDENTITY_VERIFICATION, Status.IN_PROGRESS, Status.AWAITING_CLARIFICATION}
)


class IllegalTransition(Exception):
    """The request cannot move from its current status to the one asked for."""

    def __init__(self, from_status: str, to_status: str) -> None:
        self.from_status = from_status
        self.to_status = to_status
        super().__init__(f"A request cannot move from {from_status!r} to {to_status!r}.")


@dataclass(frozen=True)
class TransitionResult:
    request: DataSubjectRequest
    event: RequestEvent | None  # None when the request was already in that status

    @property
    def changed(self) -> bool:
        return self.event is not None


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


def transition(
    request: DataSubjectRequest,
    to_status: str,
    *,
    actor: AbstractBaseUser | None = None,
    actor_kind: str,
    reason: str = "",
) -> TransitionResult:
    """Move ``request`` to ``to_status`` and record who did it and why.

    The row is re-read under a lock so two concurrent moves cannot both pass
    the check; the caller's instance is refreshed with the stored values.
    """
    with transaction.atomic():
        locked = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status == to_status:
            _copy_into(request, locked)
            return TransitionResult(request=request, event=None)
        if not can_transition(locked.status, to_status):
            raise IllegalTransition(locked.status, to_status)
        from_status = locked.status
        locked.status = to_status
        locked.closed_at = timezone.now() if to_status in TERMINAL_STATUSES else None
        locked.save(update_fields=["status", "closed_at", "updated_at"])
        event = RequestEvent.objects.create(
            request=locked,
            kind=EventKind.STATUS_CHANGED,
            from_status=from_status,
            to_status=to_status,
            actor=actor if actor is not None and actor.is_authenticated else None,
            actor_kind=actor_kind,
            reason=reason,
        )
        _copy_into(request, locked)
        return TransitionResult(request=request, event=event)


def _copy_into(target: DataSubjectRequest, source: DataSubjectRequest) -> None:
    for field in DataSubjectRequest._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
