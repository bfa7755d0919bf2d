"""What a finished change run means for the decisions that started it (restriction, objection, rectification)."""

from datasystems.connectors.changes import ChangeKind

from . import objections, rectifications, restrictions
from .models import ChangeRun


def decisions_run_finished(*, run_id: int) -> None:
    """Move the decision a run carried out: a restriction in force or lifted (Art. 18), a marketing objection or an
    upheld objection completed (Art. 21), a rectification completed (Art. 16). Idempotent: each step moves only
    what has not moved yet."""
    run = ChangeRun.objects.get(pk=run_id)
    restrictions.run_finished(run=run)
    if run.kind == ChangeKind.SUPPRESS_MARKETING:
        objections.marketing_run_finished(run=run)
    elif run.kind in objections.STOP_KINDS:
        objections.objection_run_finished(run=run)
    elif run.kind == ChangeKind.RECTIFY:
        rectifications.rectification_run_finished(run=run)
