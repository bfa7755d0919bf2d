"""The demo application's connector, held mid-search while a gate file is missing (only where the environment names
one): the end-to-end test kills the worker while a job runs, then opens the gate for the worker that takes over.

The SQL connector likewise holds an erasure after a number of committed batches (E2E_CHANGE_GATE_AFTER batches, the
checkpoint saved), so the change end-to-end test kills the worker at a known point mid-erasure."""

import os
import time
from pathlib import Path

from datasystems.connectors.base import Identifiers, SearchOutcome
from datasystems.connectors.changes import ChangeInstruction, ChangeOutcome, ChangeProgress
from datasystems.connectors.demo_app import DemoAppConnector
from datasystems.connectors.sql import SqlConnector

GATE_ENV = "E2E_GATE"
CHANGE_GATE_ENV = "E2E_CHANGE_GATE"
CHANGE_GATE_AFTER_ENV = "E2E_CHANGE_GATE_AFTER"
HOLD_SECONDS = 60


def _hold(gate: str) -> None:
    Path(f"{gate}.started").touch()
    deadline = time.monotonic() + HOLD_SECONDS
    while not Path(gate).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


class GatedDemoAppConnector(DemoAppConnector):
    def search(self, identifiers: Identifiers) -> SearchOutcome:
        gate = os.environ.get(GATE_ENV)
        if gate:
            _hold(gate)
        return super().search(identifiers)


class _GatedProgress:
    """The job's progress, held after ``after`` committed batches until the gate opens."""

    def __init__(self, progress: ChangeProgress, gate: str, after: int) -> None:
        self.progress = progress
        self.gate = gate
        self.after = after
        self.batches = 0

    @property
    def checkpoint(self):
        return self.progress.checkpoint

    def batch_done(self, checkpoint, *, table: str, rows: int) -> None:
        self.progress.batch_done(checkpoint, table=table, rows=rows)
        self.batches += 1
        if self.batches == self.after:
            _hold(self.gate)


class GatedSqlConnector(SqlConnector):
    def apply_change(
        self, identifiers: Identifiers, instruction: ChangeInstruction, *, progress: ChangeProgress
    ) -> ChangeOutcome:
        gate = os.environ.get(CHANGE_GATE_ENV)
        if gate:
            progress = _GatedProgress(progress, gate, int(os.environ.get(CHANGE_GATE_AFTER_ENV, "1")))
        return super().apply_change(identifiers, instruction, progress=progress)
