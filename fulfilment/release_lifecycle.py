"""The lifecycle of a ``Release`` (one copy of the answer handed to the person): the table of allowed moves and its
guarded setter (``requests_app.lifecycle.Lifecycle``), the only code that changes a release's status.

Shared by the review work (approval, second approval for an agent, building the released archive) and the delivery
work (expiry) of issue 12: one table, kept once when their branches are merged.
"""

from requests_app.lifecycle import Lifecycle
from requests_app.models import EventKind

from .models import Release, ReleaseStatus

RELEASE_LIFECYCLE = Lifecycle(
    name="release",
    model=Release,
    transitions={
        # GDPR Art. 15(3), 12(6): an answer going to an agent waits for a second person's approval.
        ReleaseStatus.IN_REVIEW: frozenset({ReleaseStatus.AWAITING_SECOND_APPROVAL, ReleaseStatus.PREPARING}),
        ReleaseStatus.AWAITING_SECOND_APPROVAL: frozenset({ReleaseStatus.PREPARING, ReleaseStatus.IN_REVIEW}),
        ReleaseStatus.PREPARING: frozenset({ReleaseStatus.AVAILABLE}),
        # The download window ended: the archive is deleted, the manifest kept.
        ReleaseStatus.AVAILABLE: frozenset({ReleaseStatus.EXPIRED}),
        ReleaseStatus.EXPIRED: frozenset(),
    },
    event_kind=EventKind.RELEASE_STATUS_CHANGED,
)
