from django.conf import settings

from .models import Organisation


def organisation_get() -> Organisation:
    """The organisation's settings record, created from the environment on first use."""
    organisation = Organisation.objects.order_by("pk").first()
    if organisation is None:
        organisation, _ = Organisation.objects.get_or_create(pk=1, defaults=settings.DSAR_ORGANISATION)
    return organisation
