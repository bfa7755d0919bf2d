"""Reads on data subject requests."""

from datetime import date

from django.db.models import QuerySet
from django.utils import timezone

from dsar_portal.onetime import secret_hash

from .models import DataSubjectRequest, Message, StatusLink


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


def requests_from_same_person(*, request: DataSubjectRequest) -> QuerySet[DataSubjectRequest]:
    """The person's other requests, found by the keyed hash of their e-mail address, newest first.

    What a DPO weighs when a request may be manifestly excessive by its repetitive character (GDPR Art. 12(5);
    ICO: "reasonable intervals") or when extending for the number of requests (Art. 12(3)); LAW.md R3.
    """
    return (
        DataSubjectRequest.objects.filter(email_hash=request.email_hash).exclude(pk=request.pk).order_by("-received_at")
    )
