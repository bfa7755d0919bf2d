"""Rules every response of the portal keeps, whatever app made it.

The kernel knows no app, so these rules are written for all pages at once rather than for a list of them: a page
added later (a staff area, another agent page) is covered the day it is written.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase, HttpResponseNotAllowed

# The methods a browser uses on the portal's pages and forms. Anything else (DELETE, PUT, PROPFIND, TRACE, ...)
# is answered 405 before any view, CSRF check or sign-in redirect sees it.
ALLOWED_METHODS = ("GET", "HEAD", "POST")


class AllowedMethodsMiddleware:
    """Answer 405 Method Not Allowed, with an ``Allow`` header, to any method a page does not use."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method not in ALLOWED_METHODS:
            return HttpResponseNotAllowed(ALLOWED_METHODS)
        return self.get_response(request)


class NoStoreMiddleware:
    """Tell browsers and proxies to keep no copy of a page.

    Status pages, agent pages, staff pages and the admin show personal data (GDPR Art. 5(1)(f), Art. 32): a copy
    in a shared computer's browser cache, or in a proxy's, would show it to the next person. Forms shown again
    with errors carry what the person typed, so public pages are included too. A response that already says how
    it may be cached keeps its own header: static files (served by WhiteNoise, with long cache lifetimes) and
    views that chose one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
            # HTTP/1.0 caches know no Cache-Control.
            response["Pragma"] = "no-cache"
        return response
