"""Where a connector's rows live in PostgreSQL, the database writes a part's JSON and CSV itself (COPY); the bytes must
be exactly those of the row-by-row path, awkward values included: the same file a person gets, whichever path ran."""

import dataclasses
import json
import os
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from django.db import connection

from datasystems.connectors.base import Identifiers, connector_for
from datasystems.connectors.demo_app import DEMOCRM_CONFIG
from democrm.models import Customer, Event, MarketingPreference, Order, OrderLine, SupportTicket, TicketMessage
from fulfilment import pgexport, services
from tests.connectors.conftest import ensure_database, postgres_url

pytestmark = pytest.mark.django_db

AWKWARD = [
    'a "quoted", comma',
    "back\\slash \\n not a newline \\\\ two",
    "line\nbreak and\r\ncrlf and lone\rcr",
    "tab\there, form\ffeed, vertical\vtab, backspace\b, bell\x07, soh\x01, stx\x02, del\x7f",
    "unicode: é ß 中文 😀 \u2028 \u2029 \ufeff",
    "  leading and trailing spaces  ",
    "",
    "\\.",
    "ends with a backslash \\",
    "'single' quotes; semicolons -- and /* comments */",
    '{"json": [1, 2]}',
    "%s %(name)s %%",
]


def _postgres_only():
    if connection.vendor != "postgresql":
        if os.environ.get("DSAR_REQUIRE_SERVICES"):
            pytest.fail("DSAR_REQUIRE_SERVICES is set but the tests do not run on PostgreSQL")
        pytest.skip("the COPY path needs PostgreSQL")


@pytest.fixture
def copies(monkeypatch):
    """What each COPY path run returned (None: it declined and the rows went through Python)."""
    results = []
    original = pgexport.copy_part

    def spy(*args, **kwargs):
        results.append(original(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(pgexport, "copy_part", spy)
    return results


def _both_paths(table_of, written, copies):
    """(fast, slow) parts of one table: the slow one from the same search without its PostgreSQL query."""
    fast_table, slow_table = table_of(), table_of()
    assert fast_table.postgres is not None, "the connector offers no COPY path on PostgreSQL"
    fast = services._write_part(fast_table, written)
    assert copies[-1] is not None, "the COPY path declined the table"
    return fast, services._write_part(dataclasses.replace(slow_table, postgres=None), written)


def _assert_same(fast, slow):
    assert services.PARTS.read_bytes(fast.json_name) == services.PARTS.read_bytes(slow.json_name)
    assert services.PARTS.read_bytes(fast.csv_name) == services.PARTS.read_bytes(slow.csv_name)
    assert (fast.rows, fast.json_sha256, fast.json_bytes, fast.csv_sha256, fast.csv_bytes) == (
        slow.rows,
        slow.json_sha256,
        slow.json_bytes,
        slow.csv_sha256,
        slow.csv_bytes,
    )


@pytest.fixture
def awkward_customer():
    """One customer whose every text is awkward somewhere, with orders, events, preferences and tickets."""
    customer = Customer.objects.create(
        customer_number="C-9001",
        name=AWKWARD[0],
        email="awkward@example.org",
        phone="",
        date_of_birth=None,
        address_line=AWKWARD[2],
        city=AWKWARD[4],
        postcode="",
        country="GB",
        created=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    for index, text in enumerate(AWKWARD):
        order = Order.objects.create(
            customer=customer,
            order_number=f"SO-9001-{index}",
            # Whole seconds, microseconds, and microseconds with trailing zeros (isoformat keeps all six digits).
            placed_at=datetime(2026, 2, 3, 4, 5, 6, [0, 120000, 1, 999999][index % 4], tzinfo=UTC),
            status="paid",
            currency="GBP",
            total=[Decimal("0.00"), Decimal("12.50"), Decimal("-3.10"), Decimal("99999999.99")][index % 4],
            delivery_address=text,
            payment_reference=text[:40],
        )
        OrderLine.objects.create(order=order, sku=f"SKU-{index}", description=text, quantity=index, unit_price="1.05")
        Event.objects.create(
            customer=customer,
            occurred_at=datetime(2026, 3, 4, 5, 6, 7, index, tzinfo=UTC),
            kind="page_view",
            path=text[:200],
            ip_address=["192.0.2.1", "2001:db8::1", None][index % 3],
            user_agent=text,
            device="",
            time_zone="Europe/London",
            session_id=str(index),
        )
        MarketingPreference.objects.create(
            customer=customer, channel="email", consent=index % 2 == 0, changed_at=datetime(2026, 4, 5, tzinfo=UTC)
        )
        ticket = SupportTicket.objects.create(
            customer=customer,
            reference=f"T-9001-{index}",
            subject=text[:200],
            status="open",
            opened_at=datetime(2026, 5, 6, tzinfo=UTC),
            closed_at=None if index % 2 else datetime(2026, 5, 7, tzinfo=UTC),
        )
        TicketMessage.objects.create(
            ticket=ticket, sent_at=datetime(2026, 5, 6, tzinfo=UTC), author="customer", agent_name="", body=text
        )
    return customer


def test_the_demo_applications_copy_path_writes_the_same_bytes_as_the_row_by_row_path(awkward_customer, copies):
    _postgres_only()
    connector = connector_for("demo_app", DEMOCRM_CONFIG)
    identifiers = Identifiers.of(customer_id="C-9001")

    def table(name):
        return lambda: next(t for t in connector.search(identifiers).tables if t.name == name)

    written: list[str] = []
    for name in ("customers", "orders", "order_lines", "events", "marketing_preferences", "ticket_messages"):
        fast, slow = _both_paths(table(name), written, copies)
        _assert_same(fast, slow)
        assert fast.rows == (1 if name == "customers" else len(AWKWARD))
    # And what the person reads back is the data: the JSON parses, the awkward texts intact.
    lines = services.PARTS.read_bytes(fast.json_name)
    assert [item["body"] for item in json.loads(lines)] == AWKWARD


def test_a_person_with_no_rows_gets_the_same_empty_part_either_way(awkward_customer, copies):
    _postgres_only()
    connector = connector_for("demo_app", DEMOCRM_CONFIG)
    identifiers = Identifiers.of(customer_id="C-0000")
    fast, slow = _both_paths(lambda: connector.search(identifiers).tables[2], [], copies)
    _assert_same(fast, slow)
    assert fast.rows == 0 and services.PARTS.read_bytes(fast.json_name) == b"[\n\n]\n"


EXTERNAL = sa.MetaData()
awkward = sa.Table(
    "awkward_values",
    EXTERNAL,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(100)),
    sa.Column("note", sa.Text),
    sa.Column("label", sa.String(50)),
    sa.Column("amount", sa.Numeric(20, 10)),
    sa.Column("born", sa.Date),
    sa.Column("seen", sa.DateTime),
    sa.Column("seen_tz", sa.DateTime(timezone=True)),
    sa.Column("active", sa.Boolean),
    sa.Column("visits", sa.BigInteger),
    sa.Column("token", sa.Uuid),
)
scores = sa.Table(
    "awkward_scores",
    EXTERNAL,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(100)),
    sa.Column("score", sa.Float),
)

WIDE_COLUMNS = [f"field_{index}" for index in range(60)]  # past what one concat() takes (100 arguments)
wide = sa.Table(
    "awkward_wide",
    EXTERNAL,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(100)),
    *(sa.Column(name, sa.Text) for name in WIDE_COLUMNS),
)


@pytest.fixture
def external_awkward(monkeypatch):
    url = postgres_url().replace("postgres://", "postgresql+psycopg2://", 1)
    ensure_database(url)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    EXTERNAL.drop_all(engine)
    EXTERNAL.create_all(engine)
    amounts = [Decimal("0E-10"), Decimal("0.0000001234"), Decimal("-12.5"), Decimal("1234567890.0123456789"), None]
    with engine.begin() as db:
        db.execute(
            awkward.insert(),
            [
                {
                    "id": index + 1,
                    "email": "person@example.org",
                    "note": text if index % 5 else None,
                    "label": text[:50],
                    "amount": amounts[index % len(amounts)],
                    "born": None if index % 3 == 0 else date(1970 + index, 1 + index % 12, 1 + index),
                    "seen": datetime(2026, 6, 7, 8, 9, 10, [0, 500000, 7][index % 3]),
                    "seen_tz": None if index == 1 else datetime(2026, 6, 7, 8, 9, 10, index * 1000, tzinfo=UTC),
                    "active": [True, False, None][index % 3],
                    "visits": 2**40 + index if index % 4 else None,
                    "token": uuid.UUID(int=index * 7919),
                }
                for index, text in enumerate(AWKWARD)
            ],
        )
        db.execute(awkward.insert(), [{"id": 99, "email": "someone.else@example.org", "note": "not theirs"}])
        db.execute(scores.insert(), [{"id": 1, "email": "person@example.org", "score": 1.0}])
        db.execute(
            wide.insert(),
            [
                {
                    "id": row,
                    "email": "person@example.org",
                    **{name: AWKWARD[(row + i) % len(AWKWARD)] for i, name in enumerate(WIDE_COLUMNS)},
                }
                for row in (1, 2)
            ],
        )
    monkeypatch.setenv("AWKWARD_DB_URL", url)
    yield
    EXTERNAL.drop_all(engine)
    engine.dispose()


SQL_CONFIG = {
    "url_env": "AWKWARD_DB_URL",
    "tables": [
        {
            "name": "awkward",
            "table": "awkward_values",
            "match": {"email": "email"},
            "columns": ["note", "label", "amount", "born", "seen", "seen_tz", "active", "visits", "token", "id"],
        },
        {"name": "scores", "table": "awkward_scores", "match": {"email": "email"}, "columns": ["score", "id"]},
        {"name": "wide", "table": "awkward_wide", "match": {"email": "email"}, "columns": WIDE_COLUMNS},
    ],
}


def test_the_sql_connectors_copy_path_writes_the_same_bytes_as_the_row_by_row_path(external_awkward, copies):
    _postgres_only()
    connector = connector_for("sql", SQL_CONFIG)
    identifiers = Identifiers.of(email="person@example.org")
    fast, slow = _both_paths(lambda: connector.search(identifiers).tables[0], [], copies)
    _assert_same(fast, slow)
    assert fast.rows == len(AWKWARD)
    items = json.loads(services.PARTS.read_bytes(fast.json_name))
    assert [item["label"] for item in items] == [text[:50] for text in AWKWARD]
    assert items[1]["amount"] == "0.0000001234"  # positional, never 1.234E-7


def test_a_table_wider_than_one_concat_takes_is_written_the_same(external_awkward, copies):
    _postgres_only()
    connector = connector_for("sql", SQL_CONFIG)
    identifiers = Identifiers.of(email="person@example.org")
    fast, slow = _both_paths(lambda: connector.search(identifiers).tables[2], [], copies)
    _assert_same(fast, slow)
    assert fast.rows == 2


def test_a_column_type_without_an_exact_rendering_keeps_the_row_by_row_path(external_awkward, copies):
    """A float's text differs between Python and PostgreSQL (1.0 and 1): the whole table goes row by row."""
    _postgres_only()
    connector = connector_for("sql", SQL_CONFIG)
    table = connector.search(Identifiers.of(email="person@example.org")).tables[1]
    assert table.postgres is not None
    part = services._write_part(table, [])
    assert copies == [None]
    assert json.loads(services.PARTS.read_bytes(part.json_name)) == [{"score": 1.0, "id": 1}]
    assert services.PARTS.read_bytes(part.csv_name) == b"score,id\r\n1.0,1\r\n"


def test_copy_text_is_unescaped_whole_rows_at_a_time():
    raw = ["a\\b", "\\\\n", "x\ny", "tab\t", "end\\"]
    escaped = b"".join(
        value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").encode() + b"\\r\n" for value in raw
    )
    assert pgexport.unescape_copy_text(escaped) == "".join(value + "\r\n" for value in raw).encode()


def test_a_column_names_key_reaches_the_sql_as_a_constant_whatever_it_holds():
    _postgres_only()
    key = json.dumps("odd \"name\" \\ with 'quotes' and é", ensure_ascii=False)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {pgexport._literal(key)}")  # noqa: S608 (the function under test)
        assert cursor.fetchone()[0] == key
