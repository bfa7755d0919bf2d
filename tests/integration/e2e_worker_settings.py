"""Settings for the worker processes of the end-to-end test (tests/integration/test_compiled_answer_end_to_end.py):
the portal's own, with the demo application's connector replaced by one that can be held mid-search, and the
sweep's running timeout taken from the environment so that a killed worker's job is taken over within seconds."""

import os

from dsar_portal.settings import *  # noqa: F403
from dsar_portal.settings import DSAR_CONNECTORS

DSAR_CONNECTORS = {**DSAR_CONNECTORS, "demo_app": "tests.integration.gated_connector.GatedDemoAppConnector"}
FULFILMENT_RUNNING_TIMEOUT_SECONDS = int(os.environ.get("E2E_RUNNING_TIMEOUT_SECONDS", "1800"))
