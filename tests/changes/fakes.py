"""A small changing connector for the engine's tests: rows in memory, changed set-based in batches, resumable from
the checkpoint, idempotent (a row changed once is not changed again)."""

from __future__ import annotations

from typing import Any, ClassVar

from datasystems.connectors.base import Identifiers, SearchOutcome
from datasystems.connectors.changes import ChangeOutcome, ChangePending, TableAction, TableChange
from datasystems.connectors.http import HttpConnector


class Crash(BaseException):
    """The worker dies mid-run (not an error the engine may catch)."""


class FakeChangingConnector:
    # table -> [{"id": int, "email": str, "state": "live" | action, ...}]
    rows: ClassVar[dict[str, list[dict[str, Any]]]] = {}
    crash_after_batches: ClassVar[int | None] = None
    pending: ClassVar[bool] = False
    batches_seen: ClassVar[int] = 0

    def __init__(self, config):
        self.config = config

    @classmethod
    def seed(cls, table: str, email: str, count: int) -> None:
        start = sum(len(rows) for rows in cls.rows.values())
        cls.rows.setdefault(table, []).extend(
            {"id": start + index, "email": email, "state": "live"} for index in range(count)
        )

    @classmethod
    def reset(cls) -> None:
        cls.rows = {}
        cls.crash_after_batches = None
        cls.pending = False
        cls.batches_seen = 0

    def check(self) -> None:
        return None

    def search(self, identifiers: Identifiers) -> SearchOutcome:
        raise NotImplementedError

    def _mine(self, table: str, identifiers: Identifiers) -> list[dict[str, Any]]:
        return [row for row in self.rows.get(table, []) if row["email"] == identifiers.email]

    def count(self, identifiers: Identifiers, instruction) -> dict[str, int]:
        return {
            rule.table: sum(row["state"] != rule.action for row in self._mine(rule.table, identifiers))
            for rule in instruction.tables
            if rule.action != TableAction.KEEP
        }

    def apply_change(self, identifiers: Identifiers, instruction, *, progress) -> ChangeOutcome:
        if self.pending:
            raise ChangePending("token-1")
        tables = []
        batches = 0
        for rule in instruction.tables:
            if rule.action == TableAction.KEEP:
                tables.append(TableChange(table=rule.table, action=rule.action, rows=0))
                continue
            after = progress.checkpoint.get(rule.table, -1)
            todo = [row for row in self._mine(rule.table, identifiers) if row["id"] > after and row["state"] == "live"]
            changed = 0
            for start in range(0, len(todo), instruction.batch_size):
                batch = todo[start : start + instruction.batch_size]
                for row in batch:  # one set-based statement in a real system
                    row["state"] = rule.action
                    row["changes"] = row.get("changes", 0) + 1
                changed += len(batch)
                batches += 1
                type(self).batches_seen += 1
                progress.batch_done(
                    {**progress.checkpoint, rule.table: batch[-1]["id"]}, table=rule.table, rows=len(batch)
                )
                if self.crash_after_batches is not None and type(self).batches_seen >= self.crash_after_batches:
                    type(self).crash_after_batches = None
                    raise Crash()
            tables.append(TableChange(table=rule.table, action=rule.action, rows=changed))
        return ChangeOutcome(tables=tables, batches=batches)

    def find_identifiers(self, hashes, hasher):
        wanted = set(hashes.values())
        emails = {row["email"] for rows in self.rows.values() for row in rows if row["state"] == "live"}
        return [Identifiers.of(email=email) for email in sorted(emails) if hasher("email", email) in wanted]


class PendingHttpConnector(HttpConnector):
    """An HTTP system that accepts every change with 202 and answers later by its signed callback."""

    def count(self, identifiers: Identifiers, instruction) -> dict[str, int]:
        return {}

    def apply_change(self, identifiers: Identifiers, instruction, *, progress) -> ChangeOutcome:
        raise ChangePending("desk-token-1")
