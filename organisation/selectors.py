import time

from django.conf import settings

from .models import Organisation

# The organisation's record changes rarely (an admin edit) but is read on every
# submission and every e-mail: keep it per process for a short while. A save in
# this process clears it at once (see models.Organisation.save); other processes
# see the change within the TTL.
_TTL_SECONDS = 60.0
_cached: tuple[float, Organisation] | None = None


def organisation_get() -> Organisation:
    """The organisation's settings record, created from the environment on first use."""
    global _cached
    now = time.monotonic()
    if _cached is not None and now - _cached[0] < _TTL_SECONDS:
        return _cached[1]
    organisation = Organisation.objects.order_by("pk").first()
    if organisation is None:
        organisation, _ = Organisation.objects.get_or_create(pk=1, defaults=settings.DSAR_ORGANISATION)
    _cached = (now, organisation)
    return organisation


def organisation_forget() -> None:
    global _cached
    _cached = None
