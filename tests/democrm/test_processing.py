"""The demo shop honours what the portal changed in its records (issue 13): a restricted customer is only stored
(GDPR Art. 18(2)), and a customer who objected to direct marketing on a channel is not marketed to there (Art.
21(3)); the admin shows restricted customers and refuses to change them."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from democrm import processing
from democrm.models import AdAudienceMember, Customer, MarketingPreference, MarketingProfile, Order
from tests.factories import superuser

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def _customer(number: str, *, restricted: bool = False) -> Customer:
    return Customer.objects.create(
        customer_number=number,
        name=f"Person {number}",
        email=f"{number}@demo.example",
        created=WHEN,
        restricted=restricted,
    )


def _consent(customer: Customer, channel: str, consent: bool, hour: int) -> None:
    MarketingPreference.objects.create(
        customer=customer, channel=channel, consent=consent, changed_at=WHEN.replace(hour=hour)
    )


def test_the_marketing_audience_is_who_said_yes_last_on_that_channel_and_is_not_restricted():
    yes, withdrew, restricted, never = (_customer(n) for n in ("C-1", "C-2", "C-3", "C-4"))
    _consent(yes, "email", True, 1)
    _consent(withdrew, "email", True, 1)
    _consent(withdrew, "email", False, 2)  # Art. 7(3) / 21(3): the latest row decides
    _consent(restricted, "email", True, 1)
    Customer.objects.filter(pk=restricted.pk).update(restricted=True)
    _consent(never, "sms", True, 1)
    assert list(processing.marketing_audience("email")) == [yes]
    assert list(processing.marketing_audience("sms")) == [never]
    assert set(processing.customers_in_use()) == {yes, withdrew, never}


def test_the_admin_marks_a_restricted_customer_and_refuses_to_change_them_or_their_orders(client):
    restricted = _customer("C-9", restricted=True)
    free = _customer("C-8")
    order = Order.objects.create(customer=restricted, order_number="SO-9", placed_at=WHEN, status="placed", total=1)
    client.force_login(superuser())

    listing = client.get(reverse("admin:democrm_customer_changelist")).content.decode()
    assert "RESTRICTED: storage only (Art. 18)" in listing and "In use" in listing

    page = client.get(reverse("admin:democrm_customer_change", args=[restricted.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "restricted (GDPR Art. 18)" in html and 'name="_save"' not in html
    posted = client.post(reverse("admin:democrm_customer_change", args=[restricted.pk]), {"name": "Changed"})
    assert posted.status_code == 403
    restricted.refresh_from_db()
    assert restricted.name == "Person C-9"
    assert (
        client.post(reverse("admin:democrm_customer_delete", args=[restricted.pk]), {"post": "yes"}).status_code == 403
    )
    assert client.post(reverse("admin:democrm_order_change", args=[order.pk]), {}).status_code == 403
    # A customer not restricted stays editable.
    assert 'name="_save"' in client.get(reverse("admin:democrm_customer_change", args=[free.pk])).content.decode()


def test_a_customer_whose_marketing_profiling_stopped_is_no_longer_scored_or_targeted():
    """GDPR Art. 21(2)-(3): profiling related to direct marketing stops with the objection; a restricted customer
    (Art. 18(2)) is not profiled either."""
    profiled, objected, restricted = (_customer(n) for n in ("C-1", "C-2", "C-3"))
    for customer in (profiled, objected, restricted):
        MarketingProfile.objects.create(customer=customer, segment="loyal", offer_propensity="0.800")
    MarketingProfile.objects.filter(customer=objected).update(profiling_stopped=True, segment="")
    Customer.objects.filter(pk=restricted.pk).update(restricted=True)
    unscored = _customer("C-4")  # not scored yet: the next scoring run takes them
    assert set(processing.marketing_profiling_population()) == {profiled, unscored}
    assert list(processing.marketing_targets("loyal")) == [profiled]


def test_a_customer_excluded_from_an_ad_audience_is_left_out_of_the_next_upload():
    """GDPR Art. 21(3): an excluded member is not uploaded again, so the ad platform drops them."""
    members = {}
    for number in ("C-1", "C-2", "C-3"):
        customer = _customer(number, restricted=number == "C-3")
        members[number] = AdAudienceMember.objects.create(
            customer=customer, audience="lapsed_customers", email_sha256=number * 10, added_at=WHEN
        )
    AdAudienceMember.objects.filter(pk=members["C-2"].pk).update(excluded=True)
    assert list(processing.audience_upload("lapsed_customers")) == [members["C-1"]]
    assert not processing.audience_upload("lookalike_seed").exists()
