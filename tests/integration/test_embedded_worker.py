"""The embedded default (no environment variables) runs a real worker on a folder broker, as `make run` does.

Nothing here needs a server: the broker is kombu's filesystem transport in the data folder and the database a SQLite
file that the filing process and the worker share, so these tests run everywhere, CI included.
"""

import email
import email.policy
import os
import re
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Settings that would move the portal off its embedded default.
NOT_EMBEDDED = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DSAR_EMBEDDED_WORKER", "EMAIL_HOST"}

FILE_REQUESTS = """
import sys, time
import django
django.setup()
from tests.factories import submitted_request
for address in sys.argv[1:]:
    request = submitted_request(email=address, name="Erin Embedded")
# request_submit has returned: its transaction committed and the e-mail task was published on commit.
print(request.reference, time.monotonic(), flush=True)
"""


def _embedded_env(data_dir: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in NOT_EMBEDDED}
    env.update({"DSAR_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"})
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    completed = subprocess.run(args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert completed.returncode == 0, completed.stderr[-4000:]
    return completed


def _sent_emails(mail_dir: Path) -> list[email.message.EmailMessage]:
    """The e-mails the file backend wrote: one file per connection, messages separated by a line of dashes."""
    if not mail_dir.exists():
        return []
    separator = b"\n" + b"-" * 79 + b"\n"
    return [
        email.message_from_bytes(part, policy=email.policy.default)
        for path in sorted(mail_dir.iterdir())
        for part in path.read_bytes().split(separator)
        if part.strip()
    ]


def _stop(process: subprocess.Popen) -> str:
    """Stop a process this test started (by its own handle) and return what it printed."""
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""


def _wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


class EmbeddedPortal:
    """A fresh data folder with its SQLite schema, run as `make run` runs it, minus the web server."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = _embedded_env(data_dir)
        self.worker: subprocess.Popen | None = None
        self.worker_log = ""
        self.beat: subprocess.Popen | None = None
        self.beat_log_path: Path | None = None
        _run([sys.executable, "manage.py", "migrate", "--noinput"], self.env)

    def start_worker(self) -> None:
        """A real worker process (solo pool, as in Procfile.dev) on the folder broker in this data folder."""
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "dsar_portal", "worker", "--pool=solo", "--loglevel=INFO"]
            + ["--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def stop_worker(self) -> None:
        if self.worker is None:
            return
        self.worker_log += _stop(self.worker)
        self.worker = None

    def start_beat(self) -> None:
        """Beat as Procfile.dev runs it, its schedule file in this data folder; it logs to ``beat_log_path`` (at
        DEBUG, which says when it has finished a tick: "beat: Waking up")."""
        self.beat_log_path = self.data_dir.parent / f"beat-{time.monotonic_ns()}.log"
        with self.beat_log_path.open("w") as log:
            self.beat = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "dsar_portal", "beat", "--loglevel=DEBUG"],
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def beat_log(self) -> str:
        return self.beat_log_path.read_text() if self.beat_log_path else ""

    def stop_beat(self) -> None:
        if self.beat is not None:
            _stop(self.beat)
            self.beat = None

    def file_requests(self, *addresses: str) -> tuple[str, float]:
        """Files a request for each address in a process of its own, as the web server would; returns the last
        one's reference and the moment its transaction had committed."""
        filed = _run([sys.executable, "-c", FILE_REQUESTS, *addresses], self.env)
        reference, committed_at = filed.stdout.split()[-2:]
        return reference, float(committed_at)

    @property
    def sent(self) -> list[email.message.EmailMessage]:
        return _sent_emails(self.data_dir / "sent-emails")

    @property
    def queued(self) -> list[Path]:
        return list((self.data_dir / "broker" / "queue").glob("*.msg"))

    def messages_marked_sent(self) -> int:
        with sqlite3.connect(self.data_dir / "db.sqlite3") as database:
            return database.execute("SELECT COUNT(*) FROM requests_app_message WHERE sent_at IS NOT NULL").fetchone()[0]


@pytest.fixture
def embedded_portal(tmp_path):
    portal = EmbeddedPortal(tmp_path / "data")
    try:
        yield portal
    finally:
        portal.stop_beat()
        portal.stop_worker()
        print(portal.beat_log[-2000:])
        print(portal.worker_log[-4000:])


def test_a_request_filed_on_the_embedded_default_gets_its_email_from_the_real_worker(embedded_portal):
    """Filing a request queues its confirmation e-mail in data/broker/; the running worker process picks it up
    within a second or so, sends it once, and records the sending in the SQLite file it shares with the web."""
    portal = embedded_portal
    portal.start_worker()

    reference, committed_at = portal.file_requests("erin@example.com")

    assert _wait_for(lambda: len(portal.sent) >= 1), "the worker did not send the confirmation e-mail"
    print(f"filing committed -> e-mail file written: {time.monotonic() - committed_at:.2f}s")
    # Still one a moment later: the task was taken from the queue once.
    time.sleep(1.5)
    sent = portal.sent
    assert len(sent) == 1
    assert sent[0]["To"] == "erin@example.com"
    assert reference in sent[0].get_content()
    assert portal.queued == []
    assert portal.messages_marked_sent() == 1
    with sqlite3.connect(portal.data_dir / "db.sqlite3") as database:
        assert database.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    portal.stop_worker()
    # It was the worker that sent it, not the filing process.
    assert "deliver_message" in portal.worker_log
    assert "succeeded" in portal.worker_log


def test_requests_filed_while_the_worker_writes_to_the_same_sqlite_file_each_get_one_email(embedded_portal):
    """Two web processes and the worker write to one SQLite file at once (WAL, transactions that wait their
    turn): every filing succeeds and every person gets exactly one e-mail."""
    portal = embedded_portal
    portal.start_worker()
    addresses = [f"person{number}@example.com" for number in range(40)]

    # Two web processes filing at once, as two people would, while the worker sends.
    with ThreadPoolExecutor(max_workers=2) as web:
        list(web.map(lambda half: portal.file_requests(*half), [addresses[::2], addresses[1::2]]))

    assert _wait_for(lambda: len(portal.sent) >= len(addresses)), "the worker did not send every e-mail"
    time.sleep(1.5)
    assert sorted(message["To"] for message in portal.sent) == sorted(addresses)
    assert portal.messages_marked_sent() == len(addresses)
    portal.stop_worker()
    assert "database is locked" not in portal.worker_log
    assert portal.worker_log.count("succeeded") == len(addresses), "the worker did not send them all itself"


def test_without_a_worker_the_email_waits_in_the_broker_folder_until_one_starts(embedded_portal):
    """`manage.py runserver` alone files requests as usual; their e-mails wait as files in data/broker/queue and
    go out as soon as a worker runs."""
    portal = embedded_portal
    portal.file_requests("wait@example.com")
    assert portal.sent == []
    assert len(portal.queued) == 1
    assert portal.messages_marked_sent() == 0

    portal.start_worker()

    assert _wait_for(lambda: len(portal.sent) >= 1), "the worker did not send the waiting e-mail"
    assert [message["To"] for message in portal.sent] == ["wait@example.com"]
    assert portal.queued == []


def test_a_newcomers_make_run_shows_staff_reminders_arriving_without_redis(embedded_portal):
    """`make run` on a fresh machine: the demo's data, then the real worker and beat on the folder broker. Beat runs
    each job it has no record of at once (dsar_portal.celery.PortalScheduler), so the demo DPO's reminders about
    the demo requests near their deadlines arrive in data/sent-emails within seconds, sent by the worker, each
    written in its request's timeline; a restarted beat runs none of the jobs again."""
    portal = embedded_portal
    _run([sys.executable, "manage.py", "load_demo"], portal.env)
    portal.start_worker()
    portal.start_beat()

    def reminders() -> list[email.message.EmailMessage]:
        return [message for message in portal.sent if message["To"] == "dpo@demo.example"]

    def reminder_rows() -> tuple[int, int, int]:
        with sqlite3.connect(portal.data_dir / "db.sqlite3") as database:
            return database.execute(
                "SELECT COUNT(*), COUNT(sent_at), COUNT(request_id) FROM casework_staffreminder"
            ).fetchone()

    assert _wait_for(lambda: len(reminders()) >= 1, timeout=45), "no staff reminder arrived"
    # Beat sent every job at its first tick; once the worker has emptied the queue, each reminder made was sent once.
    assert _wait_for(lambda: portal.queued == [] and reminder_rows()[0] == reminder_rows()[1] == len(reminders()))
    made, _sent, about_requests = reminder_rows()
    subjects = sorted(message["Subject"] for message in reminders())
    print("\n".join(subjects))
    # The demo has requests whose legal due date or internal target is days away (casework.reminders offsets).
    assert any(re.match(r"(Legal due date|Internal target) approaching: DSAR-", subject) for subject in subjects)
    for message in reminders():
        assert "http" in message.get_content() and "/staff/" in message.get_content()  # a link, no personal data
    with sqlite3.connect(portal.data_dir / "db.sqlite3") as database:
        in_timelines = database.execute(
            "SELECT COUNT(*) FROM requests_app_requestevent WHERE kind = 'staff_reminder_sent'"
        ).fetchone()[0]
    assert in_timelines == about_requests > 0
    first_log = portal.beat_log
    assert "Sending due task remind-staff-of-due-dates-and-targets" in first_log

    # Restarted, beat finds the jobs' last runs in its schedule file: its first tick sends nothing.
    portal.stop_beat()
    portal.start_beat()
    assert _wait_for(lambda: "beat: Waking up" in portal.beat_log, timeout=30), portal.beat_log
    assert "Sending due task" not in portal.beat_log
    portal.stop_beat()
    assert reminder_rows()[0] == made
    portal.stop_worker()
    assert "send_staff_reminder" in portal.worker_log


SHOW_CELERY_SETTINGS = """
import django
django.setup()
from django.conf import settings
print(settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER)
"""


def test_a_development_server_started_alone_can_send_its_emails_itself(tmp_path):
    """By default tasks are queued for the worker; DSAR_EMBEDDED_WORKER=0 runs them in-process instead, and a
    configured broker always wins."""
    env = _embedded_env(tmp_path / "data")

    def celery_settings(**extra: str) -> list[str]:
        return _run([sys.executable, "-c", SHOW_CELERY_SETTINGS], {**env, **extra}).stdout.split()

    assert celery_settings() == ["filesystem://localhost/", "False"]
    assert (tmp_path / "data" / "broker" / "queue").is_dir()
    assert celery_settings(DSAR_EMBEDDED_WORKER="0") == ["None", "True"]
    assert celery_settings(REDIS_URL="redis://127.0.0.1:6379/9") == ["redis://127.0.0.1:6379/9", "False"]


def test_make_run_starts_the_web_server_the_worker_and_beat_together():
    """`make run` runs Procfile.dev through honcho: the portal, a Celery worker and beat, all on the embedded
    broker."""
    honcho = Path(sys.executable).with_name("honcho")
    checked = subprocess.run(
        [str(honcho), "--procfile", "Procfile.dev", "check"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    assert "web, worker, beat" in checked.stdout + checked.stderr
    processes = dict(
        line.split(":", 1)
        for line in (PROJECT_ROOT / "Procfile.dev").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert "runserver" in processes["web"]
    assert "celery -A dsar_portal worker" in processes["worker"]
    assert "celery -A dsar_portal beat" in processes["beat"]
    assert "honcho --procfile Procfile.dev start" in (PROJECT_ROOT / "Makefile").read_text()
