"""Reading the recipient notices for the staff queue (casework knows no recipient notices: ``apps`` registers the
flag)."""

from django.db.models import Exists, OuterRef, QuerySet

from .models import NoticeStatus, RecipientNotice


def failed_notice_exists() -> Exists:
    """A notice to a recipient of the person's data could not be sent (by e-mail, or the recipient's HTTP endpoint
    refused it or never answered) and waits for staff to send it again or judge it disproportionate (GDPR Art. 19):
    the queue's flag and filter, an ``Exists`` over the outer query's request ``pk``."""
    return Exists(RecipientNotice.objects.filter(request=OuterRef("pk"), status=NoticeStatus.FAILED))


def requests_with_failed_notices() -> QuerySet:
    """The ids of the requests with a failed notice, read by the notices' (status, updated_at) index: the queue's
    filter sorts these few rather than probing every open request."""
    return RecipientNotice.objects.filter(status=NoticeStatus.FAILED).values("request_id")
