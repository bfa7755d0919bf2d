"""Which requests' status pages this browser may open: grants the server can end, named in a signed cookie.

A grant is made when the person files a request, when an agent opens a request they filed (signed in with a
second factor), and when a status link from an e-mail is followed. Each grant is a ``StatusGrant`` row holding
the keyed hash of a random token; the browser's HttpOnly cookie, signed with the secret key, holds
``reference:token`` pairs. A status page opens only if the cookie's signature is good, its token for that
reference matches a live grant of that very request, and the grant is neither revoked nor expired: one indexed
query (the token hash is unique), which also loads the request. A forged cookie fails the signature; a token
moved to another reference matches no grant of that request; a copied cookie works only while its grants live.

When grants end, and why:

- After a session's length (``SESSION_COOKIE_AGE``), as the cookie itself does.
- At an agent's sign-out (and a password reset) every grant this browser holds is revoked on the server, so a
  copy of the cookie taken earlier opens nothing: the next person at a shared computer, or whoever copied the
  cookie, must not see the agent's cases.
- When the request ends (completed, refused, withdrawn, closed unconfirmed; ``workflow.TERMINAL_STATUSES``),
  every grant made before the end is shortened to at most ``AFTER_THE_END`` (an hour). The person who just
  withdrew keeps reading the confirmation for a while; an old or copied cookie stops opening a finished case
  within the hour. New access to an ended request comes only from proof of control again: a fresh link from
  one of our e-mails (every closing message carries one) or the agent's own signed-in dashboard, so closure
  never locks the person out of reading their final answer. This runs inside ``workflow.transition``, in the
  same transaction as the move, rather than from the ``request_status_changed`` event after the commit: the
  shortening commits with the move or not at all, and no service can forget it.

Dead grants (expired or revoked) are deleted by a daily job (``grants_purge``).
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from dsar_portal.onetime import new_link_token, secret_hash

from .models import DataSubjectRequest, StatusGrant

COOKIE = "dsar_status"
SALT = "requests_app.status_access"
MAX_REQUESTS = 20
AFTER_THE_END = timedelta(hours=1)


def _token_hash(token: str) -> str:
    return secret_hash(token, purpose=StatusGrant.TOKEN_PURPOSE)


def _cookie_grants(http_request: HttpRequest) -> dict[str, str]:
    """reference -> token, from this browser's cookie if its signature is good (oldest first)."""
    value = http_request.get_signed_cookie(COOKIE, default="", salt=SALT, max_age=settings.SESSION_COOKIE_AGE)
    grants = {}
    for item in value.split(","):
        reference, _, token = item.partition(":")
        if reference and token:
            grants[reference] = token
    return grants


def _revoke(tokens: list[str], now) -> int:
    if not tokens:
        return 0
    hashes = [_token_hash(token) for token in tokens]
    return StatusGrant.objects.filter(token_hash__in=hashes, revoked_at=None).update(revoked_at=now)


def granted_request(http_request: HttpRequest, reference: str) -> DataSubjectRequest | None:
    """The request behind ``reference`` if this browser holds a live grant for it, else None."""
    token = _cookie_grants(http_request).get(reference)
    if token is None:
        return None
    grant = (
        StatusGrant.objects.select_related("request")
        .filter(
            token_hash=_token_hash(token),
            request__reference=reference,
            revoked_at=None,
            expires_at__gt=timezone.now(),
        )
        .first()
    )
    return grant.request if grant else None


def grant(http_request: HttpRequest, response: HttpResponse, request: DataSubjectRequest) -> HttpResponse:
    """Let this browser open ``request``'s status page: a new grant, its token added to the cookie.

    A grant this browser held for the same request before, or one pushed out of the cookie by the
    ``MAX_REQUESTS`` limit, is revoked: no live grant is left that no cookie of ours names.
    """
    now = timezone.now()
    token = new_link_token()
    StatusGrant.objects.create(
        request=request,
        token_hash=_token_hash(token),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.SESSION_COOKIE_AGE),
    )
    grants = _cookie_grants(http_request)
    replaced = [grants.pop(request.reference)] if request.reference in grants else []
    grants[request.reference] = token
    entries = list(grants.items())
    replaced += [old for _, old in entries[:-MAX_REQUESTS]]
    _revoke(replaced, now)
    response.set_signed_cookie(
        COOKIE,
        ",".join(f"{reference}:{value}" for reference, value in entries[-MAX_REQUESTS:]),
        salt=SALT,
        max_age=settings.SESSION_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def revoke_all(http_request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """On an agent's sign-out: end this browser's grants on the server and forget the cookie.

    The next person at this browser, or anyone holding a copy of the cookie, must not see these cases.
    """
    _revoke(list(_cookie_grants(http_request).values()), timezone.now())
    response.delete_cookie(COOKIE, samesite="Lax")
    return response


def grants_end_soon(*, request_id: int, now=None) -> int:
    """The request has ended: its grants live at most ``AFTER_THE_END`` longer. Returns how many were shortened.

    Called by ``workflow.transition`` inside the move's transaction (see the module docstring for why).
    """
    cutoff = (now or timezone.now()) + AFTER_THE_END
    return StatusGrant.objects.filter(request_id=request_id, revoked_at=None, expires_at__gt=cutoff).update(
        expires_at=cutoff
    )


def grants_purge(*, now=None) -> int:
    """Delete grants that can no longer open anything (expired or revoked). Safe to run any number of times."""
    now = now or timezone.now()
    deleted, _ = StatusGrant.objects.filter(Q(expires_at__lte=now) | Q(revoked_at__isnull=False)).delete()
    return deleted
