from django.db.models import QuerySet

from requests_app.models import DataSubjectRequest, DocumentPurpose, RequestDocument

from .models import SubjectConfirmation


def evidence_documents(*, request: DataSubjectRequest) -> QuerySet[RequestDocument]:
    return RequestDocument.objects.filter(
        request=request, purpose__in=[DocumentPurpose.IDENTITY_EVIDENCE, DocumentPurpose.AUTHORITY]
    ).order_by("uploaded_at")


def subject_confirmation_of(*, request: DataSubjectRequest) -> SubjectConfirmation | None:
    """The data subject's answer to the agent who filed ``request``, if we asked them."""
    return SubjectConfirmation.objects.filter(request=request).first()
