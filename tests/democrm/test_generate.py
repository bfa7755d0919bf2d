from datetime import date

import pytest
from django.core.management import CommandError, call_command

from democrm.generate import DEMO_PEOPLE, democrm_generate
from democrm.models import (
    Account,
    AdAudienceMember,
    Customer,
    CustomerInsight,
    Event,
    MarketingPreference,
    MarketingProfile,
    Order,
    OrderLine,
    SupportTicket,
    TicketMessage,
)

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 11, 1)


def _snapshot() -> list:
    return [
        list(Customer.objects.order_by("customer_number").values_list("customer_number", "name", "email", "created")),
        list(Order.objects.order_by("order_number").values_list("order_number", "total", "placed_at")),
        list(
            Event.objects.order_by("customer__customer_number", "occurred_at", "session_id").values_list(
                "kind", "ip_address", "occurred_at", "session_id"
            )
        ),
    ]


def test_generates_about_the_rows_asked_for_across_every_table():
    """Every table gets rows; the total is people x rows per person, within the rounding of the split."""
    counts = democrm_generate(people=20, rows_per_person=100, as_of=AS_OF, demo_people=False, batch_size=37)
    assert Customer.objects.count() == counts.customers == 20
    assert 20 * 90 <= counts.total <= 20 * 101
    for model in (Account, CustomerInsight, Event, MarketingPreference, Order, OrderLine, SupportTicket, TicketMessage):
        assert model.objects.exists(), model
    assert counts.events == Event.objects.count()
    assert OrderLine.objects.count() == 2 * Order.objects.count()
    # Every child points at the right parent: the batch wrote parents before children.
    assert not OrderLine.objects.exclude(order__customer__in=Customer.objects.all()).exists()
    assert TicketMessage.objects.filter(ticket__customer=SupportTicket.objects.first().customer).exists()


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not():
    democrm_generate(people=5, rows_per_person=40, seed=7, as_of=AS_OF, demo_people=False)
    first = _snapshot()
    democrm_generate(people=5, rows_per_person=40, seed=7, as_of=AS_OF, demo_people=False, replace=True)
    assert _snapshot() == first
    democrm_generate(people=5, rows_per_person=40, seed=8, as_of=AS_OF, demo_people=False, replace=True)
    assert _snapshot() != first


def test_one_person_with_many_rows_is_written_in_batches():
    """A single customer with thousands of rows: the bench's case (one person, N rows)."""
    counts = democrm_generate(people=1, rows_per_person=5000, as_of=AS_OF, demo_people=False, batch_size=500)
    customer = Customer.objects.get()
    assert customer.events.count() + customer.orders.count() * 3 + customer.tickets.count() * 4 >= 4990
    assert counts.total == sum(
        model.objects.count()
        for model in (
            Account,
            AdAudienceMember,
            Customer,
            CustomerInsight,
            Event,
            MarketingPreference,
            MarketingProfile,
            Order,
            OrderLine,
            SupportTicket,
            TicketMessage,
        )
    )


def test_the_demo_requesters_are_customers_under_their_own_addresses():
    democrm_generate(people=0, rows_per_person=0, as_of=AS_OF)
    alan = Customer.objects.get(email="alan@demo.example")
    assert (alan.customer_number, alan.name, alan.phone) == ("C-1001", "Alan Turing", "07700900001")
    assert alan.orders.exists() and alan.events.exists()
    assert Customer.objects.count() == len(DEMO_PEOPLE)
    assert not Customer.objects.filter(email="rosa@demo.example").exists()
    assert not Customer.objects.filter(restricted=True).exists()


def test_generated_addresses_are_lower_case_and_ips_are_documentation_addresses():
    democrm_generate(people=30, rows_per_person=30, as_of=AS_OF, demo_people=False)
    assert all(email == email.lower() for email in Customer.objects.values_list("email", flat=True))
    for ip in Event.objects.values_list("ip_address", flat=True):
        assert ip.startswith(("192.0.2.", "198.51.100.", "203.0.113.", "2001:db8:")), ip


def test_the_command_refuses_a_second_copy_unless_told_to_replace(capsys):
    call_command("democrm_generate", "--people", "3", "--rows-per-person", "20", "--as-of", "2026-11-01")
    assert "Demo CRM:" in capsys.readouterr().out
    with pytest.raises(CommandError, match="--replace"):
        call_command("democrm_generate", "--people", "3")
    call_command("democrm_generate", "--people", "2", "--rows-per-person", "20", "--replace", "--no-demo-people")
    assert Customer.objects.count() == 2


def test_every_generated_value_fits_its_column_at_the_largest_sizes():
    """SQLite ignores a CharField's max_length and PostgreSQL does not: at a hundred million people and a billion
    orders, every value the generator builds still fits (validated without writing)."""
    from democrm.generate import Generator

    generator = Generator(seed=3, as_of=AS_OF, batch_size=10**9)  # nothing is flushed
    generator.counts.orders = generator.counts.tickets = 10**9
    customer = generator.generated_customer(99_999_999)
    customer.pk = 1
    customer.clean_fields()
    generator.activity(customer, 200)
    buffers = (
        generator.orders,
        generator.tickets,
        generator.accounts,
        generator.preferences,
        generator.events,
        generator.insights,
        generator.profiles,
        generator.audiences,
    )
    checked = 0
    for buffer in buffers:
        for obj in buffer.objects:
            obj.clean_fields(exclude=["customer"])
            checked += 1
    for children in (*generator.orders.pending, *generator.tickets.pending):
        for child in children:
            child.clean_fields(exclude=["order", "ticket"])
            checked += 1
    assert checked >= 200
