"""Erasure benchmark: one person with ``--rows`` rows across four tables of an external PostgreSQL system, erased
(anonymised in place where the register keeps records, deleted elsewhere) through the SQL connector by the real job
path on a real worker (issue 13, "Speed").

A measurement, not a timed test: it reports against the goal (at least 20,000 rows per second at 200,000 rows, the
work committed in bounded batches) and never fails on it. Run from the project root::

    .venv/bin/python bench/erasure_bench.py [--rows 200000] [--direct]

What it does (see bench/README.md):

1. creates a fresh portal database (``--database``, dropped and re-created; the name must contain ``bench``) and the
   external system's database beside it (``<database>_crm``), points Django at the first and at Redis db
   ``--redis-db`` (which must be empty), and migrates;
2. seeds, with set-based SQL, the external shop database: the person's customer row, orders (15 % of the rows),
   order lines (25 %) and website events (the rest), and a hundred other people with ten rows each; and a register
   of one system reached by the SQL connector, whose change rules anonymise the customer (keyed hash of the e-mail
   address, fixed name, phone and address nulled) and the orders (delivery address nulled, payment reference keyed
   hash) on Art. 17(3)(b), anonymise the events (IP address, path and session nulled, browser fixed) on Art.
   17(3)(d), and delete the order lines;
3. files an erasure request for the person and puts it in progress, starts one worker process (``celery worker
   --pool=solo``), then (the clock starts) plans the erasure with ``changes.services.change_run_start`` (the rows
   estimated by ``connector.count``) approved by a DPO, which queues the job; the worker runs it
   (``changes.services.job_run``: ``SqlConnector.apply_change`` in batches of ``DSAR_CHANGE_BATCH_ROWS``, each batch
   committed and its checkpoint saved on the job row) until the run is done;
4. checks every one of the person's rows was changed exactly as the rules say and nobody else's was, reads the
   worker's peak resident memory (``VmHWM``), and prints, as the last line of its output, one JSON object;
5. drops both databases and flushes the Redis db (``--keep`` keeps the databases).

``--direct`` measures the connector alone instead (no request, engine or worker): ``apply_change`` in this process
with a progress that saves the checkpoint in the portal database after every batch, as the engine's does.
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
sys.path.insert(0, str(ROOT))

from bench import export_bench  # noqa: E402
from bench.export_bench import log, peak_rss_mb, pg_admin, task_seconds  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
QUEUE = "erasure-bench"
RATE_GOAL = 20_000
PERSON_EMAIL = "ada.erasure@example.org"
OTHER_PEOPLE = 100
HASH_KEY = b"erasure bench key: not a secret"

SCHEMA_SQL = """
CREATE TABLE crm_customer (id bigserial PRIMARY KEY, customer_number varchar(20) NOT NULL, name varchar(200) NOT NULL,
                           email varchar(254) NOT NULL, phone varchar(32), address varchar(300));
CREATE TABLE crm_order (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES crm_customer (id),
                        order_number varchar(40) NOT NULL, placed_at timestamptz NOT NULL,
                        total numeric(10, 2) NOT NULL,
                        delivery_address varchar(300), payment_reference varchar(100) NOT NULL);
CREATE TABLE crm_order_line (id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES crm_order (id),
                             sku varchar(20) NOT NULL, quantity int NOT NULL, unit_price numeric(10, 2) NOT NULL);
CREATE TABLE crm_event (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES crm_customer (id),
                        occurred_at timestamptz NOT NULL, kind varchar(20) NOT NULL, path varchar(200),
                        ip_address varchar(45), user_agent varchar(300) NOT NULL, session_id varchar(40));
CREATE INDEX ON crm_customer (lower(email));
CREATE INDEX ON crm_order (customer_id);
CREATE INDEX ON crm_order_line (order_id);
CREATE INDEX ON crm_event (customer_id);
"""

SEED_SQL = """
INSERT INTO crm_customer (customer_number, name, email, phone, address)
SELECT 'C-' || (5000 + g), 'Person ' || g, 'person' || g || '@example.org', '0770090' || lpad(g::text, 4, '0'),
       g || ' High Street, Leeds'
FROM generate_series(1, %(others)s) g;
INSERT INTO crm_customer (customer_number, name, email, phone, address)
VALUES ('C-4242', 'Ada Lovelace', %(email)s, '07700900999', '12 St James''s Square, London');
INSERT INTO crm_order (customer_id, order_number, placed_at, total, delivery_address, payment_reference)
SELECT (SELECT id FROM crm_customer WHERE email = %(email)s), 'SO-' || g,
       timestamptz '2020-01-01 00:00+00' + g * interval '61 seconds',
       round(((g::bigint * 7919) %% 100000) / 100.0 + 0.99, 2),
       g || ' Long Road, London', 'PSP-' || md5(g::text)
FROM generate_series(1, %(orders)s) g;
INSERT INTO crm_order_line (order_id, sku, quantity, unit_price)
SELECT o.id, 'SKU-' || (g %% 997), 1 + g %% 4, round(((g::bigint * 104729) %% 10000) / 100.0 + 0.5, 2)
FROM generate_series(1, %(lines)s) g
JOIN crm_order o ON o.order_number = 'SO-' || (1 + (g - 1) %% greatest(%(orders)s, 1));
INSERT INTO crm_event (customer_id, occurred_at, kind, path, ip_address, user_agent, session_id)
SELECT (SELECT id FROM crm_customer WHERE email = %(email)s), timestamptz '2021-01-01 00:00+00' + g * interval '17 s',
       (ARRAY['page_view', 'login', 'search', 'checkout'])[1 + g %% 4], '/products/' || (g %% 5000),
       '192.0.2.' || (g %% 250), 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0', md5((g / 20)::text)
FROM generate_series(1, %(events)s) g;
INSERT INTO crm_order (customer_id, order_number, placed_at, total, delivery_address, payment_reference)
SELECT c.id, 'SO-X-' || c.id || '-' || g, timestamptz '2024-01-01 00:00+00', 10.00, 'Elsewhere', 'PSP-X'
FROM crm_customer c, generate_series(1, 3) g WHERE c.email <> %(email)s;
INSERT INTO crm_order_line (order_id, sku, quantity, unit_price)
SELECT o.id, 'SKU-X', 1, 1.00 FROM crm_order o WHERE o.order_number LIKE 'SO-X-%%';
INSERT INTO crm_event (customer_id, occurred_at, kind, path, ip_address, user_agent, session_id)
SELECT c.id, timestamptz '2024-01-01 00:00+00' + g * interval '1 minute', 'page_view', '/', '198.51.100.1', 'x', 's'
FROM crm_customer c, generate_series(1, 4) g WHERE c.email <> %(email)s;
"""

TAX = "Orders are accounting records kept six years (Companies Act 2006 s.388)."
CONFIG = {
    "url_env": "BENCH_CRM_DATABASE_URL",
    "tables": [
        {
            "name": "customers",
            "table": "crm_customer",
            "match": {"email": {"column": "email", "lower": True}, "customer_id": "customer_number"},
            "columns": ["customer_number", "name", "email", "phone", "address"],
            "erasure": {
                "action": "anonymise",
                "fields": {
                    "email": "keyed_hash",
                    "name": {"fixed": "Erased customer"},
                    "phone": "null",
                    "address": "null",
                },
                "ground": "erasure_legal_obligation",
                "reason": "The account holder of the orders kept for tax law. " + TAX,
            },
        },
        {
            "name": "orders",
            "table": "crm_order",
            "via": {"table": "customers", "column": "customer_id", "references": "id"},
            "columns": ["order_number", "placed_at", "total", "delivery_address", "payment_reference"],
            "erasure": {
                "action": "anonymise",
                "fields": {"delivery_address": "null", "payment_reference": "keyed_hash"},
                "ground": "erasure_legal_obligation",
                "reason": TAX,
            },
        },
        {
            "name": "order_lines",
            "table": "crm_order_line",
            "via": {"table": "orders", "column": "order_id", "references": "id"},
            "columns": ["sku", "quantity", "unit_price"],
        },
        {
            "name": "events",
            "table": "crm_event",
            "via": {"table": "customers", "column": "customer_id", "references": "id"},
            "columns": ["occurred_at", "kind", "path", "ip_address", "user_agent", "session_id"],
            "erasure": {
                "action": "anonymise",
                "fields": {"ip_address": "null", "path": "null", "session_id": "null", "user_agent": {"fixed": "-"}},
                "ground": "erasure_archiving_research",
                "reason": "Statistics of how the website is used, with nothing left that identifies the visitor.",
            },
        },
    ],
}


def start_worker(env: dict[str, str], log_path: Path):
    """export_bench's worker (one process, ``--pool=solo``), on this benchmark's queue."""
    export_bench.QUEUE = QUEUE
    return export_bench.start_worker(env, log_path)


def split(rows: int) -> dict[str, int]:
    """The person's rows per table: 15 % orders, 25 % order lines, the rest website events, one customer row."""
    orders = rows * 15 // 100
    lines = rows * 25 // 100
    return {"customers": 1, "orders": orders, "order_lines": lines, "events": rows - 1 - orders - lines}


def crm_connect(database: str):
    import psycopg2

    connection = psycopg2.connect(f"postgres://postgres@127.0.0.1:5432/{database}")
    connection.autocommit = True
    return connection


def seed_crm(database: str, sizes: dict[str, int]) -> None:
    connection = crm_connect(database)
    try:
        with connection.cursor() as cursor:
            cursor.execute(SCHEMA_SQL)
            cursor.execute(
                SEED_SQL,
                {
                    "others": OTHER_PEOPLE,
                    "email": PERSON_EMAIL,
                    "orders": sizes["orders"],
                    "lines": sizes["order_lines"],
                    "events": sizes["events"],
                },
            )
            cursor.execute("VACUUM ANALYZE")
    finally:
        connection.close()


def verify(database: str, sizes: dict[str, int]) -> dict[str, int]:
    """What is left of the person, and of everybody else, in the external database."""
    connection = crm_connect(database)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT
                  (SELECT count(*) FROM crm_customer WHERE email = %(email)s),
                  (SELECT count(*) FROM crm_customer WHERE customer_number = 'C-4242' AND email LIKE 'anon:%%'
                     AND name = 'Erased customer' AND phone IS NULL AND address IS NULL),
                  (SELECT count(*) FROM crm_order o JOIN crm_customer c ON c.id = o.customer_id
                     WHERE c.customer_number = 'C-4242' AND o.delivery_address IS NULL
                       AND o.payment_reference LIKE 'anon:%%'),
                  (SELECT count(*) FROM crm_order_line l JOIN crm_order o ON o.id = l.order_id
                     JOIN crm_customer c ON c.id = o.customer_id WHERE c.customer_number = 'C-4242'),
                  (SELECT count(*) FROM crm_event e JOIN crm_customer c ON c.id = e.customer_id
                     WHERE c.customer_number = 'C-4242' AND e.ip_address IS NULL AND e.path IS NULL
                       AND e.session_id IS NULL AND e.user_agent = '-'),
                  (SELECT count(*) FROM crm_event WHERE ip_address IS NOT NULL),
                  (SELECT count(*) FROM crm_order_line),
                  (SELECT count(*) FROM crm_customer WHERE email NOT LIKE 'anon:%%')
                """,
                {"email": PERSON_EMAIL},
            )
            found = dict(
                zip(
                    (
                        "person_by_email",
                        "customer_anonymised",
                        "orders_anonymised",
                        "person_lines_left",
                        "events_anonymised",
                        "others_events_intact",
                        "others_lines_intact",
                        "others_customers_intact",
                    ),
                    cursor.fetchone(),
                    strict=True,
                )
            )
    finally:
        connection.close()
    expected = {
        "person_by_email": 0,
        "customer_anonymised": 1,
        "orders_anonymised": sizes["orders"],
        "person_lines_left": 0,
        "events_anonymised": sizes["events"],
        "others_events_intact": OTHER_PEOPLE * 4,
        "others_lines_intact": OTHER_PEOPLE * 3,
        "others_customers_intact": OTHER_PEOPLE,
    }
    wrong = {key: (found[key], value) for key, value in expected.items() if found[key] != value}
    if wrong:
        raise SystemExit(f"the erasure did not leave what the rules say (found, expected): {wrong}")
    return found


def django_setup(database: str, redis_db: int, work: Path) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "dsar_portal.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "DSAR_PRIVATE_UPLOAD_DIR": str(work / "uploads"),
        "DSAR_EMAIL_DIR": str(work / "mail"),
        "DSAR_CELERY_DEFAULT_QUEUE": QUEUE,
        "BENCH_CRM_DATABASE_URL": f"postgresql+psycopg2://postgres@127.0.0.1:5432/{database}_crm",
    }
    os.environ.update(env)
    import django

    django.setup()
    return env


def register_system():
    from datasystems.models import DataSystem

    return DataSystem.objects.create(
        name="Shop database",
        connector="sql",
        connector_config=CONFIG,
        data_subjects="Customers",
        personal_data_categories=["contact details", "orders", "website use"],
        retention="Six years after the last order.",
    )


def run_direct(system, batch_size: int) -> dict:
    """The connector alone: apply_change with a progress that saves each batch's checkpoint in the portal database
    (its own transaction, as the engine's DbProgress does)."""
    from django.db import connection, transaction

    from datasystems.change_rules import tables_for
    from datasystems.connectors.base import Identifiers, connector_for
    from datasystems.connectors.changes import ChangeInstruction, ChangeKind

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_progress (id int PRIMARY KEY, checkpoint jsonb, rows bigint, batches int)")
        cursor.execute("INSERT INTO bench_progress VALUES (1, '{}', 0, 0)")

    class SavedProgress:
        def __init__(self) -> None:
            self.checkpoint: dict = {}
            self.batches = 0
            self.seconds: dict[str, float] = {}
            self.last = time.monotonic()

        def batch_done(self, checkpoint, *, table: str, rows: int) -> None:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE bench_progress SET checkpoint = %s, rows = rows + %s, batches = batches + 1 WHERE id = 1",
                    [json.dumps(checkpoint), rows],
                )
            self.checkpoint = dict(checkpoint)
            self.batches += 1
            now = time.monotonic()
            self.seconds[table] = round(self.seconds.get(table, 0) + now - self.last, 2)
            self.last = now

    connector = connector_for(system.connector, system.connector_config)
    instruction = ChangeInstruction(
        kind=ChangeKind.ERASE,
        tables=tables_for(system.connector_config, ChangeKind.ERASE),
        batch_size=batch_size,
        hash_key=HASH_KEY,
    )
    identifiers = Identifiers.of(email=PERSON_EMAIL)
    started = time.monotonic()
    estimate = sum(connector.count(identifiers, instruction).values())
    count_s = time.monotonic() - started
    progress = SavedProgress()
    progress.last = time.monotonic()
    outcome = connector.apply_change(identifiers, instruction, progress=progress)
    seconds = time.monotonic() - started
    return {
        "rows_changed": outcome.rows,
        "rows_estimate": estimate,
        "seconds": seconds,
        "count_seconds": round(count_s, 2),
        "batches": progress.batches,
        "job_seconds": round(seconds - count_s, 2),
        "worker_peak_rss_mb": 0.0,
        "tables": {table.table: table.rows for table in outcome.tables},
        "table_seconds": progress.seconds,
    }


def run_worker(env: dict[str, str], worker_log: Path, broker, timeout: int) -> tuple[dict, object]:
    """The real path: an erasure request in progress, change_run_start approved by a case handler and, above the
    threshold, by a DPO as well, the job on a worker."""
    from celery import current_app

    current_app.conf.task_always_eager = False
    current_app.conf.task_default_queue = QUEUE
    from changes import services as change_services
    from changes.models import ChangeJob, ChangeRun, RunStatus
    from datasystems.connectors.changes import ChangeKind
    from tests.factories import StaffUserFactory, in_progress_request

    request = in_progress_request(
        right="erasure",
        name="Ada Lovelace",
        email=PERSON_EMAIL,
        identifiers={"customer_number": "C-4242", "account_email": PERSON_EMAIL},
    )
    # Above 10,000 rows an erasure needs the case handler's approval and a different person's as DPO.
    handler, dpo = StaffUserFactory(is_superuser=True), StaffUserFactory(is_superuser=True)
    broker.flushdb()
    worker = start_worker(env, worker_log)
    log("the erasure is planned and approved; the worker carries it out")
    started = time.monotonic()
    run = change_services.change_run_start(request=request, kind=ChangeKind.ERASE, actor=handler, approved=True)
    if run.status == RunStatus.AWAITING_APPROVAL:
        run = change_services.change_run_approve(run=run, actor=dpo)
    planned = time.monotonic() - started
    deadline = started + timeout
    while time.monotonic() < deadline:
        run = ChangeRun.objects.get(pk=run.pk)
        if run.status in (RunStatus.DONE, RunStatus.PARTLY_DONE, RunStatus.FAILED, RunStatus.CANCELLED):
            break
        if worker.poll() is not None:
            raise SystemExit(f"the worker stopped; see {worker_log}")
        time.sleep(0.05)
    seconds = time.monotonic() - started
    worker_rss = peak_rss_mb(worker.pid)
    job = ChangeJob.objects.get(run=run)
    if run.status != RunStatus.DONE:
        raise SystemExit(f"the run ended {run.status} ({job.last_error}); see {worker_log}")
    job_seconds = (job.finished_at - job.started_at).total_seconds()
    return {
        "rows_changed": job.rows_changed,
        "rows_estimate": run.rows_estimate,
        "seconds": seconds,
        "plan_seconds": round(planned, 2),
        "batches": job.batches,
        "job_seconds": round(job_seconds, 2),
        "worker_peak_rss_mb": worker_rss,
        "tables": dict(job.table_rows),
        "items": list(job.items.values_list("table", "action", "rows")) if hasattr(job, "items") else [],
    }, worker


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="the person's rows across the system's tables")
    parser.add_argument("--database", default="dsar_erasure_bench", help="created and dropped; must contain 'bench'")
    parser.add_argument("--redis-db", type=int, default=12, help="must be empty; flushed at the end")
    parser.add_argument("--batch-rows", type=int, default=5000, help="DSAR_CHANGE_BATCH_ROWS: rows per batch")
    parser.add_argument("--direct", action="store_true", help="the connector alone, without request, engine, worker")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds to wait for the erasure")
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
    worker_log = RESULTS_DIR / f"erasure-worker-{stamp}.log"
    work = Path(tempfile.mkdtemp(prefix="erasure-bench-"))
    crm = f"{args.database}_crm"
    worker = None
    try:
        log(f"creating databases {args.database} and {crm}")
        for name in (args.database, crm):
            pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            pg_admin(f"CREATE DATABASE {name}")
        os.environ["DSAR_CHANGE_BATCH_ROWS"] = str(args.batch_rows)
        env = django_setup(args.database, args.redis_db, work)
        env["DSAR_CHANGE_BATCH_ROWS"] = str(args.batch_rows)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        sizes = split(args.rows)
        started = time.monotonic()
        seed_crm(crm, sizes)
        seed_s = time.monotonic() - started
        log(f"seeded {args.rows:,} rows for the person ({sizes}) in {seed_s:.1f}s")
        system = register_system()
        if args.direct:
            figures = run_direct(system, args.batch_rows)
        else:
            figures, worker = run_worker(env, worker_log, broker, args.timeout)
        seconds = figures["seconds"]
        if figures["rows_changed"] != args.rows or figures["rows_estimate"] != args.rows:
            raise SystemExit(
                f"rows changed {figures['rows_changed']:,}, estimated {figures['rows_estimate']:,}; "
                f"expected {args.rows:,}"
            )
        verify(crm, sizes)
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        job_tasks = task_seconds(worker_log.read_text(), "changes.tasks.run_change_job") if worker else []
        bench_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result = {
            "rows": args.rows,
            "seconds": round(seconds, 2),
            "rows_per_s": round(args.rows / seconds),
            "batches": figures["batches"],
            "batch_rows": args.batch_rows,
            "peak_rss_mb": round(max(figures["worker_peak_rss_mb"], bench_rss), 1),
            "worker_peak_rss_mb": round(figures["worker_peak_rss_mb"], 1),
            "bench_peak_rss_mb": round(bench_rss, 1),
            "job_seconds": figures["job_seconds"],
            "job_rows_per_s": round(args.rows / figures["job_seconds"]) if figures["job_seconds"] else None,
            "task_seconds": [round(value, 2) for value in job_tasks],
            "tables": figures["tables"],
            "table_seconds": figures.get("table_seconds", {}),
            "path": "direct" if args.direct else "worker",
            "worker_processes": 0 if args.direct else 1,
            "seed_s": round(seed_s, 1),
            "load_average": [round(value, 2) for value in os.getloadavg()],
            "goals": {"rows_per_s": RATE_GOAL},
        }
        result["over_goal"] = ["rows_per_s"] if result["rows_per_s"] < RATE_GOAL else []
        log(
            f"{args.rows:,} rows erased in {seconds:.2f}s ({result['rows_per_s']:,} rows/s; the job itself "
            f"{figures['job_seconds']:.2f}s) in {figures['batches']} batches of at most {args.batch_rows:,}; "
            f"peak RSS {result['peak_rss_mb']:.0f} MB"
        )
        (RESULTS_DIR / f"erasure-{stamp}.json").write_text(json.dumps({"command": sys.argv, **result}, indent=2))
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
            for name in (args.database, crm):
                pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        broker.flushdb()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
