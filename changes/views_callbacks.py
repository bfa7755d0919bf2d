"""The public endpoint where an HTTP system posts the result of a change it accepted (``changes.callbacks``).

CSRF-exempt (a machine posts it; the signature authenticates it), POST only, rate-limited per client, and read up to
the HTTP connector's answer limit, never further (the same rules as a search's callback)."""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dsar_portal import ratelimit

from . import callbacks


def _body(http_request: HttpRequest, limit: int) -> bytes | None:
    length = http_request.META.get("CONTENT_LENGTH") or ""
    if length.isdigit() and int(length) > limit:
        return None
    body = http_request.read(limit + 1)
    return None if len(body) > limit else body


@csrf_exempt
@require_POST
def change_callback(http_request: HttpRequest, public_id: str) -> JsonResponse:
    if not ratelimit.allow("connector_callback_per_client", ratelimit.client_key(http_request)):
        return JsonResponse({"status": "rate_limited"}, status=429)
    body = _body(http_request, settings.DSAR_CONNECTOR_HTTP_MAX_BYTES)
    if body is None:
        return JsonResponse({"status": "too_large"}, status=413)
    result = callbacks.callback_receive(public_id=public_id, headers=http_request.headers, body=body)
    return JsonResponse(dict(result.body), status=result.status)
