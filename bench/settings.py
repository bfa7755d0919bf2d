"""Settings for the intake benchmark: the production settings plus a bare baseline app.

Everything (middleware, sessions, CSRF, cache, Celery broker, database) comes
from ``dsar_portal.settings`` and the environment, so the real submission path
and the baseline view are served by exactly the same stack.
"""

import os
from pathlib import Path

from dsar_portal.settings import *  # noqa: F403
from dsar_portal.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.baseline"]
ROOT_URLCONF = "bench.urls"

# collectstatic writes here (a temporary directory), never into the checkout.
if os.environ.get("BENCH_STATIC_ROOT"):
    STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
