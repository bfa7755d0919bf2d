"""Proof that the requester controls the e-mail address they gave: a one-time code, part of intake.

Only a keyed hash of each code is stored (``EmailConfirmation``, a ``dsar_portal.onetime.OneTimeCode``); the code
itself exists only in the e-mail that carries it.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dsar_portal.onetime import CodeCheck, new_code, one_time_code_check, secret_hash

from .locks import request_lock
from .models import DataSubjectRequest, EmailConfirmation

CODE_PURPOSE = "email-confirmation"


def email_code_issue(*, request: DataSubjectRequest) -> str:
    """Issue a fresh confirmation code for ``request`` and return it (to be e-mailed, never stored).

    Locks the request before its code rows (``requests_app.locks``), as confirming a code does: retiring the live
    code first and inserting the new one (which key-share locks the request) after deadlocked with a confirmation
    holding the request and waiting for that code."""
    code = new_code()
    now = timezone.now()
    with transaction.atomic():
        request_lock(request.pk)
        EmailConfirmation.objects.filter(request=request, used_at=None, retired_at=None).update(retired_at=now)
        EmailConfirmation.objects.create(
            request=request,
            code_hash=secret_hash(code, purpose=CODE_PURPOSE),
            expires_at=now + timedelta(minutes=settings.DSAR_EMAIL_CODE_TTL_MINUTES),
        )
    return code


def email_code_check(*, request: DataSubjectRequest, code: str) -> CodeCheck:
    """Check a code the person typed against the live code for ``request``."""
    return one_time_code_check(
        EmailConfirmation.objects.filter(request=request),
        code,
        purpose=CODE_PURPOSE,
        max_attempts=settings.DSAR_EMAIL_CODE_MAX_ATTEMPTS,
    )


def email_code_resend_allowed(*, request: DataSubjectRequest) -> bool:
    """Throttle resends so a code cannot be requested in a tight loop."""
    latest = EmailConfirmation.objects.filter(request=request).order_by("-created_at").first()
    if latest is None:
        return True
    wait = timedelta(seconds=settings.DSAR_EMAIL_CODE_RESEND_SECONDS)
    return timezone.now() - latest.created_at >= wait
