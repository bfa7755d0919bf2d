import pytest
from django.conf import settings as django_settings
from django.core.cache import cache, caches

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
