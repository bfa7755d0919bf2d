"""The SQL connector carrying out changes (issue 13): erasure by delete and by anonymisation in place, restriction,
marketing suppression and rectification, set-based in batches, resumable after a crash, exactly once; on SQLite and
on a second, real PostgreSQL database."""

import hashlib
import hmac
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

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
from datasystems.connectors.sql import SqlConnector

from .conftest import ensure_database, postgres_url

KEY = b"the erasure key of this test"
ALAN = Identifiers.of(email="ALAN@demo.example")
ALAN_EMAIL = "Alan@Demo.Example"

metadata = sa.MetaData()
customer = sa.Table(
    "chg_customer",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ref", sa.String(20), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("phone", sa.String(32), nullable=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("restricted", sa.Boolean, nullable=False, default=False),
    sa.Column("email_opt_in", sa.Boolean, nullable=False, default=True),
)
order = sa.Table(
    "chg_order",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.Integer, nullable=False),
    sa.Column("order_no", sa.String(20), nullable=False),
    sa.Column("address", sa.String(300), nullable=True),
    sa.Column("payment_ref", sa.String(100), nullable=False),
)
line = sa.Table(
    "chg_line",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_id", sa.Integer, nullable=False),
    sa.Column("sku", sa.String(20), nullable=False),
)
event = sa.Table(
    "chg_event",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.Integer, nullable=False),
    sa.Column("ip", sa.String(45), nullable=True),
)
ALAN_ORDERS, LINES_PER_ORDER, ALAN_EVENTS = 3, 2, 25

CONFIG = {
    "url_env": "CHG_DATABASE_URL",
    "tables": [
        {
            "name": "customers",
            "table": "chg_customer",
            "match": {"email": {"column": "email", "lower": True}, "customer_id": "ref"},
            "columns": ["ref", "name", "email", "phone"],
            "erasure": {
                "action": "anonymise",
                "fields": {"email": "keyed_hash", "name": {"fixed": "Erased customer"}, "phone": "null"},
                "ground": "erasure_legal_obligation",
                "reason": "The account holder of invoices kept six years for tax law.",
            },
            "restriction": {"column": "restricted"},
            "rectifiable": ["name", "phone"],
            "marketing": {"set": {"email_opt_in": False}},
        },
        {
            "name": "orders",
            "table": "chg_order",
            "via": {"table": "customers", "column": "customer_id", "references": "id"},
            "columns": ["order_no", "address", "payment_ref"],
            "erasure": {
                "action": "anonymise",
                "fields": {"address": "null", "payment_ref": "keyed_hash"},
                "ground": "erasure_legal_obligation",
                "reason": "Invoices are kept six years for HMRC.",
            },
        },
        {
            "name": "lines",
            "table": "chg_line",
            "via": {"table": "orders", "column": "order_id", "references": "id"},
            "columns": ["sku"],
        },
        {
            "name": "events",
            "table": "chg_event",
            "via": {"table": "customers", "column": "customer_id", "references": "id"},
            "columns": ["ip"],
        },
    ],
}


def _fill(engine: sa.Engine) -> None:
    metadata.drop_all(engine)
    metadata.create_all(engine)
    people = [(1, "C-1", ALAN_EMAIL, "07700900001", "Alan Turing"), (2, "C-2", "grace@demo.example", None, "Grace")]
    with engine.begin() as connection:
        connection.execute(
            customer.insert(),
            [{"id": i, "ref": r, "email": e, "phone": p, "name": n} for i, r, e, p, n in people],
        )
        orders = [(1, k) for k in range(1, ALAN_ORDERS + 1)] + [(2, 9)]
        connection.execute(
            order.insert(),
            [
                {
                    "id": 10 * c + k,
                    "customer_id": c,
                    "order_no": f"SO-{c}-{k}",
                    "address": "1 Road",
                    "payment_ref": f"PSP-{k}",
                }
                for c, k in orders
            ],
        )
        connection.execute(
            line.insert(),
            [{"order_id": 10 * c + k, "sku": f"SKU-{n}"} for c, k in orders for n in range(LINES_PER_ORDER)],
        )
        connection.execute(
            event.insert(),
            [{"customer_id": 1, "ip": f"192.0.2.{n}"} for n in range(ALAN_EVENTS)] + [{"customer_id": 2, "ip": "x"}],
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path, monkeypatch) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'changes.sqlite3'}"
    else:
        url = postgres_url()
        ensure_database(url)
    monkeypatch.setenv("CHG_DATABASE_URL", url)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    _fill(engine)
    yield engine
    metadata.drop_all(engine)
    engine.dispose()


def _instruction(kind: ChangeKind, batch_size: int = 4, **extra) -> ChangeInstruction:
    return ChangeInstruction(kind=kind, tables=tables_for(CONFIG, kind), batch_size=batch_size, hash_key=KEY, **extra)


def _all(engine: sa.Engine, table: sa.Table, **where) -> list:
    statement = sa.select(table).order_by(table.c.id)
    for column, value in where.items():
        statement = statement.where(table.c[column] == value)
    with engine.connect() as connection:
        return [row._asdict() for row in connection.execute(statement)]


def _alans_lines(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).select_from(line).where(line.c.order_id.in_([11, 12, 13]))
        ).scalar_one()


def test_count_says_how_many_rows_each_table_would_change_and_changes_nothing(engine):
    counts = SqlConnector(CONFIG).count(ALAN, _instruction(ChangeKind.ERASE))
    assert counts == {
        "lines": ALAN_ORDERS * LINES_PER_ORDER,
        "orders": ALAN_ORDERS,
        "events": ALAN_EVENTS,
        "customers": 1,
    }
    assert _all(engine, customer, id=1)[0]["email"] == ALAN_EMAIL
    assert _alans_lines(engine) == ALAN_ORDERS * LINES_PER_ORDER


def test_erasure_deletes_and_anonymises_in_many_batches_children_first_and_the_person_last(engine):
    """Art. 17(1) with the Art. 17(3)(b) exception the register names: lines and events deleted, orders and the
    customer kept with their personal fields anonymised; the tables reached through the customer go first and the
    customer's own row last, so that a resumed run can still find them."""
    progress = MemoryProgress()
    seen: list[str] = []
    original = progress.batch_done

    def batch_done(checkpoint, *, table, rows):
        seen.append(table)
        original(checkpoint, table=table, rows=rows)

    progress.batch_done = batch_done
    outcome = SqlConnector(CONFIG).apply_change(ALAN, _instruction(ChangeKind.ERASE, batch_size=4), progress=progress)

    rows = {table.table: (table.action, table.rows) for table in outcome.tables}
    assert rows == {
        "lines": (TableAction.DELETE, 6),
        "orders": (TableAction.ANONYMISE, 3),
        "events": (TableAction.DELETE, 25),
        "customers": (TableAction.ANONYMISE, 1),
    }
    assert outcome.batches == progress.batches == 2 + 1 + 7 + 1  # at most 4 rows a batch
    assert seen[0] == "lines" and seen[-1] == "customers" and seen.count("customers") == 1
    assert _alans_lines(engine) == 0 and not _all(engine, event, customer_id=1)
    alan = _all(engine, customer, id=1)[0]
    assert alan["email"] == keyed_hash(KEY, ALAN_EMAIL) and alan["name"] == "Erased customer" and alan["phone"] is None
    for row in _all(engine, order, customer_id=1):
        assert row["address"] is None and row["payment_ref"].startswith(KEYED_HASH_PREFIX)
    # Nobody else's data changed.
    assert _all(engine, customer, id=2)[0]["email"] == "grace@demo.example"
    assert _all(engine, order, customer_id=2)[0]["address"] == "1 Road"
    assert len(_all(engine, event, customer_id=2)) == 1 and len(_all(engine, line, order_id=29)) == 2


def test_applying_the_same_erasure_again_changes_nothing_and_reports_nothing(engine):
    connector = SqlConnector(CONFIG)
    connector.apply_change(ALAN, _instruction(ChangeKind.ERASE), progress=MemoryProgress())
    # The customer can no longer be found by e-mail: found again by the customer number the portal also holds.
    again = connector.apply_change(
        Identifiers.of(customer_id="C-1"), _instruction(ChangeKind.ERASE), progress=MemoryProgress()
    )
    assert again.rows == 0
    assert _all(engine, customer, id=1)[0]["email"] == keyed_hash(KEY, ALAN_EMAIL)  # not hashed twice
    assert connector.count(Identifiers.of(customer_id="C-1"), _instruction(ChangeKind.ERASE)) == {
        "lines": 0,
        "orders": 0,
        "events": 0,
        "customers": 0,
    }


class CrashingProgress(MemoryProgress):
    """The job is swept and taken over after ``after`` batches (``record``: the checkpoint of the last batch was
    saved before the run stopped, or not)."""

    def __init__(self, after: int, *, record: bool) -> None:
        super().__init__()
        self.after, self.record = after, record

    def batch_done(self, checkpoint, *, table, rows):
        if self.batches + 1 == self.after:
            if self.record:
                super().batch_done(checkpoint, table=table, rows=rows)
            raise ChangeSuperseded
        super().batch_done(checkpoint, table=table, rows=rows)


@pytest.mark.parametrize("record", [True, False])
@pytest.mark.parametrize("crash_after", [1, 5, 10])
def test_a_run_stopped_mid_way_is_finished_from_its_checkpoint_and_every_row_is_changed_once(
    engine, record, crash_after
):
    connector = SqlConnector(CONFIG)
    crashed = CrashingProgress(crash_after, record=record)
    with pytest.raises(ChangeSuperseded):
        connector.apply_change(ALAN, _instruction(ChangeKind.ERASE), progress=crashed)
    resumed = MemoryProgress(checkpoint=crashed.checkpoint)
    outcome = connector.apply_change(ALAN, _instruction(ChangeKind.ERASE), progress=resumed)
    rows = {table.table: table.rows for table in outcome.tables}
    if record:
        # The checkpoint carries the rows of the first run: the answer counts every row once.
        assert rows == {"lines": 6, "orders": 3, "events": 25, "customers": 1}
    assert _alans_lines(engine) == 0 and not _all(engine, event, customer_id=1)
    alan = _all(engine, customer, id=1)[0]
    assert alan["email"] == keyed_hash(KEY, ALAN_EMAIL)  # hashed exactly once
    for number, row in enumerate(_all(engine, order, customer_id=1), start=1):
        assert row["payment_ref"] == keyed_hash(KEY, f"PSP-{number}", max_length=100)


def test_restriction_sets_the_flag_and_lifting_clears_it_each_once(engine):
    connector = SqlConnector(CONFIG)
    outcome = connector.apply_change(ALAN, _instruction(ChangeKind.RESTRICT), progress=MemoryProgress())
    assert [(t.table, t.action, t.rows) for t in outcome.tables] == [("customers", TableAction.FLAG, 1)]
    assert _all(engine, customer, id=1)[0]["restricted"] is True
    assert _all(engine, customer, id=2)[0]["restricted"] is False
    assert connector.apply_change(ALAN, _instruction(ChangeKind.RESTRICT), progress=MemoryProgress()).rows == 0
    lifted = connector.apply_change(ALAN, _instruction(ChangeKind.LIFT_RESTRICTION), progress=MemoryProgress())
    assert lifted.rows == 1 and _all(engine, customer, id=1)[0]["restricted"] is False


def test_a_marketing_objection_clears_the_opt_in(engine):
    connector = SqlConnector(CONFIG)
    assert connector.count(ALAN, _instruction(ChangeKind.SUPPRESS_MARKETING)) == {"customers": 1}
    connector.apply_change(ALAN, _instruction(ChangeKind.SUPPRESS_MARKETING), progress=MemoryProgress())
    assert _all(engine, customer, id=1)[0]["email_opt_in"] is False
    assert _all(engine, customer, id=2)[0]["email_opt_in"] is True


def test_rectification_sets_rectifiable_columns_and_refuses_others_without_quoting_the_value(engine):
    connector = SqlConnector(CONFIG)
    correction = ChangeInstruction(
        kind=ChangeKind.RECTIFY,
        tables=[
            TableInstruction("customers", TableAction.UPDATE, values={"name": "Alan M. Turing", "phone": "07700900111"})
        ],
    )
    assert connector.apply_change(ALAN, correction, progress=MemoryProgress()).rows == 1
    assert _all(engine, customer, id=1)[0]["name"] == "Alan M. Turing"
    assert connector.apply_change(ALAN, correction, progress=MemoryProgress()).rows == 0
    refused = ChangeInstruction(
        kind=ChangeKind.RECTIFY,
        tables=[TableInstruction("customers", TableAction.UPDATE, values={"email": "secret.new@example.com"})],
    )
    with pytest.raises(ConnectorError, match="'email' is not listed as rectifiable") as error:
        connector.apply_change(ALAN, refused, progress=MemoryProgress())
    assert "secret.new" not in str(error.value)
    with pytest.raises(ConnectorError, match="supplementary statement"):
        connector.apply_change(
            ALAN,
            ChangeInstruction(kind=ChangeKind.RECTIFY, tables=[], supplementary_statement="I was ill."),
            progress=MemoryProgress(),
        )


def _hasher(name: str, value: str) -> str:
    return hmac.new(KEY, f"{name}:{value}".encode(), hashlib.sha256).hexdigest()


def test_after_a_backup_restore_the_erased_person_is_found_again_by_the_hashes_of_their_identifiers(engine):
    connector = SqlConnector(CONFIG)
    tombstone = {_hasher("email", "alan@demo.example"), _hasher("customer_id", "nobody")}
    found = connector.find_identifiers(tombstone, _hasher)
    assert [(person.email, person.customer_id) for person in found] == [("alan@demo.example", "C-1")]
    assert connector.find_identifiers({_hasher("email", "someone@else.example")}, _hasher) == []


def test_the_connector_check_refuses_change_rules_the_database_cannot_carry_out(engine):
    def broken(table: int, **rule) -> dict:
        config = {**CONFIG, "tables": [dict(entry) for entry in CONFIG["tables"]]}
        config["tables"][table].update(rule)
        return config

    SqlConnector(CONFIG).check()
    cases = [
        (broken(0, rectifiable=["nickname"]), "no column 'nickname'|does not have"),
        (broken(1, erasure={**CONFIG["tables"][1]["erasure"], "fields": {"customer_id": "null"}}), "key that links"),
        (broken(0, restriction={"column": "frozen"}), "does not have"),
        (
            broken(
                3,
                erasure={"action": "keep", "ground": "erasure_legal_claims", "reason": "A claim."},
            ),
            None,
        ),
        (broken(0, erasure={"action": "delete"}), "a table it belongs to is deleted"),
        (
            broken(
                1,
                erasure={
                    "action": "anonymise",
                    "fields": {"order_no": "keyed_hash"},
                    "ground": "erasure_legal_obligation",
                    "reason": "Tax.",
                },
            ),
            "too short",
        ),
        (broken(0, erasure={"action": "anonymise", "fields": {"email": "null"}}), "Article 17"),
    ]
    for config, message in cases:
        if message is None:
            SqlConnector(config).check()
            continue
        with pytest.raises(ConnectorError, match=message):
            SqlConnector(config).check()


def test_a_keyed_hash_needs_its_key(engine):
    instruction = ChangeInstruction(kind=ChangeKind.ERASE, tables=tables_for(CONFIG, ChangeKind.ERASE), hash_key=b"")
    with pytest.raises(ConnectorError, match="key for keyed hashes"):
        SqlConnector(CONFIG).apply_change(ALAN, instruction, progress=MemoryProgress())


@pytest.mark.parametrize("crash_after", [1, 5, 10])
def test_a_batch_committed_but_not_recorded_before_a_crash_is_counted_once_on_postgresql(engine, crash_after):
    """GDPR Art. 5(2): the worker died between a batch's commit and its record. The batch being written was saved
    first (``batch_begin``); the resumed run finds none of its rows left to change, and records them once, so the
    proof and the answer count every row once."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the batch being written is saved before its commit on PostgreSQL (server-side cursor path)")
    connector = SqlConnector(CONFIG)
    crashed = CrashingProgress(crash_after, record=False)
    with pytest.raises(ChangeSuperseded):
        connector.apply_change(ALAN, _instruction(ChangeKind.ERASE), progress=crashed)
    assert "writing" in crashed.checkpoint
    resumed = MemoryProgress(checkpoint=crashed.checkpoint)
    outcome = connector.apply_change(ALAN, _instruction(ChangeKind.ERASE), progress=resumed)
    assert {table.table: table.rows for table in outcome.tables} == {
        "lines": 6,
        "orders": 3,
        "events": 25,
        "customers": 1,
    }
    assert "writing" not in resumed.checkpoint
    alan = _all(engine, customer, id=1)[0]
    assert alan["email"] == keyed_hash(KEY, ALAN_EMAIL)


def test_a_batch_not_committed_before_a_crash_is_written_by_the_resumed_run(engine):
    """The worker died after saving the batch it was about to write but before its commit: the resumed run finds
    the batch's rows still to change and writes them, counted once."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the batch being written is saved before its commit on PostgreSQL (server-side cursor path)")

    class CrashingBeforeCommit(MemoryProgress):
        def batch_begin(self, checkpoint):
            super().batch_begin(checkpoint)
            if self.batches == 2:
                raise ChangeSuperseded

    connector = SqlConnector(CONFIG)
    crashed = CrashingBeforeCommit()
    with pytest.raises(ChangeSuperseded):
        connector.apply_change(ALAN, _instruction(ChangeKind.ERASE), progress=crashed)
    resumed = MemoryProgress(checkpoint=crashed.checkpoint)
    outcome = connector.apply_change(ALAN, _instruction(ChangeKind.ERASE), progress=resumed)
    assert {table.table: table.rows for table in outcome.tables} == {
        "lines": 6,
        "orders": 3,
        "events": 25,
        "customers": 1,
    }
    assert _alans_lines(engine) == 0 and not _all(engine, event, customer_id=1)
