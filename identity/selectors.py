from django.db.models import QuerySet

from requests_app.models import DataSubjectRequest, DocumentPurpose, RequestDocument, Status


def verification_queue() -> QuerySet[DataSubjectRequest]:
    """Requests waiting on identity, soonest legal deadline first."""
    return (
        DataSubjectRequest.objects.filter(status=Status.AWAITING_IDENTITY_VERIFICATION)
        .select_related("identity_verification")
        .order_by("due_on", "received_at")
    )


def evidence_documents(*, request: DataSubjectRequest) -> QuerySet[RequestDocument]:
    return RequestDocument.objects.filter(
        request=request, purpose__in=[DocumentPurpose.IDENTITY_EVIDENCE, DocumentPurpose.AUTHORITY]
    ).order_by("uploaded_at")
