"""Which requests' status pages this browser may open: a signed, HttpOnly cookie of references.

Granted when the person files a request (or an agent opens one they filed) and
when a status link from an e-mail is followed. A cookie rather than a server
session, so a requester leaves no state on the server. It holds only
references (public identifiers), is signed with the secret key so it cannot be
forged, and lasts as long as a session would.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

COOKIE = "dsar_status"
SALT = "requests_app.status_access"
MAX_REQUESTS = 20


def granted_references(http_request: HttpRequest) -> list[str]:
    value = http_request.get_signed_cookie(COOKIE, default="", salt=SALT, max_age=settings.SESSION_COOKIE_AGE)
    return [reference for reference in value.split(",") if reference]


def grant(http_request: HttpRequest, response: HttpResponse, reference: str) -> HttpResponse:
    references = [r for r in granted_references(http_request) if r != reference] + [reference]
    response.set_signed_cookie(
        COOKIE,
        ",".join(references[-MAX_REQUESTS:]),
        salt=SALT,
        max_age=settings.SESSION_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def revoke_all(response: HttpResponse) -> HttpResponse:
    """On an agent's sign-out: the next person at this browser must not see their cases."""
    response.delete_cookie(COOKIE, samesite="Lax")
    return response


def is_granted(http_request: HttpRequest, reference: str) -> bool:
    return reference in granted_references(http_request)
