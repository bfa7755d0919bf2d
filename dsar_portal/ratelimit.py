"""Fixed-window rate limits in the shared cache (Redis in production).

Used instead of a third-party CAPTCHA: a rights portal must not send its
visitors' browsers to another company.

When the cache cannot be reached the limits *fail open*: the hit is allowed and
one warning line is logged (the scopes and the error's type; no address, no
e-mail hash). A limit is flood control; turning it into a refusal, or an error
page, would lose the very submissions a rights portal exists to take (Art.
12(2): facilitate the exercise of the rights), and before anything is stored.
Falling back to a count in the database was weighed and not chosen: a per-client
count would have to store client addresses, which the portal otherwise never
keeps, and it would add writes to the one store a submission cannot do without,
at the moment it is the only store left. The exposure is bounded by the outage,
and every request filed during one is stored, confirmed by e-mail and reviewed
as usual.
"""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django_redis import get_redis_connection
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


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
    start each window), which matters on the submission path. With the cache
    unreachable it allows the hit (see the module's docstring).
    """
    try:
        if "redis" in settings.CACHES["default"]["BACKEND"].lower():
            counts = _incr_redis(hits)
        else:
            counts = [_incr_cache(scope, key) for scope, key in hits]
    except (RedisError, OSError) as error:
        logger.warning(
            "rate limits %s not counted: cache unavailable (%s); allowed",
            ",".join(scope for scope, _key in hits),
            type(error).__name__,
        )
        return True
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
