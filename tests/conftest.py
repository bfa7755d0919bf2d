import importlib

import pytest
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from django.core.cache import cache, caches
from django.db.models.signals import post_migrate

from dsar_portal.celery import app as celery_app
from organisation.selectors import organisation_forget


def _flush_by_delete() -> None:
    """Empty the tables after a ``transaction=True`` test with DELETE rather than Django's TRUNCATE.

    TRUNCATE gives every table a new file, which PostgreSQL creates and syncs at commit: with the portal's ~150
    tables that cost about 1.5 s after every transactional test, whatever the test wrote. A DELETE of the few rows a
    test leaves costs milliseconds. Django creates every foreign key DEFERRABLE INITIALLY DEFERRED and the flush runs
    in one transaction, so the order of the DELETEs does not matter. Sequences are reset the Django way when a test
    asks for it (``reset_sequences``)."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return [f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};" for table in tables]

    DatabaseOperations.sql_flush = sql_flush


_flush_by_delete()


def _default_message_templates_after_flush(sender, **kwargs) -> None:
    """Put the default message templates back after a ``transaction=True`` test empties the tables.

    They are the one thing a data migration seeds (casework 0006) and tests read; the flush that ends a
    transactional test sends ``post_migrate`` but does not run migrations, so without this the tests that run
    after it in the same process (the order differs between parallel processes) would find none."""
    from django.apps import apps

    seed = importlib.import_module("casework.migrations.0006_default_message_templates")
    seed.add_defaults(apps, None)


post_migrate.connect(
    _default_message_templates_after_flush,
    sender=django_apps.get_app_config("casework"),
    dispatch_uid="tests-default-message-templates",
)


def _clear_cache() -> None:
    # Never FLUSHDB: in CI the cache shares Redis with the Celery broker.
    if "redis" in django_settings.CACHES["default"]["BACKEND"].lower():
        cache.delete_pattern("*")  # django-redis: this prefix's keys only, by SCAN
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _portal_isolation(settings, tmp_path):
    """Each test: its own upload folder, empty rate-limit counters and fragment cache, tasks run in-process.

    The one test that needs a real worker turns eager mode off itself.
    """
    settings.PRIVATE_UPLOAD_DIR = tmp_path / "private-uploads"
    # Password hashing strength is Django's concern, not these tests'; keep sign-ins quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    _clear_cache()
    caches["template_fragments"].clear()
    organisation_forget()
    yield
    _clear_cache()
    organisation_forget()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database commits without waiting for its write-ahead log to reach the disk.

    A test database is thrown away at the end, so a commit that an operating-system crash could lose costs nothing;
    waiting for the disk at each commit of the transactional tests, the flush after each and the real workers'
    jobs cost seconds per file. Set on the database, so every new connection has it, the Celery workers' too."""
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all():
            if connection.vendor != "postgresql":
                continue
            with connection.cursor() as cursor:
                name = connection.ops.quote_name(connection.settings_dict["NAME"])
                cursor.execute(f"ALTER DATABASE {name} SET synchronous_commit TO off")
                cursor.execute("SET synchronous_commit TO off")
