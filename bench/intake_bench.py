"""Intake benchmark: the real submission path against a bare Django form view, under gunicorn + PostgreSQL.

A regression alarm: a submission's POST p99 must stay under ``BUDGET_P99_MS`` at 8 connections on the
project's 2-core machine. The ratio to the bare view is printed for information.

Run from the project root::

    .venv/bin/python bench/intake_bench.py [--seconds 32] [--rounds 8] [--concurrency 8] [--workers 2]

What it does (see bench/README.md for how to read the output):

1. creates a fresh PostgreSQL database (``dsar_bench``: dropped and re-created), migrates it and runs
   collectstatic into a temporary directory (DEBUG is off, so pages need the static manifest);
2. starts gunicorn on 127.0.0.1 (free port) with ``bench.settings`` (the production settings plus a bench-only
   baseline app), DJANGO_DEBUG=0, generated secrets, Redis db ``--redis-db`` as cache and Celery broker (no
   Celery worker runs: tasks are really enqueued and stay in Redis), and rate limits raised;
3. warms up, then for each endpoint runs a closed-loop load generator in a separate process: ``--concurrency``
   virtual users, each a new visitor per iteration (fresh cookies), doing GET of the form (CSRF cookie and token)
   then POST of a valid submission (in the encoding the form declares) with a unique e-mail address. The
   redirect (302) that answers the POST is checked but not followed, for both endpoints;
4. checks correctness (rows created == successful POSTs, one audit event and one queued e-mail task per
   message, no error responses), prints a table and writes JSON to bench/results/;
5. stops gunicorn, drops the database and flushes the Redis db it used;
6. prints, as the last line of its output, one JSON object: the real POST p99, whether it is within budget,
   throughput and the ratio to the baseline, and whether the run was valid.

Exit status: 0 valid and within budget, 1 a correctness check failed, 3 valid but over budget.

``--profile`` additionally runs a short single-worker cProfile pass over each endpoint (see README).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
VENV_BIN = Path(sys.executable).parent

REAL_PATH = "/request/access/"
BASELINE_PATH = "/bench/baseline/"
ENDPOINTS = {
    # name: (form URL, expected redirect prefix after a good POST)
    "baseline": (BASELINE_PATH, "/bench/baseline/done/"),
    "real": (REAL_PATH, "/status/DSAR-"),
}
# The budget: a submission's POST p99 at 8 connections (the default) on the project's 2-core machine.
BUDGET_P99_MS = 100.0
BUDGET_CONCURRENCY = 8
EXIT_OVER_BUDGET = 3

CSRF_INPUT_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
DESCRIPTION = (
    "Please send me a copy of all personal data you hold about me, including order history, "
    "support tickets and marketing preferences, and tell me who you have shared it with. " * 2
).strip()


# =====================================================================================
# Load generator (runs in its own process: `intake_bench.py _loadgen ...`)
# =====================================================================================


def _multipart(fields: list[tuple[str, str]]) -> tuple[bytes, str]:
    boundary = "----benchBoundary" + uuid.uuid4().hex
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _form_fields(endpoint: str, email: str, token: str) -> list[tuple[str, str]]:
    """What a browser sends for the form as a person fills it in (empty optional fields included)."""
    if endpoint == "baseline":
        return [
            ("csrfmiddlewaretoken", token),
            ("name", "Alex Example"),
            ("email", email),
            ("right", "access"),
            ("description", DESCRIPTION),
        ]
    return [
        ("csrfmiddlewaretoken", token),
        ("requester_role", "data_subject"),
        ("name", "Alex Example"),
        ("email", email),
        ("subject_name", ""),
        ("agent_relationship", ""),
        ("access_scope", "all"),
        ("access_subset", ""),
        ("date_from", ""),
        ("date_to", ""),
        ("access_format", "report"),
        ("description", DESCRIPTION),
        ("customer_number", "C-10493822"),
        ("account_email", ""),
        ("phone", "+44 20 7946 0958"),
        ("address", ""),
    ]


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    jar = {}
    for header in response.msg.get_all("Set-Cookie") or []:
        name, _, value = header.split(";", 1)[0].partition("=")
        jar[name.strip()] = value.strip()
    return jar


class _Client:
    """One virtual user: one keep-alive connection (re-opened if the server closes it)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.conn = http.client.HTTPConnection(host, port, timeout=30)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "dsar-intake-bench", **(headers or {})}
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # Server closed an idle keep-alive connection before we reused it: retry once on a new one
                # (nothing was processed). Any other failure is an error.
                self.conn.close()
                if attempt == 2:
                    raise
                continue
            if response.will_close:
                self.conn.close()
            return response, data
        raise AssertionError("unreachable")


def _virtual_user(index, endpoint, mode, host, port, clock, results, start_event) -> None:
    """One closed-loop user. mode "cycle": GET the form then POST it, as a new visitor (no cookies kept) each
    iteration. mode "post": GET the form once, then POST it again and again with that CSRF cookie and token
    (still no session cookie, so each POST is a new visitor's submission): isolates the POST."""
    path, redirect_prefix = ENDPOINTS[endpoint]
    client = _Client(host, port)
    origin = f"http://{host}:{port}"
    get_ms, post_ms, cycle_ms, errors = [], [], [], []
    ok = 0
    n = 0
    csrf = None  # (cookie, form token)
    start_event.wait()
    deadline = clock["deadline"]
    perf = time.perf_counter
    while perf() < deadline:
        n += 1
        t0 = perf()
        try:
            if mode == "cycle" or csrf is None:
                response, html = client.request("GET", path, headers={"Accept": "text/html"})
                get_ms.append((perf() - t0) * 1000)
                if response.status != 200:
                    errors.append(f"GET {path} -> {response.status}")
                    continue
                jar = _cookies(response)
                match = CSRF_INPUT_RE.search(html)
                if "csrftoken" not in jar or match is None:
                    errors.append(f"GET {path}: no CSRF cookie or token in the page")
                    continue
                csrf = (jar["csrftoken"], match.group(1).decode())
            email = f"bench-{endpoint}-{os.getpid()}-{index}-{n}-{secrets.token_hex(3)}@example.org"
            fields = _form_fields(endpoint, email, csrf[1])
            # Post in the encoding the page's form declares, as a browser does.
            if b'enctype="multipart/form-data"' in html:
                body, content_type = _multipart(fields)
            else:
                body, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
            headers = {
                "Content-Type": content_type,
                "Cookie": f"csrftoken={csrf[0]}",
                # What Chromium sends for this form under the portal's same-origin referrer policy.
                "Origin": origin,
                "Referer": origin + path,
                "Accept": "text/html",
            }
            t2 = perf()
            response, _ = client.request("POST", path, body=body, headers=headers)
            t3 = perf()
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none stops the run
            errors.append(f"{type(exc).__name__}: {exc}")
            client.conn.close()
            continue
        post_ms.append((t3 - t2) * 1000)
        location = response.getheader("Location", "")
        if response.status != 302 or not location.startswith(redirect_prefix):
            errors.append(f"POST {path} -> {response.status} Location={location!r}")
            continue
        if endpoint == "real" and "dsar_status" not in _cookies(response):
            # The person's browser must be given access to the new request's status page.
            errors.append(f"POST {path}: no status-access cookie in the response")
            continue
        cycle_ms.append((t3 - t0) * 1000)
        ok += 1
    client.conn.close()
    results[index] = {"get_ms": get_ms, "post_ms": post_ms, "cycle_ms": cycle_ms, "errors": errors, "ok": ok}


def loadgen_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="intake_bench.py _loadgen")
    parser.add_argument("endpoint", choices=sorted(ENDPOINTS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--mode", choices=["cycle", "post"], default="cycle")
    args = parser.parse_args(argv)
    host = "127.0.0.1"
    results: list[dict | None] = [None] * args.concurrency
    start_event = threading.Event()
    clock = {"deadline": 0.0}  # set just before the threads are released
    threads = [
        threading.Thread(
            target=_virtual_user,
            args=(i, args.endpoint, args.mode, host, args.port, clock, results, start_event),
            daemon=True,
        )
        for i in range(args.concurrency)
    ]
    for thread in threads:
        thread.start()
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    wall0 = time.perf_counter()
    clock["deadline"] = wall0 + args.seconds
    start_event.set()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall0
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    merged: dict = {"get_ms": [], "post_ms": [], "cycle_ms": [], "errors": [], "ok": 0}
    for result in results:
        for key in ("get_ms", "post_ms", "cycle_ms", "errors"):
            merged[key].extend(result[key])
        merged["ok"] += result["ok"]
    merged.update(wall_s=wall, client_cpu_s=cpu, pid=os.getpid())
    json.dump(merged, sys.stdout)


# =====================================================================================
# Orchestrator
# =====================================================================================


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summarise(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": max(values) if values else float("nan"),
        "mean": sum(values) / len(values) if values else float("nan"),
    }


# --- CPU accounting from /proc ---------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[str, int, float] | None:
    """(comm, ppid, cpu seconds) of a process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[1] = ppid; fields[11], fields[12] = utime, stime (stat fields 14, 15); fields[13], fields[14] =
    # cutime, cstime: children that exited and were reaped (PostgreSQL backends whose connection closed, by the
    # postmaster), so a process ending between two snapshots does not take its CPU out of the sum.
    return comm, int(fields[1]), sum(int(v) for v in fields[11:15]) / CLK_TCK


def cpu_snapshot(gunicorn_pid: int) -> dict[str, float]:
    """CPU seconds used so far by gunicorn (master + workers), PostgreSQL, Redis, and the whole machine."""
    groups = {"gunicorn": 0.0, "postgres": 0.0, "redis": 0.0}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _proc_stat(int(entry))
        if stat is None:
            continue
        comm, ppid, seconds = stat
        if int(entry) == gunicorn_pid or ppid == gunicorn_pid:
            groups["gunicorn"] += seconds
        elif comm == "postgres" or comm.startswith("postgres"):
            groups["postgres"] += seconds
        elif comm.startswith("redis-server"):
            groups["redis"] += seconds
    cpu_line = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in cpu_line]
    idle = values[3] + values[4]  # idle + iowait
    groups["machine_busy"] = (sum(values[:8]) - idle) / CLK_TCK
    groups["machine_total"] = sum(values[:8]) / CLK_TCK
    return groups


# --- Database and Redis ---------------------------------------------------------------


def pg_admin(sql: str, *, dsn: str) -> None:
    import psycopg2

    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


COUNT_TABLES = {
    "requests": "requests_app_datasubjectrequest",
    "events": "requests_app_requestevent",
    "messages": "requests_app_message",
    "due_date_changes": "requests_app_duedatechange",
    "baseline_rows": "bench_baseline_submission",
}


def db_counts(dsn: str) -> dict[str, int]:
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            counts = {}
            for key, table in COUNT_TABLES.items():
                cur.execute(f"SELECT count(*) FROM {table}")  # table names are constants above
                counts[key] = cur.fetchone()[0]
            cur.execute(
                "SELECT count(*) FROM requests_app_requestevent WHERE kind = 'submitted'",
            )
            counts["submitted_events"] = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM requests_app_message WHERE kind = 'email_confirmation'")
            counts["confirmation_messages"] = cur.fetchone()[0]
    finally:
        conn.close()
    return counts


def queued_tasks(redis_client) -> int:
    """Celery messages waiting in the broker (default queue, all priority sub-queues)."""
    total = 0
    for key in redis_client.scan_iter(match="celery*"):
        if redis_client.type(key) == b"list":
            total += redis_client.llen(key)
    return total


# --- gunicorn -------------------------------------------------------------------------


def start_gunicorn(env: dict, port: int, args, log_path: Path, *, workers: int, extra: list[str] | None = None):
    command = [
        str(VENV_BIN / "gunicorn"),
        "dsar_portal.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        args.worker_class,
        "--timeout",
        "60",
        "--no-control-socket",  # gunicorn 27 otherwise shares ~/.gunicorn/gunicorn.ctl with other instances
        "--error-logfile",
        str(log_path),
    ]
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads)]
    command += extra or []
    log_file = log_path.open("ab")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=log_file)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log_path}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return process
        except OSError:
            pass
        time.sleep(0.2)
    stop_gunicorn(process)
    raise RuntimeError(f"gunicorn did not become ready; see {log_path}")


def stop_gunicorn(process) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_loadgen(endpoint: str, port: int, seconds: float, concurrency: int, mode: str = "cycle") -> dict:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "_loadgen",
        endpoint,
        "--port",
        str(port),
        "--seconds",
        str(seconds),
        "--concurrency",
        str(concurrency),
        "--mode",
        mode,
    ]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, check=False, timeout=seconds + 120)
    if completed.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{completed.stderr.decode()}")
    return json.loads(completed.stdout)


def measured_run(endpoint: str, port: int, seconds: float, args, gunicorn_pid: int, dsn: str, redis_client):
    counts0, queued0 = db_counts(dsn), queued_tasks(redis_client)
    cpu0 = cpu_snapshot(gunicorn_pid)
    result = run_loadgen(endpoint, port, seconds, args.concurrency, args.mode)
    cpu1 = cpu_snapshot(gunicorn_pid)
    counts1, queued1 = db_counts(dsn), queued_tasks(redis_client)
    wall = result["wall_s"]
    cpu = {key: (cpu1[key] - cpu0[key]) for key in cpu0}
    result["cpu_cores"] = {
        "client": result["client_cpu_s"] / wall,
        "gunicorn": cpu["gunicorn"] / wall,
        "postgres": cpu["postgres"] / wall,
        "redis": cpu["redis"] / wall,
        "machine": cpu["machine_busy"] / wall,
    }
    known = sum(result["cpu_cores"][k] for k in ("client", "gunicorn", "postgres", "redis"))
    result["cpu_cores"]["other"] = max(0.0, result["cpu_cores"]["machine"] - known)
    result["delta"] = {key: counts1[key] - counts0[key] for key in counts0}
    result["delta"]["queued_tasks"] = queued1 - queued0
    return result


def check_run(endpoint: str, run: dict) -> list[str]:
    """Correctness of one measured run; any problem invalidates the benchmark."""
    problems = [f"error: {e}" for e in run["errors"][:20]]
    if len(run["errors"]) > 20:
        problems.append(f"... and {len(run['errors']) - 20} more errors")
    ok, delta = run["ok"], run["delta"]
    if endpoint == "baseline":
        expected = {"baseline_rows": ok, "requests": 0, "events": 0, "messages": 0, "queued_tasks": 0}
    else:
        expected = {
            "requests": ok,
            "submitted_events": ok,
            "confirmation_messages": ok,
            "messages": ok,
            "events": ok,  # "submitted"; "message sent" is written by the worker when the e-mail goes
            "due_date_changes": ok,
            "queued_tasks": ok,  # one deliver_message task per confirmation e-mail, in Redis
            "baseline_rows": 0,
        }
    for key, value in expected.items():
        if delta[key] != value:
            problems.append(f"{key}: {delta[key]} created, expected {value} (successful POSTs: {ok})")
    return problems


def aggregate(endpoint: str, runs: list[dict]) -> dict:
    post = [v for r in runs for v in r["post_ms"]]
    get = [v for r in runs for v in r["get_ms"]]
    cycle = [v for r in runs for v in r["cycle_ms"]]
    wall = sum(r["wall_s"] for r in runs)
    ok = sum(r["ok"] for r in runs)
    errors = [e for r in runs for e in r["errors"]]
    cores = {key: sum(r["cpu_cores"][key] * r["wall_s"] for r in runs) / wall for key in runs[0]["cpu_cores"]}
    return {
        "endpoint": endpoint,
        "path": ENDPOINTS[endpoint][0],
        "submissions": ok,
        "wall_s": wall,
        "throughput_per_s": ok / wall,
        "http_requests_per_s": (len(get) + len(post)) / wall,
        "post_ms": summarise(post),
        "get_ms": summarise(get),
        "cycle_ms": summarise(cycle),
        "errors": len(errors),
        "error_samples": errors[:20],
        "cpu_cores": cores,
        # Server CPU per submission: less sensitive than throughput to other load on a shared machine.
        "cpu_ms_per_submission": {
            key: cores[key] * wall / ok * 1000 if ok else float("nan") for key in ("gunicorn", "postgres", "redis")
        },
        "per_run_throughput": [r["ok"] / r["wall_s"] for r in runs],
        "delta": {key: sum(r["delta"][key] for r in runs) for key in runs[0]["delta"]},
    }


def server_cpu_ms(summary: dict) -> float:
    return sum(summary["cpu_ms_per_submission"].values())


def print_table(summary: dict[str, dict], mode: str) -> None:
    header = (
        f"{'endpoint':<9} {'path':<18} {'done':>6} {'subm/s':>8} {'req/s':>7}  "
        f"{'POST p50':>8} {'p90':>7} {'p99':>7} {'max':>7}  {'cycle p50':>9} {'p99':>7}  {'errors':>6}"
    )
    print()
    if mode == "cycle":
        print("Latency in ms. subm/s = completed GET+POST submissions per second (the throughput compared);")
        print("req/s = HTTP requests per second. POST = the submission itself; cycle = GET form + POST.")
    else:
        print("Mode post: one GET per user, then POSTs only. subm/s = successful POSTs per second (compared);")
        print("latency in ms; cycle = POST alone here.")
    print(header)
    print("-" * len(header))
    for name in ("baseline", "real"):
        s = summary[name]
        p, c = s["post_ms"], s["cycle_ms"]
        print(
            f"{name:<9} {s['path']:<18} {s['submissions']:>6} {s['throughput_per_s']:>8.1f} "
            f"{s['http_requests_per_s']:>7.1f}  {p['p50']:>8.1f} {p['p90']:>7.1f} {p['p99']:>7.1f} {p['max']:>7.1f}  "
            f"{c['p50']:>9.1f} {c['p99']:>7.1f}  {s['errors']:>6}"
        )
    print()
    print("GET (form page) latency, ms:")
    for name in ("baseline", "real"):
        g = summary[name]["get_ms"]
        print(f"  {name:<9} p50 {g['p50']:.1f}  p90 {g['p90']:.1f}  p99 {g['p99']:.1f}  max {g['max']:.1f}")
    print()
    print(f"CPU in cores (machine has {os.cpu_count()}) during each endpoint's runs:")
    print(f"  {'':<9} {'client':>7} {'gunicorn':>9} {'postgres':>9} {'redis':>6} {'other':>6} {'machine':>8}")
    for name in ("baseline", "real"):
        c = summary[name]["cpu_cores"]
        print(
            f"  {name:<9} {c['client']:>7.2f} {c['gunicorn']:>9.2f} {c['postgres']:>9.2f} {c['redis']:>6.2f} "
            f"{c['other']:>6.2f} {c['machine']:>8.2f}"
        )
    print()
    print("Server CPU per submission, ms (gunicorn + PostgreSQL + Redis; the capacity each submission costs):")
    for name in ("baseline", "real"):
        m = summary[name]["cpu_ms_per_submission"]
        total = m["gunicorn"] + m["postgres"] + m["redis"]
        print(
            f"  {name:<9} {total:6.2f}  (gunicorn {m['gunicorn']:.2f}, postgres {m['postgres']:.2f}, "
            f"redis {m['redis']:.2f})"
        )


def build_env(args, tmp: Path, dsn_db: str) -> dict:
    from dsar_portal.crypto import generate_key

    env = dict(os.environ)
    # Anything in the caller's environment that would change what is measured.
    for name in list(env):
        if name.startswith(("DJANGO_", "DSAR_", "EMAIL_", "CELERY_", "FIELD_")) or name in (
            "DATABASE_URL",
            "REDIS_URL",
        ):
            del env[name]
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    env.update(
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=dsn_db,
        REDIS_URL=redis_url,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=f"bench:{generate_key()}",
        FIELD_HASH_KEY=generate_key(),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DSAR_DATA_DIR=str(tmp / "data"),
        DSAR_RATE_SUBMIT_PER_CLIENT="1000000000",
        DSAR_RATE_SUBMIT_PER_EMAIL="1000000000",
        BENCH_STATIC_ROOT=str(tmp / "static"),
    )
    return env


def manage(env: dict, *command: str) -> None:
    completed = subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(command)} failed:\n{completed.stdout.decode()}{completed.stderr.decode()}"
        )


def profile_pass(args, env: dict, tmp: Path, port: int, results_stem: str) -> dict:
    """One gunicorn sync worker wrapped in cProfile; each endpoint loaded for --profile-seconds."""
    import pstats

    out = {}
    for endpoint in ("baseline", "real"):
        prof_dir = tmp / f"profile-{endpoint}"
        prof_dir.mkdir()
        penv = dict(env, BENCH_PROFILE_DIR=str(prof_dir))
        process = start_gunicorn(
            penv,
            port,
            argparse.Namespace(worker_class="sync", threads=1),
            tmp / "gunicorn-profile.log",
            workers=1,
            extra=["--config", str(BENCH_DIR / "gunicorn_profile.py")],
        )
        try:
            run_loadgen(endpoint, port, 2, 1)  # warm-up, not profiled
            (prof_dir / "enabled").touch()
            time.sleep(0.1)
            result = run_loadgen(endpoint, port, args.profile_seconds, 1)
        finally:
            stop_gunicorn(process)
        files = sorted(prof_dir.glob("*.prof"))
        if not files:
            raise RuntimeError(f"no profile written; see {tmp / 'gunicorn-profile.log'}")
        stats = pstats.Stats(*map(str, files))
        target = RESULTS_DIR / f"{results_stem}-{endpoint}.prof"
        stats.dump_stats(str(target))
        out[endpoint] = {"profile": str(target.relative_to(ROOT)), "cycles": result["ok"]}
        log(f"profile of {endpoint}: {result['ok']} GET+POST cycles, stats in {target.relative_to(ROOT)}")
    return out


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_loadgen":
        loadgen_main(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=32, help="measured seconds per endpoint (default 32)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"], help="default sync")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker with --worker-class gthread")
    parser.add_argument(
        "--rounds",
        type=int,
        default=8,
        help="alternate the endpoints in this many rounds (ABBA order), --seconds split between them (default 8)",
    )
    parser.add_argument(
        "--mode",
        choices=["cycle", "post"],
        default="cycle",
        help="cycle: GET form + POST per submission, as a browser (default); post: one GET per user, then POSTs only",
    )
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds per endpoint (default 3)")
    parser.add_argument("--database", default="dsar_bench", help="PostgreSQL database, dropped and re-created")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--redis-db", type=int, default=9, help="spare Redis db number, flushed at the end")
    parser.add_argument(
        "--gunicorn-config",
        help="extra gunicorn config file (e.g. hooks for an experiment), used for both endpoints",
    )
    parser.add_argument("--profile", action="store_true", help="also run a cProfile pass (one sync worker)")
    parser.add_argument("--profile-seconds", type=float, default=10)
    args = parser.parse_args()

    if "bench" not in args.database:
        print("--database must contain 'bench': it is dropped and re-created.", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    import redis

    redis_client = redis.Redis(host="127.0.0.1", port=6379, db=args.redis_db)
    if redis_client.dbsize():
        print(
            f"Redis db {args.redis_db} is not empty: something else uses it. Choose another with --redis-db.",
            file=sys.stderr,
        )
        return 2

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    tmp = Path(tempfile.mkdtemp(prefix="dsar-bench-"))
    admin_dsn = f"{args.pg}/postgres"
    dsn = f"{args.pg}/{args.database}"
    env = build_env(args, tmp, dsn)
    process = None
    all_problems: list[str] = []
    failed = False
    verdict: dict | None = None
    try:
        log(f"creating database {args.database}, migrating, collecting static files into {tmp}")
        pg_admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)', dsn=admin_dsn)
        pg_admin(f'CREATE DATABASE "{args.database}"', dsn=admin_dsn)
        pending = subprocess.run(
            [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            check=False,
        )
        if pending.returncode != 0:
            # Another change is half-way in the working tree: the code would not match the schema.
            raise RuntimeError(
                "models and migrations disagree in this checkout (makemigrations --check); "
                "the benchmark would measure a broken schema:\n" + pending.stdout.decode() + pending.stderr.decode()
            )
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")

        port = free_port()
        extra = ["--config", str(Path(args.gunicorn_config).resolve())] if args.gunicorn_config else []
        process = start_gunicorn(env, port, args, tmp / "gunicorn.log", workers=args.workers, extra=extra)
        server = f"{args.workers} {args.worker_class} workers" + (
            f" x {args.threads} threads" if args.worker_class == "gthread" else ""
        )
        log(f"gunicorn on 127.0.0.1:{port}: {server}; Redis db {args.redis_db}; {args.concurrency} connections")

        for endpoint in ("baseline", "real"):
            warm = run_loadgen(endpoint, port, args.warmup, args.concurrency, args.mode)
            if warm["errors"]:
                all_problems += [f"warm-up {endpoint}: {e}" for e in warm["errors"][:10]]
            log(f"warm-up {endpoint}: {warm['ok']} submissions, {len(warm['errors'])} errors")
        if all_problems:
            raise RuntimeError("warm-up failed:\n  " + "\n  ".join(all_problems))

        order = []
        for r in range(args.rounds):
            order += ["baseline", "real"] if r % 2 == 0 else ["real", "baseline"]
        seconds = args.seconds / args.rounds
        runs: dict[str, list[dict]] = {"baseline": [], "real": []}
        for endpoint in order:
            run = measured_run(endpoint, port, seconds, args, process.pid, dsn, redis_client)
            problems = check_run(endpoint, run)
            all_problems += [f"{endpoint}: {p}" for p in problems]
            runs[endpoint].append(run)
            log(
                f"{endpoint:<8} {run['ok'] / run['wall_s']:6.1f} subm/s, POST p99 "
                f"{percentile(run['post_ms'], 99):6.1f} ms, client {run['cpu_cores']['client']:.2f} core, "
                f"{len(run['errors'])} errors{'' if not problems else ', CHECK FAILED'}"
            )
        stop_gunicorn(process)
        process = None

        summary = {name: aggregate(name, runs[name]) for name in runs}
        ratio = summary["real"]["throughput_per_s"] / summary["baseline"]["throughput_per_s"]
        # Each round ran both endpoints back to back: its ratio shows how much the machine's speed moved.
        round_ratios = [
            (real["ok"] / real["wall_s"]) / (base["ok"] / base["wall_s"])
            for base, real in zip(runs["baseline"], runs["real"], strict=True)
        ]
        p99 = summary["real"]["post_ms"]["p99"]
        within_budget = p99 < BUDGET_P99_MS
        print_table(summary, args.mode)
        print()
        cpu_ratio = server_cpu_ms(summary["baseline"]) / server_cpu_ms(summary["real"])
        print(
            f"capacity ratio from server CPU per submission (baseline / real): {cpu_ratio:.1%}  "
            "(what the throughput ratio tends to when the server is CPU-bound on a dedicated machine)"
        )
        print(
            "real / baseline throughput per round: "
            + " ".join(f"{r:.0%}" for r in round_ratios)
            + f"  (median {statistics.median(round_ratios):.1%})"
        )
        print(f"real / baseline throughput: {ratio:.1%}  (for information)")
        print(
            f"real POST p99: {p99:.1f} ms  (budget < {BUDGET_P99_MS:.0f} ms at {BUDGET_CONCURRENCY} connections: "
            f"{'WITHIN BUDGET' if within_budget else 'OVER BUDGET'})"
        )
        if args.concurrency != BUDGET_CONCURRENCY:
            print(f"note: the budget is set for {BUDGET_CONCURRENCY} connections; this run used {args.concurrency}")
        other_max = max(r["cpu_cores"]["other"] for rs in runs.values() for r in rs)
        if other_max > 0.25:
            print(
                f"WARNING: other processes used up to {other_max:.2f} cores during the runs: the machine was shared, "
                "so absolute numbers are low and noisy (the ABBA order keeps the ratio fairer). Re-run when quiet."
            )
        client_max = max(r["cpu_cores"]["client"] for rs in runs.values() for r in rs)
        print(f"load generator: at most {client_max:.2f} of one core (a separate process; not the bottleneck if < 1)")
        if all_problems:
            print("\nRUN INVALID: correctness checks failed:")
            for problem in all_problems:
                print(f"  {problem}")
        else:
            print(
                "correctness: every successful POST created its rows, audit event and queued e-mail, "
                "and gave the browser access to its status page"
            )

        profile = None
        if args.profile:
            profile = profile_pass(args, env, tmp, free_port(), f"intake-{stamp}")

        RESULTS_DIR.mkdir(exist_ok=True)
        out = RESULTS_DIR / f"intake-{stamp}.json"
        out.write_text(
            json.dumps(
                {
                    "when": dt.datetime.now().isoformat(timespec="seconds"),
                    "command": " ".join(sys.argv),
                    "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "node": platform.node()},
                    "server": {
                        "workers": args.workers,
                        "worker_class": args.worker_class,
                        "threads": args.threads if args.worker_class == "gthread" else 1,
                        "extra_config": args.gunicorn_config,
                    },
                    "concurrency": args.concurrency,
                    "mode": args.mode,
                    "seconds_per_endpoint": args.seconds,
                    "rounds": args.rounds,
                    "order": order,
                    "results": summary,
                    "ratio": ratio,
                    "round_ratios": round_ratios,
                    "cpu_capacity_ratio": cpu_ratio,
                    "budget": {
                        "post_p99_ms": BUDGET_P99_MS,
                        "concurrency": BUDGET_CONCURRENCY,
                        "within_budget": within_budget,
                    },
                    "valid": not all_problems,
                    "problems": all_problems,
                    "profile": profile,
                },
                indent=2,
            )
        )
        print(f"results written to {out.relative_to(ROOT)}")
        verdict = {
            "benchmark": "intake",
            "valid": not all_problems,
            "real_post_p99_ms": round(p99, 1),
            "budget_post_p99_ms": BUDGET_P99_MS,
            "within_budget": within_budget,
            "concurrency": args.concurrency,
            "workers": args.workers,
            "mode": args.mode,
            "real_subm_per_s": round(summary["real"]["throughput_per_s"], 1),
            "baseline_subm_per_s": round(summary["baseline"]["throughput_per_s"], 1),
            "ratio_to_baseline": round(ratio, 3),
            "results": str(out.relative_to(ROOT)),
        }
        if all_problems:
            return 1
        return 0 if within_budget else EXIT_OVER_BUDGET
    except BaseException:
        failed = True
        raise
    finally:
        stop_gunicorn(process)
        if failed or all_problems:
            # Keep the server log (tracebacks of any 500s) before the temporary directory goes.
            RESULTS_DIR.mkdir(exist_ok=True)
            for log_file in tmp.glob("gunicorn*.log"):
                kept = RESULTS_DIR / f"intake-{stamp}-{log_file.name}"
                shutil.copy(log_file, kept)
                print(f"server log kept in {kept.relative_to(ROOT)}", file=sys.stderr)
        try:
            pg_admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)', dsn=admin_dsn)
        except Exception as exc:  # noqa: BLE001
            print(f"could not drop database {args.database}: {exc}", file=sys.stderr)
        redis_client.flushdb()
        shutil.rmtree(tmp, ignore_errors=True)
        log("cleaned up: gunicorn stopped, database dropped, Redis db flushed")
        if verdict is not None:
            # Last, after the clean-up, so that the output's last line is always this one JSON object.
            print(json.dumps(verdict), flush=True)


if __name__ == "__main__":
    sys.exit(main())
