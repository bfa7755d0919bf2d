"""Identity and authority evidence never outlives its purpose (LAW.md I2, §6(h)): it goes after any decision and
after any end of the request, documents sent after the last check included."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from identity import services as identity_services
from identity.policy import policy_get
from requests_app import services as request_services
from requests_app.models import DocumentPurpose, RequestDocument, Status
from tests.factories import StaffUserFactory, document_asked_request, png_upload

pytestmark = pytest.mark.django_db(transaction=True)


def _reviewer():
    user = StaffUserFactory(first_name="Jane", last_name="Smith")
    for perm in ("decide_verification", "view_evidence"):
        user.user_permissions.add(Permission.objects.get(codename=perm))
    return type(user).objects.get(pk=user.pk)


def _document_asked():
    return document_asked_request(email="stranger@example.com")


def _upload(request):
    return identity_services.request_evidence_upload(
        request=request, document=png_upload(), purpose=DocumentPurpose.IDENTITY_EVIDENCE
    )


def _retention() -> timedelta:
    return timedelta(hours=policy_get().evidence_retention_hours)


def _live_evidence(request) -> int:
    return RequestDocument.objects.filter(request=request, deleted_at=None).count()


def test_evidence_of_a_withdrawn_request_is_deleted_after_the_retention_period():
    request = _document_asked()
    _upload(request)
    request_services.request_withdraw(request=request)
    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN

    assert identity_services.evidence_purge(now=timezone.now() + _retention() - timedelta(minutes=5)) == 0
    assert identity_services.evidence_purge(now=timezone.now() + _retention() + timedelta(minutes=5)) == 1
    assert _live_evidence(request) == 0


def test_a_document_sent_after_the_last_check_is_deleted_when_the_request_is_refused():
    request = _document_asked()
    _upload(request)
    identity_services.verification_decide(
        request=request, actor=_reviewer(), outcome="more_needed", document_kind="bill", message="Too old."
    )
    _upload(request)  # sent after the last check, never reviewed
    request.refresh_from_db()
    request_services.request_refuse(
        request=request, actor=_reviewer(), ground="manifestly_unfounded", reasons="Abusive.", note="Threats."
    )

    later = timezone.now() + _retention() + timedelta(minutes=5)
    assert identity_services.evidence_purge(now=later) == 2
    assert _live_evidence(request) == 0


def test_evidence_of_an_identity_check_that_timed_out_is_deleted():
    request = _document_asked()
    _upload(request)
    identity_services.verification_decide(
        request=request, actor=_reviewer(), outcome="more_needed", document_kind="bill", message="Unreadable."
    )
    _upload(request)
    identity_services.verification_decide(
        request=request, actor=_reviewer(), outcome="more_needed", document_kind="bill", message="Still unreadable."
    )
    policy = policy_get()
    identity_services.verification_timeouts_sweep(now=timezone.now() + timedelta(days=policy.response_timeout_days + 1))
    request.refresh_from_db()
    assert request.status == Status.REFUSED

    later = timezone.now() + timedelta(days=policy.response_timeout_days + 2)
    identity_services.evidence_purge(now=later)
    assert _live_evidence(request) == 0


def test_evidence_waiting_for_review_on_an_open_request_is_kept():
    request = _document_asked()
    _upload(request)
    assert identity_services.evidence_purge(now=timezone.now() + timedelta(days=60)) == 0
    assert _live_evidence(request) == 1
