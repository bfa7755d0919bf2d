"""Fixed-window rate limits in the shared cache (Redis in production).

Used instead of a third-party CAPTCHA: a rights portal must not send its
visitors' browsers to another company.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django_redis import get_redis_connection


def client_key(request: HttpRequest) -> str:
    """The client's address, as the outermost of ``DSAR_TRUSTED_PROXY_COUNT`` proxies saw it.

    Each proxy appends the address it was connected from to X-Forwarded-For, so
    with N proxies the N-th entry from the right is the client's; whatever lies
    left of it the client wrote itself and may change at will. A shorter header
    than expected was written by our proxies alone, so its left-most entry is used.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.DSAR_TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if forwarded:
            address = forwarded[max(len(forwarded) - proxies, 0)]
    return address


def _cache_key(scope: str, key: str) -> str:
    # Hashed: the cache holds no addresses or e-mail hashes in the clear.
    digest = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}"


def allow(scope: str, key: str) -> bool:
    """Count one hit for ``key`` under ``scope``; False once the scope's limit is passed."""
    return allow_all([(scope, key)])


def allow_all(hits: list[tuple[str, str]]) -> bool:
    """Count one hit under each (scope, key); True only if every limit still holds.

    On Redis all the counters move in one round trip (INCR, and EXPIRE NX to
    start each window), which matters on the submission path.
    """
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        counts = _incr_redis(hits)
    else:
        counts = [_incr_cache(scope, key) for scope, key in hits]
    return all(count <= settings.DSAR_RATE_LIMITS[scope][0] for (scope, _key), count in zip(hits, counts, strict=True))


def _incr_redis(hits: list[tuple[str, str]]) -> list[int]:
    pipe = get_redis_connection("default").pipeline(transaction=False)
    for scope, key in hits:
        name = cache.make_key(_cache_key(scope, key))
        pipe.incr(name)
        pipe.expire(name, settings.DSAR_RATE_LIMITS[scope][1], nx=True)
    results = pipe.execute()
    return [int(count) for count in results[0::2]]


def _incr_cache(scope: str, key: str) -> int:
    window = settings.DSAR_RATE_LIMITS[scope][1]
    cache_key = _cache_key(scope, key)
    if cache.add(cache_key, 1, timeout=window):
        return 1
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window)
        return 1
