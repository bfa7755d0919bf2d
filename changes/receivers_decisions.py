"""Receivers of domain events for the decisions: IDs in, a Celery task out (like fulfilment.receivers)."""

import logging

from requests_app.models import DataSubjectRequest, Right, Status

from . import tasks_decisions as tasks

logger = logging.getLogger(__name__)


def request_status_changed(*, request_id: int, from_status: str, to_status: str, event_id: int, **kwargs) -> None:
    """An objection or rectification going into progress: stop direct marketing at once (Art. 21(3)), or restrict
    the data while its accuracy is checked when the person asked (Art. 18(1)(a)). The tasks decide whether the
    request is such a one (its scope is personal data, read in the worker, never put on the broker)."""
    if to_status != Status.IN_PROGRESS:
        return
    right = DataSubjectRequest.objects.filter(pk=request_id).values_list("right", flat=True).first()
    task = {Right.OBJECTION: tasks.suppress_marketing, Right.RECTIFICATION: tasks.restrict_while_checking}.get(right)
    if task is None:
        return
    try:
        task.delay(request_id)
    except Exception:
        # The move stands (it committed); the hourly sweep starts what was not (changes.tasks_decisions).
        logger.warning("request %s: decision task not queued (broker unavailable); the sweep will", request_id)


def change_run_finished(*, run_id: int, kind: str, status: str, **kwargs) -> None:
    """A change run finished: move the decision it carried out."""
    try:
        tasks.run_finished.delay(run_id)
    except Exception:
        logger.warning("change run %s: decision task not queued (broker unavailable)", run_id)
