from django.db.models import QuerySet

from requests_app.models import DataSubjectRequest, DocumentPurpose, RequestDocument, Status

from .models import SubjectConfirmation


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


def subject_confirmation_of(*, request: DataSubjectRequest) -> SubjectConfirmation | None:
    """The data subject's answer to the agent who filed ``request``, if we asked them."""
    return SubjectConfirmation.objects.filter(request=request).first()
