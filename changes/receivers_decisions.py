"""Receivers of domain events for the decisions: IDs in, a Celery task out (like fulfilment.receivers)."""

import logging

from requests_app.models import DataSubjectRequest, Right, Status

from . import tasks_decisions as tasks

logger = logging.getLogger(__name__)


def request_status_changed(*, request_id: int, from_status: str, to_status: str, event_id: int, **kwargs) -> None:
    """A rectification going into progress: restrict the data while its accuracy is checked when the person asked
    (Art. 18(1)(a)). The task decides whether they did (the scope is personal data, read in the worker, never put
    on the broker). An objection to direct marketing is started by the engine (changes.receivers)."""
    if to_status != Status.IN_PROGRESS:
        return
    if not DataSubjectRequest.objects.filter(pk=request_id, right=Right.RECTIFICATION).exists():
        return
    try:
        tasks.restrict_while_checking.delay(request_id)
    except Exception:
        # The move stands (it committed); the hourly sweep starts it (restrictions_while_checking_sweep).
        logger.warning("request %s: decision task not queued (broker unavailable); the sweep will", request_id)


def change_run_finished(*, run_id: int, kind: str, status: str, **kwargs) -> None:
    """A change run finished: move the decision it carried out."""
    try:
        tasks.run_finished.delay(run_id)
    except Exception:
        logger.warning("change run %s: decision task not queued (broker unavailable)", run_id)
