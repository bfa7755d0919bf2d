import copy
import logging
import re
import threading

import pytest
import sqlalchemy as sa

from datasystems.connectors.base import ConnectorError, ConnectorTemporaryError, Identifiers, connector_for
from datasystems.connectors.sql import SqlConnector

from .conftest import EVENTS_FOR_ALAN

HOSTILE = "x' OR '1'='1"

CONFIG = {
    "url_env": "CRM_DATABASE_URL",
    "yield_per": 100,
    "tables": [
        {
            "name": "customers",
            "table": "customer",
            "match": {
                "email": {"column": "email_address", "lower": True},
                "customer_id": "customer_ref",
                "phone": "mobile",
            },
            "columns": ["customer_ref", "full_name", "email_address", "mobile"],
            "description": "Customer record",
        },
        {
            "name": "orders",
            "table": "sales_order",
            "via": {"table": "customers", "column": "customer_id", "references": "id"},
            "columns": ["order_no", "placed_on", "total"],
        },
        {
            "name": "order_items",
            "table": "order_item",
            "via": {"table": "orders", "column": "order_id", "references": "id"},
            "columns": ["order_id", "sku"],
        },
        {
            "name": "events",
            "table": "web_event",
            "via": {"table": "customers", "column": "customer_id", "references": "id"},
            "columns": ["seen_at", "ip"],
        },
        {
            "name": "risk",
            "table": "risk_score",
            "via": {"table": "customers", "column": "customer_id", "references": "id"},
            "columns": ["score"],
            "provided_or_observed": False,
        },
    ],
}


def _search(identifiers: Identifiers, config=CONFIG) -> dict[str, list]:
    outcome = connector_for("sql", config).search(identifiers)
    return {table.name: list(table.rows) for table in outcome.tables}


def test_finds_the_person_and_every_related_table_by_email_whatever_its_case(crm_url):
    found = _search(Identifiers.of(email="alan@demo.example"))
    assert found["customers"] == [("C-1001", "Alan Turing", "Alan@Demo.Example", "07700900001")]
    assert [row[0] for row in found["orders"]] == ["SO-1-1", "SO-1-2", "SO-1-3"]
    assert sorted(row[1] for row in found["order_items"]) == sorted(
        f"SKU-{order}-{n}" for order in (11, 12, 13) for n in (1, 2)
    )
    assert len(found["events"]) == EVENTS_FOR_ALAN
    assert len(found["risk"]) == 1


def test_the_outcome_names_the_identifiers_used_and_marks_inferred_tables(crm_url):
    outcome = SqlConnector(CONFIG).search(Identifiers.of(email="grace@demo.example", customer_id="C-1002", name="G"))
    assert outcome.searched and outcome.identifiers_used == ["email", "customer_id"]
    scope = {table.name: table.provided_or_observed for table in outcome.tables}
    assert scope == {"customers": True, "orders": True, "order_items": True, "events": True, "risk": False}
    assert {table.name: table.columns for table in outcome.tables}["orders"] == ["order_no", "placed_on", "total"]


def test_finds_by_customer_reference_or_phone(crm_url):
    assert [row[0] for row in _search(Identifiers.of(customer_id="C-1003"))["customers"]] == ["C-1003"]
    assert [row[0] for row in _search(Identifiers.of(phone="07700 900002"))["customers"]] == ["C-1002"]


def test_a_hostile_identifier_is_a_value_not_sql_and_matches_nothing(crm_url):
    """Identifiers are bound parameters: a quote in one cannot widen the query to every row."""
    for identifiers in (
        Identifiers.of(email=HOSTILE),
        Identifiers.of(customer_id=HOSTILE),
        Identifiers.of(customer_id="C-1001' --"),
        Identifiers.of(phone="1 OR 1=1"),
    ):
        found = _search(identifiers)
        assert all(rows == [] for rows in found.values()), identifiers


def test_the_query_text_holds_no_identifier_only_placeholders(crm_url):
    outcome = SqlConnector(CONFIG).search(Identifiers.of(email=HOSTILE))
    assert outcome.searched  # it did run
    connector = SqlConnector(CONFIG)
    tables = connector._reflect()
    from datasystems.connectors.sql import _condition

    condition = _condition(connector.entries()["orders"], connector.entries(), tables, Identifiers.of(email=HOSTILE))
    text = str(sa.select(tables["orders"].c.order_no).where(condition).compile(connector.engine()))
    assert HOSTILE not in text and "x'" not in text


def test_no_identifier_reaches_the_logs_even_with_sqlalchemy_logging_on(crm_url, caplog):
    email = "katherine@demo.example"
    with caplog.at_level(logging.DEBUG, logger="sqlalchemy"):
        logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
        try:
            found = _search(Identifiers.of(email=email, customer_id="C-1003", phone="07700900003"))
        finally:
            logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert found["customers"][0][0] == "C-1003"
    assert "SELECT" in caplog.text  # the statements were logged...
    for value in (email, "C-1003", "07700900003"):  # ...their parameters were not
        assert value not in caplog.text
    assert "hidden" in caplog.text


def test_rows_stream_lazily_and_a_half_read_table_can_be_closed(crm_url):
    outcome = SqlConnector(CONFIG).search(Identifiers.of(email="alan@demo.example"))
    events = next(table for table in outcome.tables if table.name == "events").rows
    first = next(events)
    assert len(first) == 2
    events.close()  # the connection goes back; nothing left open


def test_without_any_identifier_it_records_that_it_did_not_search(crm_url):
    outcome = SqlConnector(CONFIG).search(Identifiers.of(name="Alan Turing"))
    assert not outcome.searched and outcome.tables == []
    assert "email, customer_id, phone" in outcome.not_searched_reason


def test_an_unknown_person_gets_empty_tables(crm_url):
    assert all(rows == [] for rows in _search(Identifiers.of(email="rosa@demo.example")).values())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["tables"][0].update(table="customers_typo"), "has no table 'customers_typo'"),
        (lambda c: c["tables"][1].update(columns=["order_no", "secret"]), "'sales_order' has no column 'secret'"),
        (lambda c: c["tables"][0].update(match={"email": "mail"}), "'customer' has no column 'mail'"),
        (lambda c: c["tables"][1]["via"].update(references="uuid"), "'customers' has no column 'uuid'"),
        (lambda c: c["tables"][1]["via"].update(table="people"), "names 'people', which is not configured"),
        (lambda c: c["tables"][0].update(via={"table": "orders", "column": "id", "references": "id"}), "not both"),
        (lambda c: c["tables"][1].pop("columns"), "needs 'columns'"),
        (lambda c: c.update(yield_per=0), "'yield_per'"),
        (lambda c: c.update(url_env="crm url"), "'url_env'"),
        (lambda c: c.update(url_env="DSAR_NOT_SET_ANYWHERE"), "DSAR_NOT_SET_ANYWHERE .* is not set"),
    ],
)
def test_a_wrong_configuration_is_a_permanent_error_saying_what_is_wrong(crm_url, change, message):
    config = copy.deepcopy(CONFIG)
    change(config)
    with pytest.raises(ConnectorError, match=message) as raised:
        SqlConnector(config).check()
    assert not isinstance(raised.value, ConnectorTemporaryError)


def test_via_links_in_a_circle_are_refused():
    config = copy.deepcopy(CONFIG)
    config["tables"][1]["via"]["table"] = "order_items"
    with pytest.raises(ConnectorError, match="circle"):
        SqlConnector(config).check()


def test_a_url_that_is_not_one_is_refused_without_echoing_it(monkeypatch):
    monkeypatch.setenv("CRM_DATABASE_URL", "not a url with a s3cret")
    with pytest.raises(ConnectorError) as raised:
        SqlConnector(CONFIG).check()
    assert "s3cret" not in str(raised.value)


def test_an_unreachable_database_is_a_temporary_error_that_does_not_echo_the_url(monkeypatch):
    monkeypatch.setenv("CRM_DATABASE_URL", "postgres://crm:s3cret@127.0.0.1:1/crm")
    config = {**CONFIG, "connect_timeout": 2}
    with pytest.raises(ConnectorTemporaryError) as raised:
        SqlConnector(config).check()
    assert "s3cret" not in str(raised.value) and raised.value.__suppress_context__
    with pytest.raises(ConnectorTemporaryError):
        SqlConnector(config).search(Identifiers.of(email="alan@demo.example"))


def test_a_query_that_outlives_the_statement_timeout_is_a_temporary_error(crm_url):
    """PostgreSQL only: a table held locked by another session makes the search wait past its timeout."""
    if not crm_url.startswith("postgresql"):
        pytest.skip("statement timeouts are PostgreSQL's")
    locker = sa.create_engine(crm_url, poolclass=sa.pool.NullPool)
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        with locker.begin() as connection:
            connection.execute(sa.text("LOCK TABLE web_event IN ACCESS EXCLUSIVE MODE"))
            locked.set()
            release.wait(30)

    connector = SqlConnector({**CONFIG, "statement_timeout": 1})
    # The search reflects the tables first; the rows are read later, when the lock is held.
    outcome = connector.search(Identifiers.of(email="alan@demo.example"))
    events = next(table for table in outcome.tables if table.name == "events")
    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        with pytest.raises(ConnectorTemporaryError, match="failed while reading") as raised:
            list(events.rows)
        # The driver's message stays out of a logged traceback (it may quote what the server saw).
        assert raised.value.__suppress_context__ and raised.value.__cause__ is None
        # Reflecting a locked table waits too, and times out the same way.
        with pytest.raises(ConnectorTemporaryError):
            connector.check()
    finally:
        release.set()
        holder.join()
        locker.dispose()


def test_rows_come_from_a_server_side_cursor_a_batch_at_a_time(crm_url):
    """PostgreSQL only: while a big table is half read, the server is answering FETCH for a batch of ``yield_per``
    rows, not holding the whole result in the worker."""
    if not crm_url.startswith("postgresql"):
        pytest.skip("server-side cursors are PostgreSQL's here")
    outcome = SqlConnector(CONFIG).search(Identifiers.of(email="alan@demo.example"))
    events = next(table for table in outcome.tables if table.name == "events").rows
    next(events)
    watcher = sa.create_engine(crm_url, poolclass=sa.pool.NullPool)
    try:
        with watcher.connect() as connection:
            queries = (
                connection.execute(
                    sa.text(
                        "SELECT query FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                .scalars()
                .all()
            )
    finally:
        watcher.dispose()
        events.close()
    fetches = [re.match(r"FETCH FORWARD (\d+) FROM", query) for query in queries]
    assert any(fetch and 1 <= int(fetch.group(1)) <= 100 for fetch in fetches), queries


def test_an_identifier_looked_up_in_a_numeric_column_matches_only_a_number(crm_url):
    """The customer's internal number may be the key: digits find it, anything else matches nothing instead of
    failing the search on the database's type error."""
    config = copy.deepcopy(CONFIG)
    config["tables"][0]["match"] = {"customer_id": "id"}
    assert [row[0] for row in _search(Identifiers.of(customer_id="2"), config)["customers"]] == ["C-1002"]
    for value in ("C-1002", HOSTILE, "2 OR 1=1"):
        assert all(rows == [] for rows in _search(Identifiers.of(customer_id=value), config).values())
