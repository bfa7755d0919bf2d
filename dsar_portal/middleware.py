"""Rules every response of the portal keeps, whatever app made it.

The kernel knows no app, so these rules are written for all pages at once rather than for a list of them: a page
added later (a staff area, another agent page) is covered the day it is written.
"""

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from dsar_portal.staff_auth import staff_needs_factor

# The staff area and the admin: the pages that need a second factor.
STAFF_PATH_PREFIXES = ("/staff/", "/admin/")
# When a staff session last made a request, as a Unix time.
LAST_SEEN_SESSION_KEY = "dsar_staff_last_seen"

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


class StaffSecondFactorMiddleware:
    """Send a staff account with no second factor to set one up before any staff or admin page opens.

    Signing in asks for the factor of an account that has one (allauth); this covers the account that has none
    yet, so no staff page is ever reached on a password alone (GDPR Art. 32(1)(b)).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and request.path.startswith(STAFF_PATH_PREFIXES)
            and staff_needs_factor(user)
        ):
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)


class StaffIdleTimeoutMiddleware:
    """End a staff session that made no request for DSAR_STAFF_IDLE_MINUTES, and ask for a new sign-in.

    A staff screen left open shows personal data to whoever sits down next; an idle session is closed on the
    server, whatever the browser keeps (GDPR Art. 32(1)(b)). Agents' sessions keep their own rules.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            now = time.time()
            last_seen = request.session.get(LAST_SEEN_SESSION_KEY)
            if last_seen is not None and now - float(last_seen) > settings.DSAR_STAFF_IDLE_MINUTES * 60:
                logout(request)
                messages.info(request, _("You were signed out after a period without activity. Please sign in again."))
                return redirect(f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': request.path})}")
            # Written at most once a minute: a session save per page would cost a query per page.
            if last_seen is None or now - float(last_seen) > 60:
                request.session[LAST_SEEN_SESSION_KEY] = now
        return self.get_response(request)
