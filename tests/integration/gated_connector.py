"""The demo application's connector, held mid-search while a gate file is missing (only where the environment names
one): the end-to-end test kills the worker while a job runs, then opens the gate for the worker that takes over."""

import os
import time
from pathlib import Path

from datasystems.connectors.base import Identifiers, SearchOutcome
from datasystems.connectors.demo_app import DemoAppConnector

GATE_ENV = "E2E_GATE"
HOLD_SECONDS = 60


class GatedDemoAppConnector(DemoAppConnector):
    def search(self, identifiers: Identifiers) -> SearchOutcome:
        gate = os.environ.get(GATE_ENV)
        if gate:
            Path(f"{gate}.started").touch()
            deadline = time.monotonic() + HOLD_SECONDS
            while not Path(gate).exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        return super().search(identifiers)
