"""Staff dashboard benchmark: the queue, its filters and search, a deep page, a long case page, the metrics page and
the daily due-date reminder scan, over a large seeded PostgreSQL database (issue 11, "Scale").

A measurement, not a timed test: it reports against the goals (each page under 50 ms at p95, metrics under 1 s, the
reminder scan under 10 s) and never fails on them. Run from the project root::

    .venv/bin/python bench/dashboard_bench.py [--requests 1000000] [--open 100000] [--repeat 20]

What it does (see bench/README.md):

1. creates a fresh PostgreSQL database (``--database``, dropped and re-created; the name must contain ``bench``),
   points Django at it and at Redis db ``--redis-db`` (which must be empty), and migrates;
2. seeds ``--requests`` requests with set-based SQL (``INSERT ... SELECT generate_series``): two years of receipts,
   every status and right, ``--open`` of them open with due dates around today, 40 case handlers with assignments
   for most requests, three events per request and one open request with a ``--timeline`` long timeline. The
   encrypted columns hold real ciphertext (a handful of values encrypted once and reused) and ``email_hash`` the
   keyed hash of one of a few hundred addresses, so every page decrypts and searches as in production;
3. signs a DPO in (with a second factor) through Django's test client, in process, and times each page
   ``--repeat`` times after a warm-up; server time only, no network;
4. times the daily due-date reminder job (``casework.reminders.due_date_reminders_send``) over the open requests;
5. for each page over its goal, prints the EXPLAIN ANALYZE of its slowest query;
6. drops the database and flushes the Redis db (``--keep`` keeps the database), and prints, as the last line of its
   output, one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADMIN_DSN = "postgres://postgres@127.0.0.1:5432/postgres"
RESULTS_DIR = ROOT / "bench" / "results"
STAFF_COUNT = 40
ADDRESS_COUNT = 300
PAGE_GOAL_MS = 50.0
METRICS_GOAL_MS = 1000.0
REMINDER_GOAL_S = 10.0


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


def p95(samples: list[float]) -> float:
    """The nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def django_setup(database: str, redis_db: int) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "dsar_portal.settings"
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:6379/{redis_db}"
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    # The test client's host and the in-memory e-mail outbox; then DEBUG off so no query is logged while timing.
    setup_test_environment()
    from django.conf import settings

    settings.DEBUG = False


def template_renderer_restore() -> None:
    """Undo ``setup_test_environment``'s instrumented template rendering (what ``teardown_test_environment`` does for
    templates), keeping its test host and in-memory e-mail."""
    from django.template import Template
    from django.test import utils

    Template._render = utils._TestState.saved_data.template_render


def seed(*, requests: int, open_requests: int, timeline: int) -> dict:
    """Fill the tables with set-based SQL; returns what the measurements need (users, a reference, an address)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from casework.roles import CASE_HANDLER, DPO
    from dsar_portal.crypto import email_lookup_hash, encrypt
    from dsar_portal.jurisdictions import SUPPORTED_JURISDICTIONS
    from requests_app.models import Outcome, RefusalGround, Right, Status
    from requests_app.workflow import OPEN_STATUSES
    from tests.factories import StaffUserFactory

    User = get_user_model()
    dpo = StaffUserFactory(username="bench-dpo")
    dpo.groups.add(Group.objects.get(name=DPO))
    handlers = User.objects.bulk_create(
        [User(username=f"bench-handler{n:02d}", is_staff=True, first_name="Jo", last_name="Smith") for n in range(40)]
    )
    Group.objects.get(name=CASE_HANDLER).user_set.add(*handlers)
    staff_ids = [user.pk for user in handlers]

    names = [encrypt(name) for name in ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Mary Jackson")]
    addresses = [f"person{n}@example.com" for n in range(ADDRESS_COUNT)]
    emails = [encrypt(address) for address in addresses[:8]]
    hashes = [email_lookup_hash(address) for address in addresses]
    details = [encrypt(json.dumps({"scope": "all"})), encrypt(json.dumps({}))]
    identifiers = [encrypt(json.dumps({"customer_number": "C-1001"}))]
    descriptions = [encrypt("Please send me a copy of all personal data you hold about me."), encrypt("")]
    reasons = [encrypt(""), encrypt("Checked the order history and the support tickets.")]

    open_statuses = sorted(OPEN_STATUSES)
    closed_statuses = [Status.COMPLETED, Status.REFUSED, Status.WITHDRAWN, Status.CLOSED_UNCONFIRMED]
    today = timezone.localdate()
    params = {
        "n": requests,
        "open": open_requests,
        "rights": list(Right.values),
        "open_statuses": [str(s) for s in open_statuses],
        "closed_statuses": [str(s) for s in closed_statuses],
        "jurisdictions": sorted(SUPPORTED_JURISDICTIONS),
        "names": names,
        "emails": emails,
        "hashes": hashes,
        "details": details,
        "identifiers": identifiers,
        "descriptions": descriptions,
        "reasons": reasons,
        "staff": staff_ids,
        "today": today,
        "outcomes": [Outcome.FULFILLED.value, Outcome.PARTLY_FULFILLED.value, Outcome.NO_DATA_HELD.value],
        "ground": RefusalGround.MANIFESTLY_EXCESSIVE.value,
        "paused_statuses": [Status.AWAITING_CLARIFICATION.value, Status.AWAITING_FEE.value],
    }
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        # Requests 1..open are open, due from 30 days ago to 60 days ahead; the rest closed, received over two years.
        # Multipliers by primes spread rights, statuses, days and addresses independently of one another.
        cur.execute(
            """
            WITH g AS (
                SELECT i,
                       i <= %(open)s AS is_open,
                       CASE WHEN i <= %(open)s
                            THEN %(today)s::date - 30 - ((i::bigint * 7919) %% 30)::int + ((i * 31) %% 90)
                            ELSE %(today)s::date - 60 - ((i::bigint * 7919) %% 670)::int END AS received
                FROM generate_series(1, %(n)s) AS i
            )
            INSERT INTO requests_app_datasubjectrequest (
                id, reference, "right", status, requester_role, requester_name, requester_email, email_hash,
                identifiers, details, description, jurisdiction, second_jurisdiction, respond_to, subject_email,
                received_at, received_on, received_time_zone, email_confirmed_at, closed_at,
                clock_started_on, clock_paused_on, clock_pause_reason, clock_pause_doubt, paused_days,
                extension_months, extension_basis, due_on, target_on, outcome, refusal_ground, refusal_exemption,
                refusal_reference, neither_confirm_nor_deny, decision_note, decision_statement, answered_on,
                answered_late, fee_currency, fee_basis, channel, notices_by_post, postal_address, language,
                created_at, updated_at
            )
            SELECT
                i,
                'DSAR-' || substr(lpad(i::text, 16, '0'), 1, 4) || '-' || substr(lpad(i::text, 16, '0'), 5, 4)
                    || '-' || substr(lpad(i::text, 16, '0'), 9, 4) || '-' || substr(lpad(i::text, 16, '0'), 13, 4),
                (%(rights)s::text[])[1 + i %% cardinality(%(rights)s::text[])],
                CASE WHEN is_open
                     THEN (%(open_statuses)s::text[])[1 + (i / 7) %% cardinality(%(open_statuses)s::text[])]
                     ELSE (%(closed_statuses)s::text[])[1 + (i / 7) %% cardinality(%(closed_statuses)s::text[])] END,
                'data_subject',
                (%(names)s::text[])[1 + i %% cardinality(%(names)s::text[])],
                (%(emails)s::text[])[1 + i %% cardinality(%(emails)s::text[])],
                (%(hashes)s::text[])[1 + (i * 13) %% cardinality(%(hashes)s::text[])],
                (%(identifiers)s::text[])[1],
                (%(details)s::text[])[1 + i %% 2],
                (%(descriptions)s::text[])[1 + i %% 2],
                (%(jurisdictions)s::text[])[1 + (i / 3) %% cardinality(%(jurisdictions)s::text[])],
                '', 'requester', '',
                received + time '10:00', received, 'Europe/London', received + time '10:30',
                CASE WHEN is_open THEN NULL ELSE received + ((i %% 40) || ' days')::interval END,
                received, NULL, '', '', 0, 0, '[]'::jsonb,
                received + 30, received + 21,
                CASE WHEN NOT is_open AND (%(closed_statuses)s::text[])[1 + (i / 7) %% 4] = 'completed'
                     THEN (%(outcomes)s::text[])[1 + i %% 3] ELSE '' END,
                CASE WHEN NOT is_open AND (%(closed_statuses)s::text[])[1 + (i / 7) %% 4] = 'refused'
                     THEN %(ground)s ELSE '' END,
                '', '', false, (%(descriptions)s::text[])[2], (%(details)s::text[])[2],
                CASE WHEN is_open THEN NULL ELSE received + (i %% 40) END,
                NOT is_open AND i %% 40 > 30,
                '', '', 'web', false, (%(descriptions)s::text[])[2], 'en',
                received + time '10:00', received + time '10:00'
            FROM g
            """,
            params,
        )
        # A request waiting for a clarification or a fee has its clock paused.
        cur.execute(
            "UPDATE requests_app_datasubjectrequest SET clock_paused_on = received_on + 5, clock_pause_reason = "
            "CASE status WHEN 'awaiting_fee' THEN 'fee' ELSE 'clarification' END "
            "WHERE status = ANY(%(paused_statuses)s)",
            params,
        )
        cur.execute("SELECT setval(pg_get_serial_sequence('requests_app_datasubjectrequest', 'id'), %(n)s)", params)
        log(f"  {requests:,} requests in {time.perf_counter() - started:.1f} s")
        # Four in five requests are assigned, to the 40 case handlers in turn.
        cur.execute(
            """
            INSERT INTO casework_assignment (request_id, assignee_id, assigned_by_id, assigned_at)
            SELECT id, (%(staff)s::int[])[1 + id %% cardinality(%(staff)s::int[])], NULL, received_at + interval '1 day'
            FROM requests_app_datasubjectrequest WHERE id %% 5 <> 0
            """,
            params,
        )
        # The request's own copy of its assignee, as casework.services.request_assign keeps it.
        cur.execute(
            "UPDATE requests_app_datasubjectrequest SET assignee_id = "
            "(%(staff)s::int[])[1 + id %% cardinality(%(staff)s::int[])] WHERE id %% 5 <> 0",
            params,
        )
        log(f"  assignments at {time.perf_counter() - started:.1f} s")
        # Three events per request: submitted and e-mail confirmed (the requester), then one by staff.
        cur.execute(
            """
            INSERT INTO requests_app_requestevent (request_id, kind, from_status, to_status, actor_id, actor_kind,
                                                   reason, created_at)
            SELECT r.id, e.kind, '', e.to_status,
                   CASE WHEN e.n = 3 THEN (%(staff)s::int[])[1 + r.id %% cardinality(%(staff)s::int[])] END,
                   e.actor_kind, (%(reasons)s::text[])[CASE WHEN e.n = 3 THEN 2 ELSE 1 END],
                   r.received_at + e.n * interval '1 hour'
            FROM requests_app_datasubjectrequest r
            CROSS JOIN (VALUES (1, 'submitted', '', 'requester'), (2, 'email_confirmed', '', 'requester'),
                               (3, 'status_changed', 'in_progress', 'staff')) AS e(n, kind, to_status, actor_kind)
            """,
            params,
        )
        log(f"  events at {time.perf_counter() - started:.1f} s")
        # One open request with a long timeline (the case page's worst case).
        long_id = 2 if open_requests >= 2 else 1
        cur.execute(
            """
            INSERT INTO requests_app_requestevent (request_id, kind, from_status, to_status, actor_id, actor_kind,
                                                   reason, created_at)
            SELECT %(long)s, 'decision_note', '', '', (%(staff)s::int[])[1], 'staff', (%(reasons)s::text[])[2],
                   now() - (%(timeline)s - i) * interval '1 minute'
            FROM generate_series(1, %(timeline)s) AS i
            """,
            {**params, "long": long_id, "timeline": timeline},
        )
        # What autovacuum does to a live database: statistics, and the visibility map that lets index-only scans
        # (the assignment probes, the counts) skip the table.
        cur.execute("VACUUM ANALYZE")
        cur.execute("SELECT reference FROM requests_app_datasubjectrequest WHERE id = %s", [long_id])
        long_reference = cur.fetchone()[0]
        cur.execute("SELECT reference FROM requests_app_datasubjectrequest WHERE id = %s", [max(1, open_requests // 2)])
        search_reference = cur.fetchone()[0]
    seconds = time.perf_counter() - started
    log(f"seeded in {seconds:.1f} s")
    return {
        "dpo": dpo,
        "staff_id": staff_ids[7],
        "long_reference": long_reference,
        "search_reference": search_reference,
        "search_address": addresses[13],
        "seed_s": seconds,
    }


CPU_SAMPLES: dict[str, list[float]] = {}


def measure(client, url: str, repeat: int) -> list[float]:
    """Server time of ``repeat`` GETs of ``url`` in ms, after one warm-up; each must answer 200.

    The CPU time this process spent on each (Python: view, decryption, templates; not PostgreSQL's) is kept in
    ``CPU_SAMPLES``: on a shared machine another job's load stretches the wall-clock time, hardly the CPU time."""
    samples = []
    cpu = CPU_SAMPLES.setdefault(url, [])
    for n in range(repeat + 1):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        elapsed_cpu = (time.process_time() - started_cpu) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        if n:
            samples.append(elapsed)
            cpu.append(elapsed_cpu)
    return samples


def p50(samples: list[float]) -> float:
    """The nearest-rank median."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.5 * len(ordered)) - 1)]


def explain_slowest(client, url: str) -> None:
    """Print the slowest query of one GET of ``url`` with its PostgreSQL plan."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    queries = captured.captured_queries
    slowest = max(queries, key=lambda query: float(query["time"]))
    total_ms = sum(float(query["time"]) for query in queries) * 1000
    print(
        f"  {len(queries)} queries, {total_ms:.1f} ms in the database in all (the rest is Python: view, "
        f"decryption, templates); slowest query {float(slowest['time']) * 1000:.1f} ms:"
    )
    print("  " + slowest["sql"][:300] + " ...")
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
        for (line,) in cur.fetchall():
            print("    " + line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000, help="requests to seed (default 1,000,000)")
    parser.add_argument("--open", type=int, default=100_000, help="how many are open (at most half; default 100,000)")
    parser.add_argument("--repeat", type=int, default=20, help="timed GETs per page (default 20)")
    parser.add_argument("--metrics-repeat", type=int, default=5, help="timed GETs of the metrics page (default 5)")
    parser.add_argument("--timeline", type=int, default=500, help="events on the long case page (default 500)")
    parser.add_argument("--deep", type=int, default=50, help="pages to follow for the deep page (default 50)")
    parser.add_argument("--database", default="dsar_dashboard_bench")
    parser.add_argument("--redis-db", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (to EXPLAIN by hand)")
    args = parser.parse_args()
    if "bench" not in args.database:
        parser.error("--database must contain 'bench' (it is dropped)")
    open_requests = min(args.open, args.requests // 2)

    import redis

    redis_client = redis.Redis(host="127.0.0.1", port=6379, db=args.redis_db)
    if redis_client.dbsize():
        parser.error(f"Redis db {args.redis_db} is not empty; pick another with --redis-db")

    pg_admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{args.database}"')
    result = None
    try:
        django_setup(args.database, args.redis_db)
        from django.core.management import call_command

        log("migrating")
        call_command("migrate", verbosity=0)
        log(f"seeding {args.requests:,} requests ({open_requests:,} open)")
        seeded = seed(requests=args.requests, open_requests=open_requests, timeline=args.timeline)

        from django.test import Client
        from django.utils import timezone

        from casework.reminders import due_date_reminders_send
        from tests.factories import give_second_factor

        client = Client()
        client.force_login(seeded["dpo"])
        give_second_factor(client)

        pages: dict[str, str] = {"queue": "/staff/"}
        filters = {
            "right": "right=erasure",
            "status": "status=in_progress",
            "jurisdiction": "jurisdiction=UK",
            "assignee": f"assignee={seeded['staff_id']}",
            "assignee_me": "assignee=me",
            "unassigned": "assignee=none",
            "due_within": "due_within=7",
            "overdue": "overdue=on",
            "paused": "paused=on",
            "awaiting_verification": "awaiting_verification=on",
            "awaiting_fee": "awaiting_fee=on",
            "extension_notice_due": "extension_notice_due=on",
            # The flag fulfilment registers (casework.queue_flags): none is flagged here, the worst case for a
            # filter that probed every open request.
            "fulfilment_task_failed": "fulfilment_task_failed=on",
        }
        for name, query in filters.items():
            pages[f"filter:{name}"] = f"/staff/?{query}"
        pages["search:reference"] = f"/staff/?q={seeded['search_reference'].lower().replace('-', ' ')}"
        pages["search:email"] = f"/staff/?q={seeded['search_address'].upper()}"

        # The deep page: follow the keyset "next" link as a person paging through would.
        url = "/staff/"
        for _ in range(args.deep):
            next_url = client.get(url).context["next_url"]
            if not next_url:
                break
            url = next_url
        pages["deep_page"] = url
        # And one step back from it: the backwards keyset of the "previous page" link.
        pages["deep_previous_page"] = client.get(url).context["previous_url"] or url
        pages["case"] = f"/staff/requests/{seeded['long_reference']}/"
        # Timed runs render templates as a server does: the test environment's instrumented renderer (a signal and a
        # copy of the context for every template rendered, each form widget's included) is a test-only cost that
        # made the queue about a third slower. The deep page above was found with it, through the context.
        template_renderer_restore()

        timings: dict[str, float] = {}
        medians: dict[str, float] = {}
        cpu_p95: dict[str, float] = {}
        for name, page in pages.items():
            samples = measure(client, page, args.repeat)
            timings[name], medians[name], cpu_p95[name] = p95(samples), p50(samples), p95(CPU_SAMPLES[page])
            log(
                f"{name:28s} p95 {timings[name]:7.1f} ms  p50 {medians[name]:7.1f} ms  "
                f"process CPU p95 {cpu_p95[name]:7.1f} ms  {page}"
            )
        metrics_samples = measure(client, "/staff/metrics/", args.metrics_repeat)
        metrics_ms = p95(metrics_samples)
        log(f"{'metrics':28s} p95 {metrics_ms:7.1f} ms  (each: {', '.join(f'{s:.0f}' for s in metrics_samples)})")
        # The page shows the latest snapshot (its warm-up fetch made one); computing the figures, what the periodic
        # job and "Recompute now" do, is timed on its own.
        from casework.metrics import metrics_snapshot_make

        started = time.perf_counter()
        metrics_snapshot_make(today=timezone.localdate())
        metrics_compute_ms = (time.perf_counter() - started) * 1000
        log(f"{'metrics computed (snapshot)':28s}     {metrics_compute_ms:7.1f} ms")

        today = timezone.localdate()
        started = time.perf_counter()
        made = due_date_reminders_send(today=today)
        reminder_s = time.perf_counter() - started
        log(f"due-date reminder scan over {open_requests:,} open requests: {reminder_s:.2f} s, {made:,} reminders")
        started = time.perf_counter()
        again = due_date_reminders_send(today=today)
        rerun_s = time.perf_counter() - started
        log(f"the same scan again (idempotent, {again} new): {rerun_s:.2f} s")

        over = {name: ms for name, ms in timings.items() if ms >= PAGE_GOAL_MS}
        if metrics_ms >= METRICS_GOAL_MS:
            over["metrics"] = metrics_ms
            pages["metrics"] = "/staff/metrics/"
        for name, ms in over.items():
            print(f"\nOVER GOAL: {name} p95 {ms:.1f} ms ({pages[name]})")
            explain_slowest(client, pages[name])
        if reminder_s >= REMINDER_GOAL_S:
            print(f"\nOVER GOAL: reminder scan {reminder_s:.1f} s (goal {REMINDER_GOAL_S:.0f} s)")

        def worst(prefix: str) -> float:
            return round(max(ms for name, ms in timings.items() if name.startswith(prefix)), 1)

        result = {
            "benchmark": "dashboard",
            "requests": args.requests,
            "open_requests": open_requests,
            "seed_s": round(seeded["seed_s"], 1),
            "queue_p95_ms": round(timings["queue"], 1),
            "filter_p95_ms": worst("filter:"),
            "search_p95_ms": worst("search:"),
            "deep_page_p95_ms": round(timings["deep_page"], 1),
            "case_p95_ms": round(timings["case"], 1),
            "metrics_ms": round(metrics_ms, 1),
            "metrics_compute_ms": round(metrics_compute_ms, 1),
            "reminder_rescan_s": round(rerun_s, 2),
            "reminder_scan_s": round(reminder_s, 2),
            "reminders_made": made,
            "pages_p95_ms": {name: round(ms, 1) for name, ms in timings.items()},
            "pages_p50_ms": {name: round(ms, 1) for name, ms in medians.items()},
            "pages_cpu_p95_ms": {name: round(ms, 1) for name, ms in cpu_p95.items()},
            "load_average": [round(value, 2) for value in os.getloadavg()],
            "goals": {"page_p95_ms": PAGE_GOAL_MS, "metrics_ms": METRICS_GOAL_MS, "reminder_scan_s": REMINDER_GOAL_S},
            "over_goal": sorted(over) + (["reminder_scan"] if reminder_s >= REMINDER_GOAL_S else []),
            "repeat": args.repeat,
        }
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            pg_admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        redis_client.flushdb()
        log("cleaned up" + (f" (database {args.database} kept)" if args.keep else ""))
        if result is not None:
            RESULTS_DIR.mkdir(exist_ok=True)
            path = RESULTS_DIR / f"dashboard-{time.strftime('%Y%m%d-%H%M%S')}.json"
            result["results"] = str(path.relative_to(ROOT))
            path.write_text(json.dumps({**result, "command": sys.argv}, indent=2) + "\n")
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
