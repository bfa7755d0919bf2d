"""What the demo shop does with its customers' data, honouring what the DSAR portal changed in its records.

The shop knows nothing of the portal: it only reads its own flags and history. A restricted customer (GDPR Art.
18(1) and (2): their data may only be stored) drops out of everything the shop does with data; a customer whose
latest preference for a channel is "no" (an objection to direct marketing, Art. 21(3), or a withdrawn consent,
Art. 7(3)) drops out of that channel's audience; one whose marketing profiling was stopped (Art. 21(2)-(3)) is no
longer scored or targeted, and one excluded from an advertising audience is no longer uploaded to the ad platform.
"""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from .models import AdAudienceMember, Customer, MarketingPreference


def customers_in_use() -> QuerySet[Customer]:
    """The customers whose data the shop may use for anything but storage (GDPR Art. 18(2): not the restricted)."""
    return Customer.objects.filter(restricted=False)


def customer_usable(customer: Customer) -> bool:
    """Whether the shop may use (change, contact, analyse) this customer's data (GDPR Art. 18(2))."""
    return not customer.restricted


def marketing_audience(channel: str) -> QuerySet[Customer]:
    """The customers the shop may market to on ``channel``: their latest preference for it says yes (the history
    is kept as the evidence of consent, Art. 7(1); its latest row decides, Art. 7(3) and 21(3)), and their data is
    not restricted (Art. 18(2))."""
    latest = (
        MarketingPreference.objects.filter(customer=OuterRef("pk"), channel=channel)
        .order_by("-changed_at", "-pk")
        .values("consent")[:1]
    )
    return customers_in_use().annotate(latest_consent=Subquery(latest)).filter(latest_consent=True)


def marketing_profiling_population() -> QuerySet[Customer]:
    """The customers the shop's marketing model may score and put in segments: not restricted (Art. 18(2)), and
    their profiling for direct marketing not stopped by an objection (Art. 21(2)-(3))."""
    return customers_in_use().exclude(marketing_profile__profiling_stopped=True)


def marketing_targets(segment: str) -> QuerySet[Customer]:
    """The customers of a marketing segment an offer is targeted at (profiling for direct marketing, Art. 21(2)):
    only those the shop may still profile."""
    return marketing_profiling_population().filter(marketing_profile__segment=segment)


def audience_upload(audience: str) -> QuerySet[AdAudienceMember]:
    """The members the next sync uploads to the ad platform's custom ``audience`` (their hashed e-mail addresses;
    the platform drops whoever is left out): not excluded by an objection to direct marketing (Art. 21(3)), and
    their data not restricted (Art. 18(2))."""
    return AdAudienceMember.objects.filter(audience=audience, excluded=False, customer__restricted=False)
