"""Row locks on a request and what belongs to it, always taken in one order.

The order: **the request row first, then rows that belong to it** (its identity verification, the subject's
confirmation of an agent, its documents, its messages). Two transactions that lock the same rows in the same order
wait for each other; two that lock them in opposite orders can deadlock on PostgreSQL. Every operation that locks
more than the request takes ``request_lock`` before anything else, and the guarded setter
(``requests_app.lifecycle``) does so for every lifecycle.
"""

from .models import DataSubjectRequest


def request_lock(request_id: int) -> DataSubjectRequest:
    """Lock the request's row (not rows joined to it) until the transaction ends, and return it fresh."""
    return DataSubjectRequest.objects.select_for_update(of=("self",)).get(pk=request_id)
