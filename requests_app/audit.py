"""The request's audit trail: one writer for every app that records what happened to a request.

Who acted is a user where there is one, and otherwise a kind of actor: the requester, the data subject an agent
acts for, staff, or the system itself. Reasons can hold personal data, so they are encrypted at rest
(``RequestEvent.reason``); nothing here logs.
"""

from django.contrib.auth.models import AbstractBaseUser

from .models import RequestEvent

REQUESTER = "requester"
DATA_SUBJECT = "data_subject"
STAFF = "staff"
SYSTEM = "system"


def actor_kind_of(actor: AbstractBaseUser | None) -> str:
    """Staff when a signed-in user acted; otherwise the portal acted on its own (a sweep, a matched record)."""
    return STAFF if actor is not None and actor.is_authenticated else SYSTEM


def event_record(
    *,
    request_id: int,
    kind: str,
    actor: AbstractBaseUser | None = None,
    actor_kind: str,
    reason: str = "",
    from_status: str = "",
    to_status: str = "",
) -> RequestEvent:
    """Append one event to the request's trail."""
    return RequestEvent.objects.create(
        request_id=request_id,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_kind=actor_kind,
        reason=str(reason),
        from_status=from_status,
        to_status=to_status,
    )


def events_record(events: list[dict]) -> list[RequestEvent]:
    """Append many events at once (each a dict of ``event_record``'s arguments, ``actor`` aside): one insert per
    batch, for jobs that write thousands (casework.reminders); the same rows ``event_record`` would write."""
    return RequestEvent.objects.bulk_create(
        [
            RequestEvent(
                request_id=event["request_id"],
                kind=event["kind"],
                actor=None,
                actor_kind=event["actor_kind"],
                reason=str(event.get("reason", "")),
                from_status=event.get("from_status", ""),
                to_status=event.get("to_status", ""),
            )
            for event in events
        ],
        batch_size=1000,
    )
