"""Export benchmark: one person with ``--rows`` rows across two data systems, compiled end to end through the real job
path (plan, search jobs on a real Celery worker process, the encrypted archive assembled on disk) (issue 12, "Speed
and memory").

A measurement, not a timed test: it reports against the goals (at least 25,000 rows per second per worker process,
peak resident memory under 256 MB per process, whatever the size) and never fails on them. Run from the project
root::

    .venv/bin/python bench/export_bench.py [--rows 1000000] [--python-path]

What it does (see bench/README.md):

1. creates a fresh PostgreSQL database (``--database``, dropped and re-created; the name must contain ``bench``),
   points Django at it and at Redis db ``--redis-db`` (which must be empty), and migrates;
2. seeds, with set-based SQL, the demo CRM's tables for one person (a customer, orders, order lines and website
   events, one value in a hundred awkward: commas, quotes, line breaks, backslashes, non-ASCII) and a hundred other
   people, and a register of two systems: the shop's CRM (the demo application connector: customers, orders,
   order lines) and web analytics (the SQL connector, reaching the same database by URL: the person and their
   events);
3. files an access request for the person and confirms its e-mail, starts one worker process (``celery worker
   --pool=solo``: one process runs every task), passes the identity check (the clock starts: the request goes into
   progress, which plans the compilation) and waits until the archive is assembled;
4. reads the worker's peak resident memory (``VmHWM``) and each task's run time from its log, checks the parts hold
   every row, and prints, as the last line of its output, one JSON object with the figures;
5. drops the database and flushes the Redis db (``--keep`` keeps the database).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADMIN_DSN = "postgres://postgres@127.0.0.1:5432/postgres"
RESULTS_DIR = ROOT / "bench" / "results"
QUEUE = "export-bench"
RATE_GOAL = 25_000
RSS_GOAL_MB = 256
PERSON_EMAIL = "ada.bench@example.org"
OTHER_PEOPLE = 100
AWKWARD = 'Flat 2, "The Works"\\n\nLine two \\ back-slashed, café 😀'


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def pg_admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(ADMIN_DSN)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def split(rows: int) -> dict[str, int]:
    """The person's rows per table: 15 % orders, 25 % order lines, the rest website events; one customer row in
    each system. They add up to ``rows``."""
    orders = rows * 15 // 100
    lines = rows * 25 // 100
    return {"customers": 1, "orders": orders, "order_lines": lines, "person": 1, "events": rows - 2 - orders - lines}


SEED_SQL = """
INSERT INTO democrm_customer (customer_number, name, email, phone, date_of_birth, address_line, city, postcode,
                              country, created, restricted)
SELECT 'C-' || (5000 + g), 'Person ' || g, 'person' || g || '@example.org', '0770090' || lpad(g::text, 4, '0'),
       date '1980-01-01' + g, g || ' High Street', 'Leeds', 'LS1 1AA', 'GB', timestamptz '2024-01-01 10:00+00', false
FROM generate_series(1, %(others)s) g;
INSERT INTO democrm_customer (customer_number, name, email, phone, date_of_birth, address_line, city, postcode,
                              country, created, restricted)
VALUES ('C-4242', 'Ada "Bench" Lovelace, Countess', %(email)s, '07700900999', date '1985-12-10', %(awkward)s,
        'London', 'W1 1AA', 'GB', timestamptz '2020-02-03 04:05:06.789+00', false);
INSERT INTO democrm_order (customer_id, order_number, placed_at, status, currency, total, delivery_address,
                           payment_reference)
SELECT (SELECT id FROM democrm_customer WHERE email = %(email)s), 'SO-' || g,
       timestamptz '2020-01-01 00:00+00' + g * interval '61.25 seconds',
       (ARRAY['placed', 'shipped', 'delivered', 'returned', 'cancelled'])[1 + g %% 5], 'GBP',
       round(((g::bigint * 7919) %% 100000) / 100.0 + 0.99, 2),
       CASE WHEN g %% 100 = 0 THEN %(awkward)s ELSE g || ' Long Road, London' END, 'PSP-' || md5(g::text)
FROM generate_series(1, %(orders)s) g;
INSERT INTO democrm_order (customer_id, order_number, placed_at, status, currency, total, delivery_address,
                           payment_reference)
SELECT c.id, 'SO-X-' || c.id || '-' || g, timestamptz '2024-01-01 00:00+00', 'placed', 'GBP', 10.00, '', ''
FROM democrm_customer c, generate_series(1, 10) g WHERE c.email <> %(email)s;
INSERT INTO democrm_orderline (order_id, sku, description, quantity, unit_price)
SELECT o.id, 'SKU-' || (g %% 997), CASE WHEN g %% 100 = 0 THEN %(awkward)s ELSE 'Item ' || (g %% 997) END,
       1 + g %% 4, round(((g::bigint * 104729) %% 10000) / 100.0 + 0.5, 2)
FROM generate_series(1, %(lines)s) g
JOIN democrm_order o ON o.order_number = 'SO-' || (1 + (g - 1) %% greatest(%(orders)s, 1));
INSERT INTO democrm_event (customer_id, occurred_at, kind, path, ip_address, user_agent, device, time_zone,
                           session_id)
SELECT (SELECT id FROM democrm_customer WHERE email = %(email)s),
       timestamptz '2021-01-01 00:00+00' + g * interval '17.123457 seconds',
       (ARRAY['page_view', 'login', 'logout', 'search', 'add_to_basket', 'checkout', 'email_open'])[1 + g %% 7],
       CASE WHEN g %% 100 = 0 THEN %(awkward)s ELSE '/products/' || (g %% 5000) END,
       CASE WHEN g %% 3 = 0 THEN NULL WHEN g %% 3 = 1 THEN ('192.0.2.' || (g %% 250))::inet
            ELSE ('2001:db8::' || to_hex(g %% 65535))::inet END,
       'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
       (ARRAY['desktop', 'mobile', 'tablet'])[1 + g %% 3], 'Europe/London', md5((g / 20)::text)
FROM generate_series(1, %(events)s) g;
INSERT INTO democrm_event (customer_id, occurred_at, kind, path, ip_address, user_agent, device, time_zone,
                           session_id)
SELECT c.id, timestamptz '2024-01-01 00:00+00' + g * interval '1 minute', 'page_view', '/', NULL, '', '', '', ''
FROM democrm_customer c, generate_series(1, 10) g WHERE c.email <> %(email)s;
"""

CRM_CONFIG = {
    "chunk_size": 2000,
    "tables": [
        {
            "name": "customers",
            "model": "democrm.Customer",
            "match": {"email": "email", "customer_id": "customer_number"},
            "columns": [
                "customer_number",
                "name",
                "email",
                "phone",
                "date_of_birth",
                "address_line",
                "city",
                "postcode",
                "country",
                "created",
            ],
        },
        {
            "name": "orders",
            "model": "democrm.Order",
            "via": "customer",
            "columns": [
                "order_number",
                "placed_at",
                "status",
                "currency",
                "total",
                "delivery_address",
                "payment_reference",
            ],
        },
        {
            "name": "order_lines",
            "model": "democrm.OrderLine",
            "via": "order__customer",
            "columns": ["order__order_number", "sku", "description", "quantity", "unit_price"],
        },
    ],
}
ANALYTICS_CONFIG = {
    "url_env": "BENCH_ANALYTICS_DATABASE_URL",
    "tables": [
        {
            "name": "person",
            "table": "democrm_customer",
            "match": {"email": {"column": "email", "lower": True}},
            "columns": ["id", "customer_number", "email"],
        },
        {
            "name": "events",
            "table": "democrm_event",
            "via": {"table": "person", "column": "customer_id", "references": "id"},
            "columns": ["occurred_at", "kind", "path", "ip_address", "user_agent", "device", "time_zone", "session_id"],
        },
    ],
}


def django_setup(database: str, redis_db: int, uploads: Path) -> dict[str, str]:
    """Point this process at the bench database; returns the environment the worker gets too."""
    env = {
        "DJANGO_SETTINGS_MODULE": "dsar_portal.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "DSAR_PRIVATE_UPLOAD_DIR": str(uploads),
        "DSAR_EMAIL_DIR": str(uploads.parent / "mail"),
        "DSAR_CELERY_DEFAULT_QUEUE": QUEUE,
        "BENCH_ANALYTICS_DATABASE_URL": f"postgresql+psycopg2://postgres@127.0.0.1:5432/{database}",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    return env


def seed(rows: int) -> dict[str, int]:
    from django.db import connection

    from datasystems.models import DataSystem

    sizes = split(rows)
    params = {
        "others": OTHER_PEOPLE,
        "email": PERSON_EMAIL,
        "awkward": AWKWARD,
        "orders": sizes["orders"],
        "lines": sizes["order_lines"],
        "events": sizes["events"],
    }
    with connection.cursor() as cursor:
        cursor.execute(SEED_SQL, params)
    common = {
        "data_subjects": "Customers",
        "personal_data_categories": ["contact details", "orders", "website use"],
        "retention": "Six years after the last order.",
    }
    DataSystem.objects.create(name="Shop CRM", connector="demo_app", connector_config=CRM_CONFIG, **common)
    DataSystem.objects.create(name="Web analytics", connector="sql", connector_config=ANALYTICS_CONFIG, **common)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return sizes


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "dsar_portal",
        "worker",
        "--pool=solo",
        "-Q",
        QUEUE,
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    handle = open(log_path, "w")  # noqa: SIM115 (the worker writes to it until stopped)
    worker = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=handle, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "ready." in log_path.read_text():
            return worker
        if worker.poll() is not None:
            raise SystemExit(f"the worker stopped; see {log_path}")
        time.sleep(0.2)
    raise SystemExit(f"the worker did not start; see {log_path}")


def peak_rss_mb(pid: int | str) -> float:
    """The process's peak resident set (VmHWM), in MB (10^6 bytes... no: MiB, as ps and top show)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def task_seconds(log_text: str, task: str) -> list[float]:
    return [
        float(match) for match in re.findall(rf"Task {re.escape(task)}\[[^\]]+\] succeeded in ([0-9.]+)s", log_text)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="the person's rows across both systems")
    parser.add_argument("--database", default="dsar_export_bench", help="created and dropped; must contain 'bench'")
    parser.add_argument("--redis-db", type=int, default=11, help="must be empty; flushed at the end")
    parser.add_argument(
        "--python-path", action="store_true", help="rows through Python one by one (no COPY), to compare"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds to wait for the archive")
    args = parser.parse_args()
    if "bench" not in args.database or not re.fullmatch(r"[a-z0-9_]+", args.database):
        parser.error("--database must be a plain name containing 'bench'")
    if args.rows < 10:
        parser.error("--rows must be at least 10")

    import redis

    broker = redis.Redis.from_url(f"redis://127.0.0.1:6379/{args.redis_db}")
    if broker.dbsize():
        parser.error(f"Redis db {args.redis_db} is not empty; pick another with --redis-db")
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    worker_log = RESULTS_DIR / f"export-worker-{stamp}.log"
    work = Path(tempfile.mkdtemp(prefix="export-bench-"))
    uploads = work / "uploads"
    worker = None
    try:
        log(f"creating database {args.database}")
        pg_admin(f"DROP DATABASE IF EXISTS {args.database}")
        pg_admin(f"CREATE DATABASE {args.database}")
        env = django_setup(args.database, args.redis_db, uploads)
        if args.python_path:
            env["DSAR_FULFILMENT_POSTGRES_COPY"] = "0"
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        started = time.monotonic()
        sizes = seed(args.rows)
        seed_s = time.monotonic() - started
        log(f"seeded {args.rows:,} rows for the person ({sizes}) in {seed_s:.1f}s")

        from celery import current_app

        current_app.conf.task_always_eager = False
        current_app.conf.task_default_queue = QUEUE
        from fulfilment.models import Compilation, CompilationStatus, SearchPart
        from requests_app import services as request_services
        from tests.factories import StaffUserFactory, confirmed_request

        # The request filed and its e-mail confirmed before the worker starts (its e-mails are not what is measured,
        # and a worker sending them while the confirmation still runs here only adds noise); then the clock starts
        # when the identity check passes and the request goes into progress, which plans the compilation.
        request = confirmed_request(
            right="access",
            name="Ada Lovelace",
            email=PERSON_EMAIL,
            identifiers={"customer_number": "C-4242", "account_email": PERSON_EMAIL},
        )
        handler = StaffUserFactory()
        broker.flushdb()
        worker = start_worker(env, worker_log)
        log("the identity check passes; the worker compiles the answer")
        started = time.monotonic()
        request_services.request_identity_verified(request=request, actor=handler, evidence_received_on=None)
        deadline = started + args.timeout
        compilation = None
        while time.monotonic() < deadline:
            compilation = Compilation.objects.filter(request=request).first()
            if compilation and compilation.status in (CompilationStatus.ASSEMBLED, CompilationStatus.FAILED):
                break
            if worker.poll() is not None:
                raise SystemExit(f"the worker stopped; see {worker_log}")
            time.sleep(0.1)
        seconds = time.monotonic() - started
        worker_rss = peak_rss_mb(worker.pid)
        if compilation is None or compilation.status != CompilationStatus.ASSEMBLED:
            raise SystemExit(f"no archive within {args.timeout}s; see {worker_log}")
        found = sum(SearchPart.objects.filter(job__compilation=compilation).values_list("rows", flat=True))
        if found != args.rows:
            raise SystemExit(f"the parts hold {found:,} rows, not {args.rows:,}")
        archive = uploads / "archives" / compilation.archive_name
        worker.terminate()
        worker.wait(timeout=30)
        text = worker_log.read_text()
        search = task_seconds(text, "fulfilment.tasks.run_search_job")
        assemble = task_seconds(text, "fulfilment.tasks.assemble_compilation")
        bench_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result = {
            "rows": args.rows,
            "seconds": round(seconds, 2),
            "rows_per_s": round(args.rows / seconds),
            "peak_rss_mb": round(max(worker_rss, bench_rss), 1),
            "worker_peak_rss_mb": round(worker_rss, 1),
            "bench_peak_rss_mb": round(bench_rss, 1),
            "archive_bytes": archive.stat().st_size,
            "archive_plaintext_bytes": compilation.archive_bytes,
            "search_seconds": round(sum(search), 2),
            "search_jobs": [round(value, 2) for value in search],
            "assemble_seconds": round(sum(assemble), 2),
            "path": "python" if args.python_path else "copy",
            "worker_processes": 1,
            "seed_s": round(seed_s, 1),
            "load_average": [round(value, 2) for value in os.getloadavg()],
            "goals": {"rows_per_s": RATE_GOAL, "peak_rss_mb": RSS_GOAL_MB},
        }
        result["over_goal"] = [
            name
            for name, over in (
                ("rows_per_s", result["rows_per_s"] < RATE_GOAL),
                ("peak_rss_mb", result["peak_rss_mb"] >= RSS_GOAL_MB),
            )
            if over
        ]
        log(
            f"{args.rows:,} rows in {seconds:.1f}s ({result['rows_per_s']:,} rows/s; searches {sum(search):.1f}s, "
            f"assembly {sum(assemble):.1f}s); peak RSS worker {worker_rss:.0f} MB, bench {bench_rss:.0f} MB; "
            f"archive {result['archive_bytes']:,} bytes on disk"
        )
        (RESULTS_DIR / f"export-{stamp}.json").write_text(json.dumps({"command": sys.argv, **result}, indent=2))
        print(json.dumps(result), flush=True)
        return 0
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        from django.db import connections

        connections.close_all()
        if not args.keep:
            pg_admin(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
        broker.flushdb()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
