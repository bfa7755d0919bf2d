import enum
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from requests_app.models import DataSubjectRequest

from .models import EmailConfirmation
from .tokens import new_code, secret_hash, secret_matches

CODE_PURPOSE = "email-confirmation"


class CodeCheck(enum.Enum):
    CONFIRMED = "confirmed"
    WRONG = "wrong"
    EXPIRED = "expired"  # expired, used up its attempts, or never issued


def email_code_issue(*, request: DataSubjectRequest) -> str:
    """Issue a fresh confirmation code for ``request`` and return it (to be e-mailed, never stored)."""
    code = new_code()
    now = timezone.now()
    with transaction.atomic():
        EmailConfirmation.objects.filter(request=request, used_at=None, retired_at=None).update(retired_at=now)
        EmailConfirmation.objects.create(
            request=request,
            code_hash=secret_hash(code, purpose=CODE_PURPOSE),
            expires_at=now + timedelta(minutes=settings.DSAR_EMAIL_CODE_TTL_MINUTES),
        )
    return code


def email_code_check(*, request: DataSubjectRequest, code: str) -> CodeCheck:
    """Check a code the person typed against the live code for ``request``.

    Each try counts against the code's attempts, right or wrong; a spent code
    cannot be used again.
    """
    code = "".join(code.split())
    now = timezone.now()
    with transaction.atomic():
        confirmation = (
            EmailConfirmation.objects.select_for_update().filter(request=request, used_at=None, retired_at=None).first()
        )
        if confirmation is None or confirmation.expires_at <= now:
            return CodeCheck.EXPIRED
        if confirmation.attempts >= settings.DSAR_EMAIL_CODE_MAX_ATTEMPTS:
            return CodeCheck.EXPIRED
        confirmation.attempts += 1
        if secret_matches(code, confirmation.code_hash, purpose=CODE_PURPOSE):
            confirmation.used_at = now
            confirmation.save(update_fields=["attempts", "used_at"])
            return CodeCheck.CONFIRMED
        confirmation.save(update_fields=["attempts"])
        return CodeCheck.WRONG


def email_code_resend_allowed(*, request: DataSubjectRequest) -> bool:
    """Throttle resends so a code cannot be requested in a tight loop."""
    latest = EmailConfirmation.objects.filter(request=request).order_by("-created_at").first()
    if latest is None:
        return True
    wait = timedelta(seconds=settings.DSAR_EMAIL_CODE_RESEND_SECONDS)
    return timezone.now() - latest.created_at >= wait
