"""Whole-page cache for public pages that are the same for every visitor.

The start page and a blank request form differ between visitors only in the
CSRF token, yet rendering them (crispy forms, the layout, translations) costs
more than everything else a GET does. Each process keeps such a page, rendered
once per language and version of the organisation's record, with the token
cut out, and puts each visitor's own token back in.

A page is taken from or put into the cache only for an anonymous GET without a
query string and with no flash message waiting; anything else is rendered as
usual. The cache is local to the process (the ``pages`` cache), so templates
changed by a deploy come with new processes, and an edit to the organisation
changes the key.
"""

import functools
import re
import secrets
from collections.abc import Callable

from django.contrib.messages import get_messages
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

from organisation.selectors import organisation_get

CACHE_ALIAS = "pages"
TIMEOUT_SECONDS = 24 * 60 * 60

# What {% csrf_token %} renders. The value is cut out before the page is stored.
_CSRF_INPUT = re.compile(r'(<input type="hidden" name="csrfmiddlewaretoken" value=")[^"]*(">)')
# Random per process, so no page content can contain it by chance or on purpose.
_TOKEN_SLOT = "csrf-slot-" + secrets.token_hex(16)


def _cacheable(http_request: HttpRequest) -> bool:
    return (
        http_request.method == "GET"
        and not http_request.META.get("QUERY_STRING")
        and not http_request.user.is_authenticated
        and len(get_messages(http_request)) == 0
    )


def _same_for_everyone(http_request: HttpRequest, response: HttpResponse) -> bool:
    """Whether what the view answered holds nothing of this visitor's but the CSRF token."""
    return (
        response.status_code == 200
        and not response.streaming
        and response["Content-Type"] == "text/html; charset=utf-8"
        and not response.cookies
        # A page with a CSP nonce (an inline script or style) is unique to its response.
        and getattr(http_request, "_csp_nonce", None) is None
    )


def _key(http_request: HttpRequest) -> str:
    organisation = organisation_get()
    return f"page:{http_request.path}:{get_language()}:{organisation.pk}:{organisation.updated_at.timestamp()}"


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve ``view``'s GET answer from the page cache where it is the same for everyone (see the module)."""

    @functools.wraps(view)
    def wrapper(http_request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _cacheable(http_request):
            return view(http_request, *args, **kwargs)
        cache = caches[CACHE_ALIAS]
        key = _key(http_request)
        page = cache.get(key)
        if page is None:
            response = view(http_request, *args, **kwargs)
            if not _same_for_everyone(http_request, response):
                return response
            html = response.content.decode(response.charset)
            page = _CSRF_INPUT.sub(rf"\g<1>{_TOKEN_SLOT}\g<2>", html)
            cache.set(key, page, TIMEOUT_SECONDS)
            return response
        # get_token also makes the CSRF middleware set the cookie, as {% csrf_token %} does.
        return HttpResponse(page.replace(_TOKEN_SLOT, get_token(http_request)))

    return wrapper
