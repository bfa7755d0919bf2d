"""Reads on data subject requests."""

from datetime import date

from django.db.models import QuerySet
from django.utils import timezone

from dsar_portal.crypto import email_lookup_hash
from dsar_portal.onetime import secret_hash

from .models import DataSubjectRequest, MarketingSuppression, Message, StatusLink


def request_for_status_token(*, token: str) -> DataSubjectRequest | None:
    """The request a status link opens, if the link is genuine and unexpired."""
    link = (
        StatusLink.objects.select_related("request")
        .filter(
            token_hash=secret_hash(token, purpose=StatusLink.TOKEN_PURPOSE),
            expires_at__gt=timezone.now(),
            revoked_at=None,
        )
        .first()
    )
    return link.request if link else None


def request_messages(*, request: DataSubjectRequest) -> QuerySet[Message]:
    return request.messages.order_by("created_at", "pk")


def paused_days_so_far(*, request: DataSubjectRequest, today: date) -> int:
    if request.clock_paused_on is None:
        return 0
    return max((today - request.clock_paused_on).days, 0)


def requests_from_same_person(request: DataSubjectRequest) -> QuerySet[DataSubjectRequest]:
    """The person's other requests, oldest first, found by the keyed hash of their e-mail address (LAW.md R3).

    What staff weigh when they extend for "the number of requests" (GDPR Art. 12(3); UK GDPR Art. 12A) or judge a
    request manifestly excessive for its "repetitive character" (Art. 12(5)); and how a further copy of access data
    is told from the first, which is always free (Art. 15(3), CJEU C-307/22).
    """
    return (
        DataSubjectRequest.objects.filter(email_hash=request.email_hash)
        .exclude(pk=request.pk)
        .order_by("received_at", "pk")
    )


def is_marketing_suppressed(*, email: str) -> bool:
    """Whether the address objected to direct marketing (GDPR Art. 21(3)): a marketing system must leave it out."""
    return MarketingSuppression.objects.filter(email_hash=email_lookup_hash(email)).exists()
