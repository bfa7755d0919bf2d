import pytest
from django.conf import settings as django_settings
from django.core.cache import cache, caches

from dsar_portal.celery import app as celery_app
from organisation.selectors import organisation_forget


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
