"""Receivers of the request core's domain event (requests_app.signals): IDs in, a Celery task out."""

from requests_app.models import Status


def request_status_changed(*, request_id: int, from_status: str, to_status: str, event_id: int, **kwargs) -> None:
    """A request going into progress is planned (fulfilment.services.compilation_plan decides whether it is an
    access or portability request, verified, and not answered already)."""
    if to_status != Status.IN_PROGRESS:
        return
    from . import tasks

    reopened = from_status in (Status.COMPLETED, Status.REFUSED)
    tasks.plan_compilation.delay(request_id, reopened)
