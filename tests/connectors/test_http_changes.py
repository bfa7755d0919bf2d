"""The HTTP connector carrying out changes (issue 13): a signed POST to the system, which answers with the rows
changed per table (200) or later by a signed callback (202); errors name the status, never a value."""

from typing import Any

import pytest

from datasystems.connectors.base import ConnectorError, ConnectorTemporaryError, SearchContext
from datasystems.connectors.changes import (
    ChangeInstruction,
    ChangeKind,
    ChangePending,
    FieldChange,
    FieldStrategy,
    MemoryProgress,
    TableAction,
    TableInstruction,
)
from datasystems.connectors.http import changes_from_answer

from . import test_http
from .test_http import SECRET, FakeSystem, Reply, connector, person

# The fake system and its secret, as the search tests use them.
system = test_http.system
secret_env = test_http.secret_env

ERASE = ChangeInstruction(
    kind=ChangeKind.ERASE,
    tables=[
        TableInstruction("customers", TableAction.DELETE),
        TableInstruction(
            "invoices",
            TableAction.ANONYMISE,
            fields=(FieldChange("address", FieldStrategy.NULL), FieldChange("name", FieldStrategy.FIXED, "erased")),
            ground="erasure_legal_obligation",
            reason="Kept six years for tax law.",
        ),
    ],
    hash_key=b"never sent",
)
ANSWER = {"tables": [{"table": "customers", "rows": 1}, {"table": "invoices", "rows": 12}]}


def test_a_signed_change_is_sent_and_the_rows_changed_per_table_come_back(system: FakeSystem) -> None:
    system.reply = Reply(body=ANSWER)
    progress = MemoryProgress()
    context = SearchContext(search_id="job-7", callback_url="https://portal.example.org/cb/")
    outcome = connector(system).apply_change(person(), ERASE, progress=progress, context=context)
    assert system.refused == 0
    assert [(t.table, t.action, t.rows) for t in outcome.tables] == [
        ("customers", TableAction.DELETE, 1),
        ("invoices", TableAction.ANONYMISE, 12),
    ]
    body = system.received[0]
    assert body["request_id"] == "job-7" and body["subject_request_type"] == "erasure" and body["dry_run"] is False
    assert body["status_callback_urls"] == ["https://portal.example.org/cb/"]
    assert body["changes"] == [
        {"table": "customers", "action": "delete"},
        {"table": "invoices", "action": "anonymise", "fields": {"address": "null", "name": {"fixed": "erased"}}},
    ]
    assert "never sent" not in str(body)  # the keyed-hash key stays in the portal
    assert progress.batches == 2 and progress.checkpoint["answered"] is True
    # Started again after the answer was recorded: not sent twice.
    again = connector(system).apply_change(person(), ERASE, progress=progress, context=context)
    assert len(system.received) == 1 and again.rows == 13


def test_count_is_a_dry_run(system: FakeSystem) -> None:
    system.reply = Reply(body=ANSWER)
    assert connector(system).count(person(), ERASE) == {"customers": 1, "invoices": 12}
    assert system.received[0]["dry_run"] is True and "status_callback_urls" not in system.received[0]
    system.reply = Reply(status=202, body={"callback_token": "tok"})
    with pytest.raises(ConnectorError, match="count at once"):
        connector(system).count(person(), ERASE)


def test_a_202_means_the_system_answers_later_by_callback(system: FakeSystem) -> None:
    system.reply = Reply(status=202, body={"callback_token": "cb-token-1"})
    with pytest.raises(ChangePending) as pending:
        connector(system).apply_change(
            person(), ERASE, progress=MemoryProgress(), context=SearchContext(search_id="job-8")
        )
    assert pending.value.token == "cb-token-1" and pending.value.request_id == "job-8"


def test_rectification_restriction_and_marketing_send_their_values_statement_and_channels(system: FakeSystem) -> None:
    system.reply = Reply(body={"tables": [{"table": "customers", "rows": 1}]})
    rectify = ChangeInstruction(
        kind=ChangeKind.RECTIFY,
        tables=[TableInstruction("customers", TableAction.UPDATE, values={"name": "Ada King"})],
        supplementary_statement="My name changed on marriage.",
    )
    marketing = ChangeInstruction(
        kind=ChangeKind.SUPPRESS_MARKETING,
        tables=[TableInstruction("customers", TableAction.FLAG, values={"opt_in": False})],
        channels=["email", "sms"],
    )
    for instruction in (rectify, marketing):
        connector(system).apply_change(person(), instruction, progress=MemoryProgress())
    first, second = system.received
    assert first["subject_request_type"] == "rectification"
    assert first["changes"][0]["values"] == {"name": "Ada King"}
    assert first["supplementary_statement"] == "My name changed on marriage."
    assert second["subject_request_type"] == "marketing_objection" and second["channels"] == ["email", "sms"]


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (400, ConnectorError, "refused the search: it answered 400"),
        (404, ConnectorError, "answered 404"),
        (500, ConnectorTemporaryError, "answered 500"),
        (503, ConnectorTemporaryError, "will try again"),
    ],
)
def test_errors_name_the_status_never_the_body(system: FakeSystem, status: int, error: type, message: str) -> None:
    system.reply = Reply(status=status, body={"detail": "ada.lovelace@example.com is unknown"})
    with pytest.raises(error, match=message) as raised:
        connector(system).apply_change(person(), ERASE, progress=MemoryProgress())
    assert "ada.lovelace" not in str(raised.value).lower()


@pytest.mark.parametrize(
    "payload",
    [
        {"tables": [{"table": "customers", "rows": 1}]},  # a table missing
        {"tables": [{"table": "customers", "rows": 1}, {"table": "other", "rows": 1}]},
        {"tables": [{"table": "customers", "rows": -1}, {"table": "invoices", "rows": 1}]},
        {"tables": [{"table": "customers", "rows": True}, {"table": "invoices", "rows": 1}]},
        {"tables": [{"table": "customers", "rows": 1, "email": "x@y"}, {"table": "invoices", "rows": 1}]},
        {"tables": [{"table": "customers", "rows": 1, "action": "anonymise"}, {"table": "invoices", "rows": 1}]},
        {"rows": 3},
        ["customers"],
    ],
)
def test_a_malformed_answer_is_refused(payload: Any) -> None:
    with pytest.raises(ConnectorError):
        changes_from_answer(payload, ERASE)


def test_an_unsigned_answer_is_refused_when_answers_are_verified(system: FakeSystem) -> None:
    system.reply = Reply(body=ANSWER)
    with pytest.raises(ConnectorError, match="signature"):
        connector(system, verify_answers=True).apply_change(person(), ERASE, progress=MemoryProgress())
    system.reply = Reply(body=ANSWER, sign_with=SECRET)
    assert connector(system, verify_answers=True).apply_change(person(), ERASE, progress=MemoryProgress()).rows == 13
