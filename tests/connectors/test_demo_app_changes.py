"""The demo application connector carrying out changes in the demo CRM (issue 13): erasure with the register's
Art. 17(3) exceptions, restriction the shop then honours, a marketing objection appended to the consent history,
rectification and a supplementary statement; set-based in batches, resumable, exactly once."""

import hashlib
import hmac
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from datasystems.change_rules import tables_for
from datasystems.connectors.base import ConnectorError, Identifiers
from datasystems.connectors.changes import (
    KEYED_HASH_PREFIX,
    ChangeInstruction,
    ChangeKind,
    ChangeSuperseded,
    MemoryProgress,
    TableAction,
    TableInstruction,
    keyed_hash,
)
from datasystems.connectors.demo_app import DEMOCRM_CONFIG, DemoAppConnector
from democrm import processing
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
    SupplementaryStatement,
    SupportTicket,
    TicketMessage,
)

pytestmark = pytest.mark.django_db

KEY = b"the erasure key of this test"
ALAN = Identifiers.of(email="alan@demo.example")
WHEN = datetime(2026, 1, 1, tzinfo=UTC)
ORDERS, LINES, EVENTS = 4, 2, 11


def _customer(number: str, email: str, *, orders: int, events: int) -> Customer:
    customer = Customer.objects.create(
        customer_number=number,
        name=f"Person {number}",
        email=email,
        phone="07700900" + number[-3:],
        address_line="1 Road",
        city="Leeds",
        postcode="LS1 1AA",
        created=WHEN,
    )
    Account.objects.create(customer=customer, username=email, opened=WHEN)
    for n in range(orders):
        order = Order.objects.create(
            customer=customer,
            order_number=f"SO-{number}-{n}",
            placed_at=WHEN,
            status="placed",
            total=Decimal("9.99"),
            delivery_address="1 Road, Leeds",
            payment_reference=f"PSP-{number}-{n}",
        )
        for k in range(LINES):
            OrderLine.objects.create(order=order, sku=f"SKU-{k}", description="Tea", quantity=1, unit_price=Decimal(1))
    ticket = SupportTicket.objects.create(
        customer=customer, reference=f"T-{number}", subject="Where is my order?", status="open", opened_at=WHEN
    )
    TicketMessage.objects.create(ticket=ticket, sent_at=WHEN, author="customer", body="Hello")
    Event.objects.bulk_create(Event(customer=customer, occurred_at=WHEN, kind="page_view") for _ in range(events))
    CustomerInsight.objects.create(
        customer=customer,
        computed_at=WHEN,
        segment="loyal",
        churn_risk=Decimal("0.1"),
        predicted_annual_value=Decimal(10),
        model_version="v1",
    )
    MarketingProfile.objects.create(
        customer=customer, segment="loyal", offer_propensity=Decimal("0.7"), computed_at=WHEN
    )
    AdAudienceMember.objects.create(
        customer=customer, audience="lapsed_customers", email_sha256=number.lower() * 8, added_at=WHEN
    )
    for channel, consents in (("email", [True]), ("sms", [True, False]), ("post", [True])):
        for hour, consent in enumerate(consents):
            MarketingPreference.objects.create(
                customer=customer, channel=channel, consent=consent, changed_at=WHEN.replace(hour=hour), source="web"
            )
    return customer


@pytest.fixture
def crm():
    alan = _customer("C-1001", "alan@demo.example", orders=ORDERS, events=EVENTS)
    grace = _customer("C-1002", "grace@demo.example", orders=1, events=2)
    return alan, grace


def _instruction(kind: ChangeKind, batch_size: int = 3, **extra) -> ChangeInstruction:
    return ChangeInstruction(
        kind=kind, tables=tables_for(DEMOCRM_CONFIG, kind), batch_size=batch_size, hash_key=KEY, **extra
    )


ERASED = {
    "customers": (TableAction.ANONYMISE, 1),
    "accounts": (TableAction.DELETE, 1),
    "orders": (TableAction.ANONYMISE, ORDERS),
    "order_lines": (TableAction.KEEP, 0),
    "marketing_preferences": (TableAction.DELETE, 4),
    "support_tickets": (TableAction.DELETE, 1),
    "ticket_messages": (TableAction.DELETE, 1),
    "events": (TableAction.DELETE, EVENTS),
    "insights": (TableAction.DELETE, 1),
    "marketing_profiles": (TableAction.DELETE, 1),
    "ad_audiences": (TableAction.DELETE, 1),
}


def _assert_alan_erased(alan: Customer) -> None:
    alan.refresh_from_db()
    assert alan.customer_number == "C-1001"  # kept: the account holder of the invoices (Art. 17(3)(b))
    assert alan.email == keyed_hash(KEY, "alan@demo.example") and alan.name == "Erased customer"
    assert (alan.phone, alan.address_line, alan.city, alan.postcode, alan.date_of_birth) == ("", "", "", "", None)
    for number, order in enumerate(alan.orders.order_by("pk")):
        assert order.delivery_address == ""
        assert order.payment_reference == keyed_hash(KEY, f"PSP-C-1001-{number}", max_length=40)
    assert OrderLine.objects.filter(order__customer=alan).count() == ORDERS * LINES
    for related in (
        alan.accounts,
        alan.events,
        alan.tickets,
        alan.insights,
        alan.marketing_preferences,
        alan.ad_audiences,
        MarketingProfile.objects.filter(customer=alan),
    ):
        assert not related.exists()
    assert not TicketMessage.objects.filter(ticket__customer=alan).exists()


def test_count_says_what_erasure_would_change_and_changes_nothing(crm):
    counts = DemoAppConnector(DEMOCRM_CONFIG).count(ALAN, _instruction(ChangeKind.ERASE))
    assert counts == {name: rows for name, (_, rows) in ERASED.items()}
    assert Event.objects.filter(customer=crm[0]).count() == EVENTS


def test_erasure_deletes_anonymises_and_keeps_as_the_register_says_in_batches_with_the_customer_last(crm):
    alan, grace = crm
    progress = MemoryProgress()
    seen: list[str] = []
    original = progress.batch_done

    def batch_done(checkpoint, *, table, rows):
        seen.append(table)
        original(checkpoint, table=table, rows=rows)

    progress.batch_done = batch_done
    outcome = DemoAppConnector(DEMOCRM_CONFIG).apply_change(ALAN, _instruction(ChangeKind.ERASE), progress=progress)

    assert {table.table: (table.action, table.rows) for table in outcome.tables} == ERASED
    assert outcome.batches == progress.batches > len(ERASED)  # events alone take 4 batches of 3
    assert seen[0] == "ticket_messages" and seen[-1] == "customers"
    _assert_alan_erased(alan)
    grace.refresh_from_db()
    assert grace.email == "grace@demo.example" and grace.events.count() == 2 and grace.orders.get().delivery_address


def test_erasing_again_changes_nothing(crm):
    connector = DemoAppConnector(DEMOCRM_CONFIG)
    connector.apply_change(ALAN, _instruction(ChangeKind.ERASE), progress=MemoryProgress())
    again = connector.apply_change(
        Identifiers.of(customer_id="C-1001"), _instruction(ChangeKind.ERASE), progress=MemoryProgress()
    )
    assert again.rows == 0
    _assert_alan_erased(crm[0])


class CrashingProgress(MemoryProgress):
    """Taken over by another run at batch ``after``: its checkpoint is not saved, and the batch rolls back with it
    (the demo application lives in the portal's database: the batch and its record commit together)."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    def batch_done(self, checkpoint, *, table, rows):
        if self.batches + 1 == self.after:
            raise ChangeSuperseded
        super().batch_done(checkpoint, table=table, rows=rows)


@pytest.mark.parametrize("crash_at", [1, 3, 6, 9])
def test_a_run_stopped_mid_way_finishes_from_its_checkpoint_changing_and_counting_every_row_once(crm, crash_at):
    connector = DemoAppConnector(DEMOCRM_CONFIG)
    crashed = CrashingProgress(crash_at)
    with pytest.raises(ChangeSuperseded):
        connector.apply_change(ALAN, _instruction(ChangeKind.ERASE), progress=crashed)
    resumed = MemoryProgress(checkpoint=crashed.checkpoint)
    outcome = connector.apply_change(ALAN, _instruction(ChangeKind.ERASE), progress=resumed)
    assert {table.table: (table.action, table.rows) for table in outcome.tables} == ERASED
    assert crashed.batches + resumed.batches == outcome.batches + crashed.batches
    _assert_alan_erased(crm[0])


def test_restriction_takes_the_customer_out_of_everything_the_shop_does_until_lifted(crm):
    """Art. 18(1)-(2): the flag set by the portal is what the shop's own processing reads."""
    alan, grace = crm
    connector = DemoAppConnector(DEMOCRM_CONFIG)
    outcome = connector.apply_change(ALAN, _instruction(ChangeKind.RESTRICT), progress=MemoryProgress())
    assert [(t.table, t.action, t.rows) for t in outcome.tables] == [("customers", TableAction.FLAG, 1)]
    assert list(processing.customers_in_use()) == [grace]
    assert alan not in processing.marketing_audience("email")
    assert not processing.customer_usable(Customer.objects.get(pk=alan.pk))
    assert connector.apply_change(ALAN, _instruction(ChangeKind.RESTRICT), progress=MemoryProgress()).rows == 0
    connector.apply_change(ALAN, _instruction(ChangeKind.LIFT_RESTRICTION), progress=MemoryProgress())
    assert set(processing.customers_in_use()) == {alan, grace}


def test_a_marketing_objection_appends_a_no_to_each_channel_still_yes_and_keeps_the_history(crm):
    """Art. 21(3) carried out, Art. 7(1) evidence kept: the e-mail and post channels get a new "no" row; SMS,
    already "no", gets none; the earlier rows stay. Art. 21(2): the marketing profile stops and is cleared, and the
    ad audience entry is excluded from the next upload."""
    alan, grace = crm
    connector = DemoAppConnector(DEMOCRM_CONFIG)
    assert alan in processing.marketing_audience("email") and alan in processing.marketing_audience("post")
    assert connector.count(ALAN, _instruction(ChangeKind.SUPPRESS_MARKETING)) == {
        "marketing_preferences": 2,
        "marketing_profiles": 1,
        "ad_audiences": 1,
    }
    outcome = connector.apply_change(ALAN, _instruction(ChangeKind.SUPPRESS_MARKETING), progress=MemoryProgress())
    assert outcome.rows == 4
    assert alan not in processing.marketing_profiling_population() and grace in processing.marketing_targets("loyal")
    assert list(processing.audience_upload("lapsed_customers")) == list(grace.ad_audiences.all())
    profile = MarketingProfile.objects.get(customer=alan)
    assert (profile.profiling_stopped, profile.segment, profile.offer_propensity) == (True, "", None)
    added = alan.marketing_preferences.filter(source="Objection to direct marketing")
    assert sorted(added.values_list("channel", "consent")) == [("email", False), ("post", False)]
    assert alan.marketing_preferences.count() == 4 + 2
    for channel in ("email", "sms", "post"):
        assert alan not in processing.marketing_audience(channel)
    assert grace in processing.marketing_audience("email")
    again = connector.apply_change(ALAN, _instruction(ChangeKind.SUPPRESS_MARKETING), progress=MemoryProgress())
    assert again.rows == 0 and alan.marketing_preferences.count() == 6


def test_a_marketing_objection_for_named_channels_only_stops_those(crm):
    alan, _ = crm
    instruction = ChangeInstruction(
        kind=ChangeKind.SUPPRESS_MARKETING,
        tables=tables_for(DEMOCRM_CONFIG, ChangeKind.SUPPRESS_MARKETING, channels=["email"]),
        channels=["email"],
    )
    DemoAppConnector(DEMOCRM_CONFIG).apply_change(ALAN, instruction, progress=MemoryProgress())
    assert alan not in processing.marketing_audience("email") and alan in processing.marketing_audience("post")
    assert alan in processing.marketing_profiling_population()
    assert alan.ad_audiences.get().excluded is False


def test_rectification_sets_rectifiable_fields_stores_a_statement_once_and_refuses_other_columns(crm):
    alan, _ = crm
    connector = DemoAppConnector(DEMOCRM_CONFIG)
    correction = ChangeInstruction(
        kind=ChangeKind.RECTIFY,
        tables=[
            TableInstruction("customers", TableAction.UPDATE, values={"name": "Alan M. Turing", "city": "Wilmslow"})
        ],
        supplementary_statement="I moved to Wilmslow in 1949.",
    )
    outcome = connector.apply_change(ALAN, correction, progress=MemoryProgress())
    assert {t.table: t.rows for t in outcome.tables} == {"supplementary_statement": 1, "customers": 1}
    alan.refresh_from_db()
    assert (alan.name, alan.city) == ("Alan M. Turing", "Wilmslow")
    assert connector.apply_change(ALAN, correction, progress=MemoryProgress()).rows == 0
    assert list(SupplementaryStatement.objects.values_list("customer", "statement")) == [
        (alan.pk, "I moved to Wilmslow in 1949.")
    ]
    refused = ChangeInstruction(
        kind=ChangeKind.RECTIFY,
        tables=[TableInstruction("customers", TableAction.UPDATE, values={"email": "new.secret@example.com"})],
    )
    with pytest.raises(ConnectorError, match="'email' is not listed as rectifiable") as error:
        connector.apply_change(ALAN, refused, progress=MemoryProgress())
    assert "new.secret" not in str(error.value)


def _hasher(name: str, value: str) -> str:
    return hmac.new(KEY, f"{name}:{value}".encode(), hashlib.sha256).hexdigest()


def test_find_identifiers_returns_the_people_whose_identifier_hashes_match(crm):
    found = DemoAppConnector(DEMOCRM_CONFIG).find_identifiers({_hasher("phone", "07700900001")}, _hasher)
    assert [(person.email, person.customer_id, person.phone) for person in found] == [
        ("alan@demo.example", "C-1001", "07700900001")
    ]
    assert DemoAppConnector(DEMOCRM_CONFIG).find_identifiers({_hasher("email", "x@y.example")}, _hasher) == []


def _with(table: str, **rule) -> dict:
    tables = [dict(entry, **rule) if entry["name"] == table else entry for entry in DEMOCRM_CONFIG["tables"]]
    return {**DEMOCRM_CONFIG, "tables": tables}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (_with("customers", rectifiable=["nickname"]), "does not have"),
        (_with("customers", restriction={"column": "frozen"}), "does not have"),
        (_with("customers", erasure={"action": "delete"}), "a table it belongs to is deleted"),
        (
            _with(
                "orders",
                erasure={
                    "action": "anonymise",
                    "fields": {"currency": "keyed_hash"},
                    "ground": "erasure_legal_obligation",
                    "reason": "Tax.",
                },
            ),
            "too short",
        ),
        (_with("orders", erasure={"action": "anonymise", "fields": {"total": "null"}, "ground": "x"}), "Article 17"),
        (_with("marketing_preferences", marketing={"append": {"consent": False}, "channels": "channel"}), "at"),
        ({**DEMOCRM_CONFIG, "supplementary_statement": {"model": "democrm.Order", "link": "customer"}}, "text"),
    ],
)
def test_the_connector_check_refuses_change_rules_it_cannot_carry_out(config, message):
    DemoAppConnector(DEMOCRM_CONFIG).check()
    with pytest.raises(ConnectorError, match=message):
        DemoAppConnector(config).check()


def test_keyed_hashes_fit_short_columns_and_carry_the_prefix():
    assert keyed_hash(KEY, "PSP-1", max_length=40).startswith(KEYED_HASH_PREFIX)
    assert len(keyed_hash(KEY, "PSP-1", max_length=40)) == 40 and len(keyed_hash(KEY, "PSP-1")) == 69
