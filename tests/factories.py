"""Test data, built through the services so every request has a real history."""

from datetime import datetime, time

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from identity.services import email_code_issue
from requests_app import services
from requests_app.models import DataSubjectRequest, RequesterRole, Right


class StaffUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"handler{n}")
    first_name = "Jo"
    last_name = "Smith"
    is_staff = True


def submission(**overrides) -> services.Submission:
    values = {
        "right": Right.ACCESS,
        "requester_role": RequesterRole.DATA_SUBJECT,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "identifiers": {"customer_number": "C-1001"},
        "details": {"access_scope": "all", "access_format": "report"},
        "description": "",
    }
    values.update(overrides)
    return services.Submission(**values)


def at(day, hour: int = 12) -> datetime:
    """An aware datetime on ``day`` in the organisation's time zone."""
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def submitted_request(*, received_on=None, received_at=None, **overrides) -> DataSubjectRequest:
    if received_on is not None:
        received_at = at(received_on)
    return services.request_submit(submission=submission(**overrides), received_at=received_at)


def confirmed_request(**kwargs) -> DataSubjectRequest:
    """A request whose e-mail is confirmed: awaiting identity (or in progress, by policy)."""
    request = submitted_request(**kwargs)
    code = email_code_issue(request=request)
    services.request_confirm_email(request=request, code=code)
    request.refresh_from_db()
    return request


def in_progress_request(*, actor=None, verified_on=None, **kwargs) -> DataSubjectRequest:
    request = confirmed_request(**kwargs)
    services.request_identity_verified(
        request=request, actor=actor or StaffUserFactory(), evidence_received_on=verified_on
    )
    request.refresh_from_db()
    return request
