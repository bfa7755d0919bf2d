"""The change engine's domain event, for the modules built on it (restriction in force, objection carried out).

``change_run_finished`` is sent when a run's end commits, with ``run_id``, ``kind`` (a ChangeKind value) and
``status`` (done, partly_done or failed). Receivers take IDs and read the rows.
"""

from django.dispatch import Signal

change_run_finished = Signal()
