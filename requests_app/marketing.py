"""Objections to direct marketing (GDPR Art. 21(2)-(3)): telling them apart, and the suppression they leave.

An objection to direct marketing is absolute: the data "shall no longer be processed for such purposes"
(Art. 21(3)). There is nothing to weigh, so the request core allows no pause, extension, fee or refusal as
manifestly unfounded or excessive for it (``requests_app.services``), and a confirmed e-mail address is all the
identity it needs (``identity.policy``). Suppression in every system is carried out by the fulfilment jobs; here the
request records when it was completed ("time to suppression") and leaves a suppression entry that a later erasure
never removes (``MarketingSuppression``).
"""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser

from .audit import event_record
from .models import DataSubjectRequest, EventKind, MarketingSuppression
from .scope import ObjectionScope, Scope, scope_of


def is_direct_marketing(scope: Scope) -> bool:
    """Whether a request of ``scope`` objects to direct marketing (Art. 21(2)), the absolute kind of objection."""
    return isinstance(scope, ObjectionScope) and scope.is_direct_marketing


def is_direct_marketing_objection(request: DataSubjectRequest) -> bool:
    """Whether ``request`` objects to direct marketing (Art. 21(2)), the absolute kind of objection."""
    return is_direct_marketing(scope_of(request))


def suppression_record(
    request: DataSubjectRequest, *, at: datetime, actor: AbstractBaseUser | None = None, actor_kind: str
) -> MarketingSuppression:
    """Keep the person's address out of direct marketing for good (Art. 21(3); ICO direct marketing guidance).

    One entry per address: a second objection from the same address keeps the first entry. The caller holds the
    transaction and has set ``request.suppressed_at``.
    """
    suppression, created = MarketingSuppression.objects.get_or_create(
        email_hash=request.email_hash, defaults={"source_request_id": request.pk}
    )
    event_record(
        request_id=request.pk,
        kind=EventKind.MARKETING_SUPPRESSED,
        actor=actor,
        actor_kind=actor_kind,
        reason=at.isoformat(),
    )
    return suppression
