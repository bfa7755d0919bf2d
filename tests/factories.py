"""Test data, built through the services so every request has a real history."""

from datetime import datetime, time

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from identity import services as identity_services
from requests_app import services
from requests_app.confirmation import email_code_issue
from requests_app.models import DataSubjectRequest, RequesterRole, Right
from requests_app.scope import AccessScope, ObjectionScope, ObjectionType


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
        "details": AccessScope().as_details(),
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
    identity_services.request_confirm_email(request=request, code=code)
    request.refresh_from_db()
    return request


def in_progress_request(*, actor=None, verified_on=None, **kwargs) -> DataSubjectRequest:
    request = confirmed_request(**kwargs)
    services.request_identity_verified(
        request=request, actor=actor or StaffUserFactory(), evidence_received_on=verified_on
    )
    request.refresh_from_db()
    return request


# --- Helpers for the requests_app tests ----------------------------------------------------


def superuser():
    """A staff user who may see everything in the admin."""
    return StaffUserFactory(is_superuser=True)


def marketing_objection(**overrides) -> services.Submission:
    """An objection to direct marketing: a confirmed e-mail is all the identity it needs."""
    overrides.setdefault("right", Right.OBJECTION)
    overrides.setdefault("details", ObjectionScope(type=ObjectionType.DIRECT_MARKETING).as_details())
    return submission(**overrides)


def in_progress_objection(*, received_on=None, **overrides) -> DataSubjectRequest:
    """A request that is in progress as soon as the e-mail is confirmed, with no identity pause."""
    overrides.setdefault("right", Right.OBJECTION)
    overrides.setdefault("details", ObjectionScope(type=ObjectionType.DIRECT_MARKETING).as_details())
    return confirmed_request(received_on=received_on, **overrides)


def png_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    """A real, small PNG image made with Pillow."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, format="PNG")
    return buffer.getvalue()


def png_upload(name: str = "scan.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def code_in(email) -> str:
    """The 6-digit confirmation code in an e-mail we sent."""
    import re

    found = re.search(r"^\s+(\d{6})\s*$", email.body, re.MULTILINE)
    assert found, "no confirmation code in the e-mail"
    return found.group(1)


def status_link_path_in(email) -> str:
    """The path of the private status link in an e-mail we sent (e.g. /status/link/<token>/)."""
    import re

    from django.conf import settings

    found = re.search(re.escape(settings.DSAR_PUBLIC_URL) + r"(/status/link/[A-Za-z0-9_-]+/)", email.body)
    assert found, "no status link in the e-mail"
    return found.group(1)
