"""Fixed-window rate limits in the shared cache (Redis in production).

Used instead of a third-party CAPTCHA: a rights portal must not send its
visitors' browsers to another company.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_key(request: HttpRequest) -> str:
    address = request.META.get("REMOTE_ADDR", "")
    if settings.DSAR_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            address = forwarded.split(",")[0].strip()
    return address


def allow(scope: str, key: str) -> bool:
    """Count one hit for ``key`` under ``scope``; False once the scope's limit is passed."""
    limit, window = settings.DSAR_RATE_LIMITS[scope]
    # Keys are hashed: the cache holds no addresses or e-mail hashes in the clear.
    digest = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()[:32]
    cache_key = f"ratelimit:{scope}:{digest}"
    if cache.add(cache_key, 1, timeout=window):
        return True
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window)
        return True
    return count <= limit
