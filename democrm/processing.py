"""What the demo shop does with its customers' data, honouring what the DSAR portal changed in its records.

The shop knows nothing of the portal: it only reads its own flags and history. A restricted customer (GDPR Art.
18(1) and (2): their data may only be stored) drops out of everything the shop does with data; a customer whose
latest preference for a channel is "no" (an objection to direct marketing, Art. 21(3), or a withdrawn consent,
Art. 7(3)) drops out of that channel's audience.
"""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from .models import Customer, MarketingPreference


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
