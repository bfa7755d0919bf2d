import copy
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from datasystems.connectors.base import ConnectorError, Identifiers, connector_for
from datasystems.connectors.demo_app import DEMOCRM_CONFIG, DemoAppConnector
from democrm.generate import democrm_generate
from democrm.models import Customer, Event, Order, OrderLine, TicketMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm():
    democrm_generate(people=8, rows_per_person=60, as_of=date(2026, 11, 1), demo_people=True, demo_rows_per_person=80)


def _tables(outcome) -> dict:
    return {table.name: table for table in outcome.tables}


def test_finds_every_table_of_the_person_by_email_and_only_theirs(crm):
    alan = Customer.objects.get(customer_number="C-1001")
    outcome = connector_for("demo_app", DEMOCRM_CONFIG).search(Identifiers.of(email="ALAN@demo.example"))
    assert outcome.searched and outcome.identifiers_used == ["email"]
    tables = _tables(outcome)
    assert list(tables) == [table["name"] for table in DEMOCRM_CONFIG["tables"]]
    customers = list(tables["customers"].rows)
    assert customers == [tuple(Customer.objects.filter(pk=alan.pk).values_list(*tables["customers"].columns).get())]
    orders = list(tables["orders"].rows)
    assert sorted(row[0] for row in orders) == sorted(alan.orders.values_list("order_number", flat=True))
    assert len(orders) > 0
    lines = list(tables["order_lines"].rows)
    assert len(lines) == OrderLine.objects.filter(order__customer=alan).count()
    assert {row[0] for row in lines} == {row[0] for row in orders}  # order__order_number ties each line to an order
    assert len(list(tables["events"].rows)) == Event.objects.filter(customer=alan).count()
    assert len(list(tables["ticket_messages"].rows)) == TicketMessage.objects.filter(ticket__customer=alan).count()


def test_inferred_data_is_marked_out_of_portability_scope(crm):
    outcome = DemoAppConnector(DEMOCRM_CONFIG).search(Identifiers.of(email="alan@demo.example"))
    scope = {table.name: table.provided_or_observed for table in outcome.tables}
    assert scope["insights"] is False
    assert scope["events"] is True and scope["customers"] is True
    assert all(table.description for table in outcome.tables)


def test_finds_the_person_by_customer_number_or_phone_where_configured(crm):
    connector = DemoAppConnector(DEMOCRM_CONFIG)
    by_number = connector.search(Identifiers.of(customer_id="C-1002"))
    by_phone = connector.search(Identifiers.of(phone="07700 900002"))
    assert by_number.identifiers_used == ["customer_id"] and by_phone.identifiers_used == ["phone"]
    assert [row[0] for row in _tables(by_number)["customers"].rows] == ["C-1002"]
    assert [row[0] for row in _tables(by_phone)["customers"].rows] == ["C-1002"]


def test_a_person_the_system_does_not_know_gets_empty_tables_not_someone_else(crm):
    outcome = DemoAppConnector(DEMOCRM_CONFIG).search(Identifiers.of(email="rosa@demo.example"))
    assert outcome.searched
    assert all(list(table.rows) == [] for table in outcome.tables)


def test_without_any_identifier_the_system_is_recorded_as_not_searched(crm):
    outcome = DemoAppConnector(DEMOCRM_CONFIG).search(Identifiers.of(name="Alan Turing"))
    assert not outcome.searched and outcome.tables == []
    assert "email" in outcome.not_searched_reason and "Alan" not in outcome.not_searched_reason


def test_rows_are_streamed_lazily_in_chunks(crm):
    """Nothing is read until the rows are iterated, and then a chunk at a time, not the whole table."""
    config = {**DEMOCRM_CONFIG, "chunk_size": 7}
    customer = Customer.objects.get(customer_number="C-1001")
    with CaptureQueriesContext(connection) as queries:
        outcome = DemoAppConnector(config).search(Identifiers.of(email="alan@demo.example"))
    assert len(queries) == 0
    events = _tables(outcome)["events"].rows
    first = next(iter(events))
    assert len(first) == len(_tables(outcome)["events"].columns)
    assert Event.objects.filter(customer=customer).count() > 7


def test_the_generated_people_are_found_too(crm):
    someone = Customer.objects.filter(customer_number__startswith="G-").first()
    outcome = DemoAppConnector(DEMOCRM_CONFIG).search(Identifiers.of(email=someone.email))
    assert len(list(_tables(outcome)["orders"].rows)) == Order.objects.filter(customer=someone).count()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["tables"][0].update(model="democrm.Nothing"), "no model democrm.Nothing"),
        (lambda c: c["tables"][0].update(model="Customer"), "app_label.ModelName"),
        (lambda c: c["tables"][1].update(columns=["username", "password"]), "names no field"),
        (lambda c: c["tables"][0].update(match={"email": "mail"}), "names no field"),
        (lambda c: c["tables"][1].update(via="custard"), "names no field"),
        (lambda c: c["tables"][3].update(via="order"), "must lead to democrm.Customer"),
        (lambda c: c["tables"][1].update(match={"email": "username"}), "not both"),
        (lambda c: c["tables"][1].pop("via"), "either 'match'"),
        (lambda c: c["tables"][2].update(name="customers"), "configured twice"),
        (lambda c: c.update(tables=[]), "non-empty list"),
        (lambda c: c.update(chunk_size=0), "chunk_size"),
    ],
)
def test_a_wrong_configuration_fails_the_check_with_a_message_saying_what_is_wrong(change, message):
    config = copy.deepcopy(DEMOCRM_CONFIG)
    change(config)
    with pytest.raises(ConnectorError, match=message):
        DemoAppConnector(config).check()


def test_the_demo_configuration_passes_the_check():
    DemoAppConnector(DEMOCRM_CONFIG).check()


def test_columns_default_to_every_plain_field():
    config = {"tables": [{"name": "customers", "model": "democrm.Customer", "match": {"email": "email"}}]}
    (table,) = DemoAppConnector(config).tables()
    assert "email" in table.columns and "restricted" in table.columns and "id" not in table.columns
