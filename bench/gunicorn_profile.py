"""gunicorn config for `intake_bench.py --profile`: cProfile around the WSGI app in each worker.

Profiling starts once the file ``$BENCH_PROFILE_DIR/enabled`` exists (after the warm-up) and covers only the
Django application call (not gunicorn's HTTP parsing); each worker writes ``<pid>.prof`` when it exits.
"""

import cProfile
import os
from pathlib import Path

_profiler = cProfile.Profile()
_flag = Path(os.environ["BENCH_PROFILE_DIR"]) / "enabled"


def post_worker_init(worker):
    app = worker.wsgi

    def profiled(environ, start_response):
        if not _flag.exists():
            return app(environ, start_response)
        _profiler.enable()
        try:
            return app(environ, start_response)
        finally:
            _profiler.disable()

    worker.wsgi = profiled


def worker_exit(server, worker):
    _profiler.dump_stats(str(Path(os.environ["BENCH_PROFILE_DIR"]) / f"{os.getpid()}.prof"))
