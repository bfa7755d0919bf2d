"""The request lifecycle: every allowed move in one table, and the one function that makes it.

Nothing else in the code base assigns ``DataSubjectRequest.status``. ``transition`` is the guarded setter of
``requests_app.lifecycle`` for requests: it locks the row, treats a repeat as a no-op, refuses an illegal move,
sets the fields that move with the status, writes the move to the audit trail, shortens the status-page grants of a
request that ends (``status_access``), and after the commit sends the ``request_status_changed`` domain event (IDs
only) for the apps built above the request core.
"""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from .lifecycle import IllegalTransition, Lifecycle, Move
from .models import DataSubjectRequest, EventKind, Status
from .signals import request_status_changed
from .status_access import grants_end_soon

__all__ = [
    "EXTENDABLE_STATUSES",
    "OPEN_STATUSES",
    "REQUEST_LIFECYCLE",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "IllegalTransition",
    "TransitionResult",
    "can_transition",
    "transition",
]

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
            Status.AWAITING_FEE,
            Status.COMPLETED,
            Status.REFUSED,
            Status.WITHDRAWN,
        }
    ),
    Status.AWAITING_CLARIFICATION: frozenset({Status.IN_PROGRESS, Status.REFUSED, Status.WITHDRAWN}),
    # GDPR Art. 12(5), 15(3): back to work once the fee is paid or waived; the person may withdraw rather than pay
    # (EDPB Guidelines 01/2022 para 192); a request that stays unpaid may be refused.
    Status.AWAITING_FEE: frozenset({Status.IN_PROGRESS, Status.REFUSED, Status.WITHDRAWN}),
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

REQUEST_LIFECYCLE = Lifecycle(
    name="request", model=DataSubjectRequest, transitions=TRANSITIONS, event_kind=EventKind.STATUS_CHANGED
)

# A move of the request: ``result.obj`` (also ``result.request``) is the caller's refreshed instance.
TransitionResult = Move


def can_transition(from_status: str, to_status: str) -> bool:
    return REQUEST_LIFECYCLE.can_move(from_status, to_status)


def transition(
    request: DataSubjectRequest,
    to_status: str,
    *,
    actor: AbstractBaseUser | None = None,
    actor_kind: str,
    reason: str = "",
    changes: Mapping[str, Any] | None = None,
) -> Move:
    """Move ``request`` to ``to_status`` and record who did it and why.

    ``changes`` are the fields that move with the status (an outcome, a refusal ground, the clock), saved with it.
    """
    changes = {"closed_at": timezone.now() if to_status in TERMINAL_STATUSES else None, **(changes or {})}
    with transaction.atomic():
        result = REQUEST_LIFECYCLE.move(
            request, to_status, actor=actor, actor_kind=actor_kind, reason=reason, changes=changes
        )
        if result.changed and to_status in TERMINAL_STATUSES:
            # In the move's transaction: the status page stops opening for old cookies with the move, or not at all.
            grants_end_soon(request_id=request.pk)
    if result.changed:
        request_id, from_status, event_id = request.pk, result.from_status, result.event.pk
        transaction.on_commit(
            lambda: request_status_changed.send(
                sender=DataSubjectRequest,
                request_id=request_id,
                from_status=from_status,
                to_status=to_status,
                event_id=event_id,
            )
        )
    return result
