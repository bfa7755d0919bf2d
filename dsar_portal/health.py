"""The health check a load balancer or monitor polls: is each service the portal depends on reachable?"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django_redis import get_redis_connection

from .celery import app as celery_app

logger = logging.getLogger(__name__)

OK = "ok"
UNAVAILABLE = "unavailable"
NOT_CONFIGURED = "not configured"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        # The cache drops its errors (IGNORE_EXCEPTIONS) so pages keep working; ask Redis itself.
        get_redis_connection("default").ping()
    else:
        cache.set("healthz", OK, timeout=10)


def _broker() -> None:
    with celery_app.connection_for_write() as broker:
        # One attempt, bounded by the broker's connection timeout: a monitor must not wait on kombu's retries.
        broker.ensure_connection(max_retries=1, timeout=2)


def service_states() -> dict[str, str]:
    """Each service by name: "ok", "unavailable", or "not configured" (no broker: tasks run in-process)."""
    checks = {"database": _database, "cache": _cache}
    states = {}
    if settings.CELERY_BROKER_URL and not settings.CELERY_TASK_ALWAYS_EAGER:
        checks["broker"] = _broker
    else:
        states["broker"] = NOT_CONFIGURED
    for name, check in checks.items():
        try:
            check()
        except Exception as error:  # noqa: BLE001 - any failure means the service is not usable
            # The type only: a driver's message can name hosts and users.
            logger.warning("health check: %s unavailable (%s)", name, type(error).__name__)
            states[name] = UNAVAILABLE
        else:
            states[name] = OK
    return states


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when every service answers, 503 when one does not; the body names each service's state, nothing more."""
    states = service_states()
    healthy = all(state != UNAVAILABLE for state in states.values())
    return JsonResponse({"status": OK if healthy else UNAVAILABLE, **states}, status=200 if healthy else 503)
