"""
DSAR Portal settings: one module, driven by the environment (12-factor).

With no environment variables set this gives the embedded default: SQLite in
``data/``, Celery tasks queued in folders under ``data/broker/`` for a real
worker and beat (``make run`` starts both), e-mail written to files in
``data/sent-emails/``. Production sets DATABASE_URL, REDIS_URL,
DJANGO_SECRET_KEY, DJANGO_DEBUG=0 and friends (see README.md) and refuses to
start without its secrets.
"""

import base64
import hashlib
import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return int(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = env(name)
    return [item.strip() for item in value.split(",") if item.strip()] if value else default


# Everything the portal writes at run time (SQLite, sent e-mails, private
# uploads) lives here, outside static/ and outside the web root.
DATA_DIR = Path(env("DSAR_DATA_DIR") or BASE_DIR / "data")
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DJANGO_DEBUG", True)


def _development_secret() -> str:
    # A per-checkout key, so two local installs never share one; never used
    # when DEBUG is off.
    path = DATA_DIR / "dev-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = _development_secret()

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# --- Encryption of personal data at rest ------------------------------------
# FIELD_ENCRYPTION_KEYS="kid:base64key,oldkid:base64key" (first is active);
# FIELD_HASH_KEY=base64key for lookup hashes. Generate with
# `python manage.py generate_encryption_key`.


def _derived_key(purpose: str) -> bytes:
    return hashlib.sha256(f"{purpose}:{SECRET_KEY}".encode()).digest()


def _parse_keys() -> tuple[dict[str, bytes], bytes]:
    from dsar_portal.crypto import parse_key_list

    keys_value = env("FIELD_ENCRYPTION_KEYS")
    hash_value = env("FIELD_HASH_KEY")
    if not DEBUG and (not keys_value or not hash_value):
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS and FIELD_HASH_KEY must be set when DJANGO_DEBUG is off.")
    keys = parse_key_list(keys_value) if keys_value else {"dev": _derived_key("field-encryption")}
    if hash_value:
        hash_key = base64.urlsafe_b64decode(hash_value.encode() + b"==")
        if len(hash_key) < 32:
            raise ImproperlyConfigured("FIELD_HASH_KEY must decode to at least 32 bytes.")
    else:
        hash_key = _derived_key("lookup-hash")
    return keys, hash_key


FIELD_ENCRYPTION_KEYS, FIELD_HASH_KEY = _parse_keys()

# --- Applications -------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    # Staff sign-in: password and a second factor (TOTP with recovery codes, passkeys), step-up re-authentication,
    # throttled failures. django-allauth's MFA is the well-kept library for all of it (STYLE.md); no social login.
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # The portal's apps, lowest layer first: each may import those before it in this list, never those after
    # (import-linter checks it in CI; see the README's code map). The kernel is an app for its commands
    # (run_scheduled_jobs, rotate_encryption_keys), which know no app.
    "dsar_portal",
    "organisation",
    "requests_app",
    "identity",
    "agents",
    "complaints",
    "casework",
    # The register of data systems, which the public privacy notice is generated from (issue 12).
    "datasystems",
    # The demo organisation's own CRM: an outside system the portal searches through its connector (issue 12), not a
    # part of the portal; it imports none of the apps above.
    "democrm",
    # The compiled answers of access and portability requests: one search job per data system on the workers,
    # the search record, and the encrypted archive (issue 12).
    "fulfilment",
    # Art. 19: telling the recipients named in the register of a rectification, erasure or restriction (issue 13).
    "recipientnotices",
    # Carrying out erasure, rectification, restriction and objection in every data system through the connectors:
    # one change job per system, set-based and batched, approved before anything is destroyed (issue 13).
    "changes",
    # The portal's own records kept no longer than needed (Art. 5(1)(e)): the retention schedule, legal holds.
    "retention",
    "demo",
]

MIDDLEWARE = [
    # First, so every response carries it, redirects and static files included.
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # No copy of a page in any cache (static files keep WhiteNoise's lifetimes).
    "dsar_portal.middleware.NoStoreMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # DELETE, PROPFIND and friends get 405 before CSRF checks or sign-in redirects.
    "dsar_portal.middleware.AllowedMethodsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A staff session idle too long ends before anything else looks at the user.
    "dsar_portal.middleware.StaffIdleTimeoutMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # No staff page or admin page opens for a staff account without a second factor.
    "dsar_portal.middleware.StaffSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dsar_portal.urls"
WSGI_APPLICATION = "dsar_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "organisation.context_processors.organisation",
            ],
        },
    },
]

# --- Data stores --------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default shares one SQLite file between the web server, the worker and beat. WAL lets them read
    # while one writes; IMMEDIATE takes the write lock when a transaction starts, so a writer waits its turn (up to
    # `timeout` seconds) instead of failing with "database is locked" when a read lock cannot be upgraded.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")


def redis_cache(url: str) -> dict:
    """The cache on Redis (django-redis: one client per process over a connection pool, and
    get_redis_connection() for the rate limits' pipelined counters).

    Nothing a person submits depends on it: the cache only speeds things up and counts rate limits, so while Redis
    is away its reads miss and its writes are dropped (IGNORE_EXCEPTIONS) instead of turning a page into an error,
    and a Redis that hangs rather than refuses costs a page at most a second per call, not a worker for ever.
    """
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        # The test suite runs in parallel processes (pytest-xdist names them gw0, gw1, ... in PYTEST_XDIST_WORKER,
        # which the Celery workers a test starts inherit): each keeps its own keys, so one test's emptying of the
        # cache or rate-limit counters never reaches a test running beside it. Unset everywhere else.
        "KEY_PREFIX": "dsar" + os.environ.get("PYTEST_XDIST_WORKER", ""),
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
        },
    }


if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Each dropped cache call is logged (logger django_redis.cache, the connection error's traceback: it names the
# Redis host, never a key or a value), so an outage shows in the logs.
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
# Sessions (staff and agents; requesters need none) are kept in the database, with the cache in front to spare a
# query per page: a cache outage or restart signs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# {% cache %} fragments (the blank request forms) are kept per process, not in
# Redis: a deploy that changes a template starts new processes, so it can never
# be served a fragment rendered from the old template.
CACHES["template_fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "template-fragments",
}

# --- Celery -------------------------------------------------------------------

# kombu's own transport for the URL's scheme (redis://, rediss://, sentinel://, amqp://).
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or REDIS_URL or None
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
# With no broker configured (the embedded default), tasks are queued as files in data/broker/ (kombu's filesystem
# transport, which needs no server) and a real worker and beat run them, as in production: `make run` starts both
# next to the web server. DSAR_EMBEDDED_WORKER=0 runs tasks in-process instead, for a web server started alone.
EMBEDDED_BROKER = not CELERY_BROKER_URL and env_bool("DSAR_EMBEDDED_WORKER", True)
if EMBEDDED_BROKER:
    BROKER_DIR = DATA_DIR / "broker"
    # Web, worker and beat read and write one queue folder; a message is removed from it when the worker takes it
    # (moved out, then deleted). It is built for the one worker of `make run`: production runs many on Redis.
    for folder in ("queue", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    # The host names nothing (the folders below are the broker); it only spares a warning in every log.
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        # How often an idle worker looks for new files: an e-mail leaves within about half a second.
        "polling_interval": 0.5,
    }
    # Remote control broadcasts to one queue per worker ever started; on a folder broker nobody deletes those
    # queues, so their files would pile up. The embedded worker is stopped with Ctrl-C, not by broadcast.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
# Tasks run in-process only with no broker at all (DSAR_EMBEDDED_WORKER=0, or a test that asks for it); the same
# task code runs on real workers everywhere else.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# The queue tasks go to unless routed: "celery"; the tests' real worker listens on a queue of its own, and the tasks
# it queues itself (a compilation's search jobs) must go there too.
CELERY_TASK_DEFAULT_QUEUE = env("DSAR_CELERY_DEFAULT_QUEUE", "celery")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Queuing an e-mail happens while the person waits for their page, after what they sent is committed; a message
# that cannot be queued waits for the undelivered-messages sweep (requests_app.correspondence). So with the broker
# away, publishing gives up within about two seconds (one retry, short socket timeouts) instead of holding the page
# for kombu's default retries, and a broker that hangs rather than refuses cannot hold it for ever.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TIMEZONE = env("DSAR_TIME_ZONE", "Europe/London")
# Beat remembers when each job last ran here, so a restart does not run them all again at once.
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# ...and runs a job it has no record of at once, not an interval later (so a first `make run` shows reminders).
CELERY_BEAT_SCHEDULER = "dsar_portal.celery:PortalScheduler"
# The one list of periodic jobs: beat runs it on its schedule, and `manage.py run_scheduled_jobs` (from cron,
# where there is no beat) runs each entry once.
CELERY_BEAT_SCHEDULE = {
    # Every few minutes: an e-mail the broker could not take when it was stored goes out soon after it is back.
    "queue-undelivered-messages-again": {
        "task": "requests_app.tasks.resend_undelivered_messages",
        "schedule": 2 * 60,
    },
    "remind-and-close-unconfirmed-requests": {
        "task": "requests_app.tasks.sweep_unconfirmed_requests",
        "schedule": 60 * 60,
    },
    # A status link never outlives the case file it opens (LAW.md §6(h)).
    "end-status-links-past-retention": {
        "task": "requests_app.tasks.end_status_links_past_retention",
        "schedule": 24 * 60 * 60,
    },
    # Status-page grants that expired or were revoked open nothing; their rows go (requests_app.status_access).
    "purge-dead-status-grants": {
        "task": "requests_app.tasks.purge_dead_status_grants",
        "schedule": 24 * 60 * 60,
    },
    # Encrypted files that no document refers to any more (a crash between writing and committing).
    "sweep-orphan-document-files": {
        "task": "requests_app.tasks.sweep_orphan_document_files",
        "schedule": 60 * 60,
    },
    "remind-and-close-unanswered-identity-checks": {
        "task": "identity.tasks.sweep_verification_timeouts",
        "schedule": 60 * 60,
    },
    # Supporting and clarification documents go with the case file's retention (LAW.md §6(h)).
    "delete-supporting-documents-past-retention": {
        "task": "requests_app.tasks.delete_supporting_documents_past_retention",
        "schedule": 24 * 60 * 60,
    },
    # Evidence is deleted soon after the decision (EDPB Guidelines 01/2022).
    "delete-decided-identity-evidence": {
        "task": "identity.tasks.purge_decided_evidence",
        "schedule": 15 * 60,
    },
    # The portal chases its own deadlines (casework.reminders); each job is idempotent, so an hourly run only
    # catches up after downtime and a daily reminder still goes once.
    "remind-staff-of-due-dates-and-targets": {
        "task": "casework.tasks.remind_staff_of_due_dates",
        "schedule": 60 * 60,
    },
    "escalate-overdue-requests-to-the-dpo": {
        "task": "casework.tasks.escalate_overdue_requests",
        "schedule": 60 * 60,
    },
    "alarm-before-the-last-day-to-extend": {
        "task": "casework.tasks.alarm_extension_notice_deadlines",
        "schedule": 60 * 60,
    },
    "remind-staff-of-unanswered-agent-confirmations": {
        "task": "casework.tasks.remind_staff_of_agent_confirmations",
        "schedule": 60 * 60,
    },
    "remind-staff-of-unacknowledged-complaints": {
        "task": "casework.tasks.remind_staff_of_unacknowledged_complaints",
        "schedule": 60 * 60,
    },
    "send-staff-daily-digests": {
        "task": "casework.tasks.send_staff_digests",
        "schedule": 60 * 60,
    },
    # The DPO's metrics page reads the latest figures (casework.metrics.METRICS_REFRESH_SECONDS, the same interval).
    "refresh-dpo-metrics": {
        "task": "casework.tasks.refresh_metrics",
        "schedule": 15 * 60,
    },
    # A search job whose message was lost, or whose worker was killed, is queued again; a compilation whose searches
    # are all finished is assembled (fulfilment.services.jobs_sweep; the job rows are the source of truth).
    "sweep-stuck-search-jobs": {
        "task": "fulfilment.tasks.sweep_search_jobs",
        "schedule": 5 * 60,
    },
    # GDPR Art. 19: recipient notices a lost message left planned are queued again (recipientnotices).
    "sweep-recipient-notices": {
        "task": "recipientnotices.tasks.sweep_recipient_notices",
        "schedule": 10 * 60,
    },
    # A change job (issue 13) whose message was lost, or whose worker was killed, is queued again and carries on from
    # its checkpoint; a run whose jobs are all finished is finished (changes.services.jobs_sweep).
    "sweep-stuck-change-jobs": {
        "task": "changes.tasks.sweep_change_jobs",
        "schedule": 5 * 60,
    },
    # A released answer past its download window: its archive deleted, its manifest kept, the release expired; and
    # the short-lived files handed to the front server (X-Accel-Redirect) removed (fulfilment.delivery).
    "expire-released-answers": {
        "task": "fulfilment.tasks.expire_releases",
        "schedule": 5 * 60,
    },
    # System owners are reminded, once a day, of their manual search tasks due within three days or overdue
    # (fulfilment.manual_tasks; idempotent, so an hourly run only catches up after downtime).
    "remind-system-owners-of-search-tasks": {
        "task": "fulfilment.tasks.remind_system_owners_of_tasks",
        "schedule": 60 * 60,
    },
    # ...and of their change tasks (an erasure, a correction, a restriction, the end of direct marketing carried out
    # by hand) due within three days or overdue (changes.manual_tasks; idempotent in the same way).
    "remind-system-owners-of-change-tasks": {
        "task": "changes.tasks.remind_system_owners_of_change_tasks",
        "schedule": 60 * 60,
    },
    # Part and archive files no row names (a run that crashed after writing, a discarded run), after a grace period
    # (fulfilment.services.orphan_files_sweep).
    "sweep-orphan-answer-files": {
        "task": "fulfilment.tasks.sweep_orphan_answer_files",
        "schedule": 60 * 60,
    },
    # The retention schedule (retention.schedule): requests closed unconfirmed and closed case files past their
    # period deleted with their files, unless held; unused agent accounts told, then deleted (LAW.md §6(h)).
    "apply-the-retention-schedule": {
        "task": "retention.tasks.apply_retention_schedule",
        "schedule": 24 * 60 * 60,
    },
    # GDPR Art. 18(3): restrictions whose lift notice was sent are lifted on or after the day it gave; Art. 18(1)(a):
    # a rectification's restriction while accuracy is checked, whose start was lost, is started (idempotent).
    "lift-due-restrictions-and-start-lost-ones": {
        "task": "changes.tasks_decisions.sweep_decisions",
        "schedule": 60 * 60,
    },
}

# --- E-mail -------------------------------------------------------------------

DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", "privacy@example.org")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = env("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = 20
else:
    # Embedded default: every message the portal sends is a file a person can read.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = Path(env("DSAR_EMAIL_DIR") or DATA_DIR / "sent-emails")

# --- Files --------------------------------------------------------------------

# Uploaded documents are encrypted and kept here, never under STATIC_ROOT and
# never served by URL: staff views stream them after a permission check.
PRIVATE_UPLOAD_DIR = Path(env("DSAR_PRIVATE_UPLOAD_DIR") or DATA_DIR / "private-uploads")
# Documents stored before files had namespaces (dsar_portal/filestore.py) lie
# directly in PRIVATE_UPLOAD_DIR; they belong to this namespace, and
# rotate_encryption_keys moves them into it.
FILESTORE_LEGACY_NAMESPACE = "documents"
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# One document: at most this many bytes (the forms say "up to 10 MB"). The upload handler stops writing a file at
# this size, so a larger body never reaches the disk whole; the proxy's client_max_body_size (README) refuses
# bodies far beyond it before they reach the portal.
DSAR_MAX_DOCUMENT_BYTES = env_int("DSAR_MAX_DOCUMENT_BYTES", 10 * 1024 * 1024)
# A request holds at most this many live documents, of at most this many bytes together.
DSAR_MAX_DOCUMENTS_PER_REQUEST = env_int("DSAR_MAX_DOCUMENTS_PER_REQUEST", 10)
DSAR_MAX_DOCUMENT_BYTES_PER_REQUEST = env_int("DSAR_MAX_DOCUMENT_BYTES_PER_REQUEST", 50 * 1024 * 1024)
# Each document is parsed in a process of its own with this budget (requests_app/document_check.py). Counting the
# pages of the 6.6 MB, 99,000-page PDF of issue 9 costs 0.8 s of CPU on an idle 2-core machine and went past 2 s on
# a loaded one, so the person was told "could not be read" instead of "this PDF has 99000 pages": 4 s leaves room
# for a loaded host while still ending a page tree built to exhaust the parser.
DSAR_DOCUMENT_CHECK_MEMORY_MB = env_int("DSAR_DOCUMENT_CHECK_MEMORY_MB", 256)
DSAR_DOCUMENT_CHECK_CPU_SECONDS = env_int("DSAR_DOCUMENT_CHECK_CPU_SECONDS", 4)
DSAR_DOCUMENT_CHECK_TIMEOUT_SECONDS = env_int("DSAR_DOCUMENT_CHECK_TIMEOUT_SECONDS", 10)
FILE_UPLOAD_HANDLERS = ["dsar_portal.uploads.BoundedUploadHandler"]
# Form fields other than files (Django's default; the longest form is a few text areas of 5,000 characters).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# A body up to this size (one document and the form around it) is parsed in memory; larger ones are written to a
# temporary file by the upload handler, which stops at DSAR_MAX_DOCUMENT_BYTES.
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Front-end packages come from npm at setup time and are served by the
    # portal itself: no visitor's browser is ever sent to a CDN.
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    # htmx makes the staff queue's filters and pages swap only the results; every page works without it.
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_UPLOAD_DIR, "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}

# --- Authentication -----------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Agents sign in with Django's backend (agents/views.py); staff through allauth's, which adds its rate limits.
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/staff/"

# Staff accounts are made by the DPO, never by sign-up (dsar_portal/staff_auth.py closes it).
ACCOUNT_ADAPTER = "dsar_portal.staff_auth.StaffAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PRESERVE_USERNAME_CASING = False
# Step-up asks for a factor, never the password alone: a stolen password must not open identity evidence.
ACCOUNT_REAUTHENTICATION_METHODS = ("mfa",)
# "A few minutes": a factor given this long ago still counts for evidence and other step-up pages.
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("DSAR_STAFF_STEP_UP_SECONDS", 300)
# Failed sign-ins are throttled per client and per account (allauth counts them in the cache).
ACCOUNT_RATE_LIMITS = {
    "login_failed": env("DSAR_RATE_STAFF_LOGIN_FAILED", "10/m/ip,5/5m/key"),
    "reauthenticate": "10/m/user",
}
MFA_ADAPTER = "dsar_portal.staff_auth.PortalMFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
# Passkeys are a second factor after the password, not a way round it.
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_PASSKEY_SIGNUP_ENABLED = False
# WebAuthn needs a secure origin; the local portal runs on http://127.0.0.1.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
MFA_TOTP_ISSUER = env("DSAR_TOTP_ISSUER", "DSAR Portal")
MFA_TOTP_TOLERANCE = 1
# A staff session with no request for this many minutes ends (dsar_portal.middleware.StaffIdleTimeoutMiddleware).
DSAR_STAFF_IDLE_MINUTES = env_int("DSAR_STAFF_IDLE_MINUTES", 30)

# --- Security headers ---------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
# Strict, but same-origin: with no-referrer Chromium sends "Origin: null" on form
# posts and Django's CSRF check refuses them. Other sites still get nothing.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Which address identifies a client for rate limiting: REMOTE_ADDR with no proxy in front (0); behind N proxies
# that each append to X-Forwarded-For, the N-th address from its right, the one the outermost proxy saw. Anything
# left of it was written by the client. DSAR_TRUST_X_FORWARDED_FOR=1, the older setting, means one proxy.
DSAR_TRUSTED_PROXY_COUNT = env_int(
    "DSAR_TRUSTED_PROXY_COUNT", 1 if env_bool("DSAR_TRUST_X_FORWARDED_FOR", False) else 0
)

# Browser features no page of the portal uses, denied to it and to anything it could ever embed
# (django-permissions-policy checks the names).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "interest-cohort",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

# --- Internationalisation -------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("DSAR_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# --- Crispy forms ---------------------------------------------------------------

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- The organisation running the portal ----------------------------------------
# Defaults for the admin-editable Organisation record (see organisation/).

DSAR_ORGANISATION = {
    "name": env("DSAR_ORGANISATION_NAME", "Example Organisation Ltd"),
    "contact_email": env("DSAR_ORGANISATION_EMAIL", "privacy@example.org"),
    "dpo_name": env("DSAR_DPO_NAME", "Data Protection Officer"),
    "dpo_email": env("DSAR_DPO_EMAIL", "dpo@example.org"),
    "jurisdiction": env("DSAR_JURISDICTION", "GB-ENG"),
    "supervisory_authority_name": env("DSAR_SUPERVISORY_AUTHORITY_NAME", "Information Commissioner's Office"),
    "supervisory_authority_url": env("DSAR_SUPERVISORY_AUTHORITY_URL", "https://ico.org.uk/make-a-complaint/"),
    "supervisory_authority_address": env(
        "DSAR_SUPERVISORY_AUTHORITY_ADDRESS",
        "Wycliffe House, Water Lane, Wilmslow, Cheshire, SK9 5AF",
    ),
}
# Our own target, shown beside the legal deadline, so work lands before it.
DSAR_INTERNAL_TARGET_DAYS = env_int("DSAR_INTERNAL_TARGET_DAYS", 28)
# A request whose e-mail is never confirmed: remind after this many days,
# close after that many. It was validly received (the clock runs from receipt), so it stays open for a period
# comparable to the identity timeout, and the closing notice gives the complaint rights (LAW.md D11; Art. 12(4)).
DSAR_UNCONFIRMED_REMINDER_DAYS = env_int("DSAR_UNCONFIRMED_REMINDER_DAYS", 3)
DSAR_UNCONFIRMED_CLOSE_DAYS = env_int("DSAR_UNCONFIRMED_CLOSE_DAYS", 30)
# How long a closed case file is kept, and a request never confirmed (LAW.md §6(h): 2 years after closure by
# default, longer where claims are foreseeable; 90 days for unconfirmed requests). Status links end with them.
DSAR_CASE_FILE_RETENTION_DAYS = env_int("DSAR_CASE_FILE_RETENTION_DAYS", 730)
DSAR_UNCONFIRMED_RETENTION_DAYS = env_int("DSAR_UNCONFIRMED_RETENTION_DAYS", 90)
# The longest general period the DPO may give closed case files on the retention page (retention.schedule): six
# years, the limitation period for claims in England and Wales (Limitation Act 1980 s.2, 5; LAW.md §6(h)); a case
# that needs longer gets a legal hold instead.
DSAR_CASE_FILE_RETENTION_MAX_DAYS = env_int("DSAR_CASE_FILE_RETENTION_MAX_DAYS", 6 * 365)
# An agent account not used for this long is deleted, after an e-mail this many days before (LAW.md §6(h)).
DSAR_AGENT_RETENTION_DAYS = env_int("DSAR_AGENT_RETENTION_DAYS", 730)
DSAR_AGENT_DELETION_NOTICE_DAYS = env_int("DSAR_AGENT_DELETION_NOTICE_DAYS", 30)
# A closed complaint that is not about any case (UK DPA 2018 s.164A) is deleted this long after it was closed; one
# about a case goes with that case file, whose period then runs from the complaint's closure if later (LAW.md §6(h)).
DSAR_COMPLAINT_RETENTION_DAYS = env_int("DSAR_COMPLAINT_RETENTION_DAYS", DSAR_CASE_FILE_RETENTION_DAYS)
# The deletion job (retention.services.retention_run) deletes at most this many records of a kind per batch, each
# case in its own transaction, and at most DSAR_RETENTION_RUN_LIMIT records a run; the rest wait for the next day.
DSAR_RETENTION_BATCH_SIZE = env_int("DSAR_RETENTION_BATCH_SIZE", 200)
DSAR_RETENTION_RUN_LIMIT = env_int("DSAR_RETENTION_RUN_LIMIT", 5000)
# How long a released answer can be downloaded, from the moment its archive is ready (issue 12, secure delivery);
# then the archive is deleted and its manifest kept (GDPR Art. 5(1)(e), 32).
DSAR_DOWNLOAD_DAYS = env_int("DSAR_DOWNLOAD_DAYS", 14)
# Who else handles the portal's own personal data, named in its privacy notice (/privacy/, GDPR Art. 13(1)(e)-(f)):
# the company that delivers its e-mail, the one that hosts it, and any transfer outside the UK/EEA with its safeguard.
# Empty: the notice names the kind of recipient without a name, and says nothing of transfers.
DSAR_PRIVACY_EMAIL_PROVIDER = env("DSAR_PRIVACY_EMAIL_PROVIDER", "")
DSAR_PRIVACY_HOSTING_PROVIDER = env("DSAR_PRIVACY_HOSTING_PROVIDER", "")
DSAR_PRIVACY_TRANSFERS = env("DSAR_PRIVACY_TRANSFERS", "")
# Flood control, without a third-party CAPTCHA: (count, window in seconds).
DSAR_RATE_LIMITS = {
    "submit_per_client": (env_int("DSAR_RATE_SUBMIT_PER_CLIENT", 10), 3600),
    "submit_per_email": (env_int("DSAR_RATE_SUBMIT_PER_EMAIL", 5), 86400),
    "code_per_client": (env_int("DSAR_RATE_CODE_PER_CLIENT", 20), 900),
    "code_per_request": (env_int("DSAR_RATE_CODE_PER_REQUEST", 10), 900),
    "link_resend_per_client": (env_int("DSAR_RATE_LINK_PER_CLIENT", 10), 3600),
    # Agents asking for a new confirmation code or a password reset link.
    "account_email_per_client": (env_int("DSAR_RATE_ACCOUNT_EMAIL_PER_CLIENT", 10), 3600),
    # Agents filing for someone: each filing may e-mail the person it names, so the portal must not become a relay
    # of mail to strangers. Per account per day, and per client per hour (one client, many accounts).
    "agent_filing_per_account": (env_int("DSAR_RATE_AGENT_FILING_PER_ACCOUNT", 10), 86400),
    "agent_filing_per_client": (env_int("DSAR_RATE_AGENT_FILING_PER_CLIENT", 10), 3600),
    # Password guesses on one agent account, from anywhere: keyed by the address's keyed hash.
    "password_per_account": (env_int("DSAR_RATE_PASSWORD_PER_ACCOUNT", 10), 900),
    # Documents sent from a status page (identity evidence, a reply to our question), each costing a parse.
    "upload_per_client": (env_int("DSAR_RATE_UPLOAD_PER_CLIENT", 20), 3600),
    "upload_per_request": (env_int("DSAR_RATE_UPLOAD_PER_REQUEST", 10), 3600),
    # Complaints from the public form (UK DPA 2018 s.164A), each e-mailing the address typed in.
    "complaint_per_client": (env_int("DSAR_RATE_COMPLAINT_PER_CLIENT", 5), 3600),
    "complaint_per_email": (env_int("DSAR_RATE_COMPLAINT_PER_EMAIL", 5), 86400),
    # Download codes for a released answer (fulfilment.delivery): each sends an e-mail, each try guesses a code.
    "download_code_per_client": (env_int("DSAR_RATE_DOWNLOAD_CODE_PER_CLIENT", 10), 3600),
    "download_code_per_request": (env_int("DSAR_RATE_DOWNLOAD_CODE_PER_REQUEST", 5), 3600),
    "download_try_per_client": (env_int("DSAR_RATE_DOWNLOAD_TRY_PER_CLIENT", 20), 900),
    # Signed answers from the HTTP connector's systems (fulfilment.callbacks), each verified and parsed.
    "connector_callback_per_client": (env_int("DSAR_RATE_CONNECTOR_CALLBACK_PER_CLIENT", 600), 3600),
}
# An e-mail confirmation code is valid for this many minutes and this many tries.
DSAR_EMAIL_CODE_TTL_MINUTES = env_int("DSAR_EMAIL_CODE_TTL_MINUTES", 30)
DSAR_EMAIL_CODE_MAX_ATTEMPTS = env_int("DSAR_EMAIL_CODE_MAX_ATTEMPTS", 5)
DSAR_EMAIL_CODE_RESEND_SECONDS = env_int("DSAR_EMAIL_CODE_RESEND_SECONDS", 60)
# Secure delivery of a released answer (fulfilment.delivery): the download window of a copy (issue 12: 14 days), the
# fresh code sent before a download (valid 15 minutes, 5 tries, a new one at most every 60 seconds), and how long a
# browser may download after entering it before a new code is needed.
DSAR_DOWNLOAD_CODE_TTL_MINUTES = env_int("DSAR_DOWNLOAD_CODE_TTL_MINUTES", 15)
DSAR_DOWNLOAD_CODE_MAX_ATTEMPTS = env_int("DSAR_DOWNLOAD_CODE_MAX_ATTEMPTS", 5)
DSAR_DOWNLOAD_CODE_RESEND_SECONDS = env_int("DSAR_DOWNLOAD_CODE_RESEND_SECONDS", 60)
DSAR_DOWNLOAD_WINDOW_MINUTES = env_int("DSAR_DOWNLOAD_WINDOW_MINUTES", 10)
# Hand the download to the front server (nginx X-Accel-Redirect) instead of streaming it from the portal: the URL
# prefix of nginx's `internal` location (empty: stream), and the private folder (outside any web root) that location
# serves, where each download is decrypted to a short-lived file deleted after DSAR_DOWNLOAD_ACCEL_TTL_MINUTES.
DSAR_DOWNLOAD_ACCEL_REDIRECT = env("DSAR_DOWNLOAD_ACCEL_REDIRECT", "")
DSAR_DOWNLOAD_ACCEL_DIR = Path(env("DSAR_DOWNLOAD_ACCEL_DIR") or DATA_DIR / "accel-downloads")
DSAR_DOWNLOAD_ACCEL_TTL_MINUTES = env_int("DSAR_DOWNLOAD_ACCEL_TTL_MINUTES", 5)
# Public base URL used in e-mails (the links a requester clicks).
DSAR_PUBLIC_URL = env("DSAR_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# The public complaint form (UK DPA 2018 s.164A(2)), named in UK refusal and completion notices; empty: not named.
DSAR_COMPLAINTS_URL = env("DSAR_COMPLAINTS_URL", DSAR_PUBLIC_URL + "/complaints/new/")

# --- Logging: IDs only, never personal data -----------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's request logger would otherwise record full URLs and bodies.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # PDF and image parsers describe a damaged file by quoting it: none of that belongs in a log. Documents are
        # parsed in a separate process whose output is dropped (requests_app/document_check.py); these guard any
        # parse that happens in the web process all the same.
        "pypdf": {"level": "CRITICAL"},
        "PIL": {"level": "CRITICAL"},
    },
}

# --- Identity verification -------------------------------------------------------------
# How the portal checks a requester's details against the organisation's records:
# a dotted path to a class with match(*, email, identifiers) -> MatchResult.
DSAR_CUSTOMER_MATCHER = env("DSAR_CUSTOMER_MATCHER", "identity.matching.DemoCustomerMatcher")
# How many times a person may try giving details we hold before we ask for a document (0: never ask for details,
# go straight to a document when the address is not in the records).
DSAR_MAX_DETAIL_ATTEMPTS = env_int("DSAR_MAX_DETAIL_ATTEMPTS", 3)
# The data subject's answer about an agent is a supplementary signal (LAW.md I3): staff may proceed without it after
# this many days.
DSAR_SUBJECT_ANSWER_WAIT_DAYS = env_int("DSAR_SUBJECT_ANSWER_WAIT_DAYS", 10)
# Staff reminders (casework.reminders): the days before the legal due date and before the internal target on which
# the assignee is reminded (comma-separated).
DSAR_STAFF_REMINDER_OFFSETS_DAYS = sorted(
    {int(days) for days in env_list("DSAR_STAFF_REMINDER_OFFSETS_DAYS", ["14", "7", "3", "1"])}, reverse=True
)
# A complaint not yet acknowledged is flagged to the DPOs this many days before its acknowledgement is due
# (UK DPA 2018 s.164A(3)), and once more when it is late.
DSAR_STAFF_COMPLAINT_REMINDER_DAYS = env_int("DSAR_STAFF_COMPLAINT_REMINDER_DAYS", 7)
# The daily digest lists what each assignee has due within this many days, and what is overdue.
DSAR_STAFF_DIGEST_DAYS = env_int("DSAR_STAFF_DIGEST_DAYS", 7)
# The verification methods, each behind identity.methods.VerificationMethod; tried weakest first.
DSAR_VERIFICATION_METHODS = [
    "identity.methods.email_possession.EmailPossession",
    "identity.methods.records_match.RecordsMatch",
    "identity.methods.staff_evidence.StaffReviewedEvidence",
]
# The kinds of connector a data system can name (datasystems.connectors.base.Connector), by key: the register stores
# the key and its configuration, these dotted paths say which class runs it.
DSAR_CONNECTORS = {
    "demo_app": "datasystems.connectors.demo_app.DemoAppConnector",
    "sql": "datasystems.connectors.sql.SqlConnector",
    "http": "datasystems.connectors.http.HttpConnector",
}
# The change engine (issue 13): rows a connector commits in one batch, and the size above which a destructive change
# (erasure, rectification) needs the DPO's approval as well as the case handler's.
DSAR_CHANGE_BATCH_ROWS = env_int("DSAR_CHANGE_BATCH_ROWS", 5000)
DSAR_CHANGE_DPO_APPROVAL_ROWS = env_int("DSAR_CHANGE_DPO_APPROVAL_ROWS", 10_000)
# How long an external database may take to answer one connection attempt, and one query (seconds); a data system's
# connector configuration may ask for less or more.
DSAR_CONNECTOR_CONNECT_TIMEOUT = env_int("DSAR_CONNECTOR_CONNECT_TIMEOUT", 10)
DSAR_CONNECTOR_STATEMENT_TIMEOUT = env_int("DSAR_CONNECTOR_STATEMENT_TIMEOUT", 300)
# Where a connector's rows live in PostgreSQL, the database writes the answer's JSON and CSV itself with COPY (the
# same bytes as row by row in Python, many times faster; fulfilment.pgexport). Off only to compare (bench/README.md).
DSAR_FULFILMENT_POSTGRES_COPY = env_bool("DSAR_FULFILMENT_POSTGRES_COPY", True)
# The HTTP connector: how long a system's API may take to answer one search (seconds, the whole answer), the largest
# answer it may send (bytes), and whether plain-HTTP endpoints are allowed (never in production: the request carries
# the person's identifiers; localhost is always allowed, for tests).
DSAR_CONNECTOR_HTTP_TIMEOUT = env_int("DSAR_CONNECTOR_HTTP_TIMEOUT", 120)
DSAR_CONNECTOR_HTTP_MAX_BYTES = env_int("DSAR_CONNECTOR_HTTP_MAX_BYTES", 64 * 1024 * 1024)
DSAR_CONNECTOR_HTTP_ALLOW_INSECURE = env_bool("DSAR_CONNECTOR_HTTP_ALLOW_INSECURE", False)
# An HTTP system that accepted a search (202) and has not answered by its signed callback within this many hours: the
# sweep fails the search, so staff see it on the case page (with the retry button) and in the queue's flag.
DSAR_CONNECTOR_CALLBACK_HOURS = env_int("DSAR_CONNECTOR_CALLBACK_HOURS", 72)
# Manual search tasks (fulfilment.manual_tasks): a system owner's task is due this many working days before the
# request's legal due date; one uploaded CSV file may be this large (bytes; never above DSAR_MAX_DOCUMENT_BYTES, where
# the upload handler stops writing).
DSAR_MANUAL_TASK_DAYS = env_int("DSAR_MANUAL_TASK_DAYS", 5)
DSAR_MANUAL_TASK_MAX_BYTES = min(
    env_int("DSAR_MANUAL_TASK_MAX_BYTES", DSAR_MAX_DOCUMENT_BYTES), DSAR_MAX_DOCUMENT_BYTES
)
# GDPR Art. 18(3): when a restriction ends because its ground has (the rectification or objection it waited for was
# decided), the person is told this many days before it is lifted.
DSAR_RESTRICTION_LIFT_NOTICE_DAYS = env_int("DSAR_RESTRICTION_LIFT_NOTICE_DAYS", 7)
