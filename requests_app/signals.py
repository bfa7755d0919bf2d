"""The request core's one domain event, for apps built above it.

``request_status_changed`` is sent after the transaction that moved a request commits (never for a move that
rolled back), with IDs and status values only, never personal data:
``request_id``, ``from_status``, ``to_status``, ``event_id`` (the audit row of the move). The staff dashboard and
fulfilment jobs subscribe to it; the request core knows nothing of them. Receivers that do real work enqueue a
Celery task with the IDs.
"""

from django.dispatch import Signal

request_status_changed = Signal()
