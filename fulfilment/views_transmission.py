"""Direct transmission to another controller on the staff pages (GDPR Art. 20(2)): the feasibility decision on the
case page of a portability request asking for it, and the register of receiving controllers' endpoints (the DPO's).

Every view checks the object: a case through ``casework.selectors.requests_visible_to``, and acting on it needs the
permission to act; the register needs ``fulfilment.manage_transmission_endpoints`` (the DPO's). The endpoint's
secret is shown once, on the page answering its creation or rotation, never again.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casework import selectors as casework_selectors
from casework.views import case_page, staff_area
from requests_app.lifecycle import IllegalTransition
from requests_app.scope import scope_of

from . import transmission as services
from .forms import EndpointForm, TransmissionDecisionForm
from .models import ReceivingEndpoint, Transmission

MANAGE_ENDPOINTS = "fulfilment.manage_transmission_endpoints"


def transmission_panel(http_request: HttpRequest, request) -> dict | None:
    """The direct-transmission panel of a case page (``request`` already scoped to the user): what the person asked
    for, the decision, every attempt; the decision form for staff who may act. None unless the person asked."""
    if not services.transmission_wanted(request):
        return None
    transmission = Transmission.objects.select_related("endpoint", "decided_by").filter(request=request).first()
    can_act = http_request.user.has_perm(casework_selectors.ACT)
    initial = {}
    if transmission is not None:
        initial = {
            "feasible": "yes" if transmission.feasible else "no",
            "endpoint": transmission.endpoint_id,
            "reason": transmission.reason,
        }
    return {
        "scope": scope_of(request),
        "transmission": transmission,
        "attempts": list(transmission.attempt_rows.all()) if transmission else [],
        "reference": request.reference,
        "can_act": can_act,
        "form": (getattr(http_request, "transmission_form", None) or TransmissionDecisionForm(initial=initial))
        if can_act
        else None,
        "may_decide": transmission is None or transmission.status not in ("sending", "sent"),
    }


def _case(http_request: HttpRequest, reference: str):
    user = http_request.user
    if not user.has_perm(casework_selectors.ACT):
        raise PermissionDenied
    return get_object_or_404(casework_selectors.requests_visible_to(user), reference=reference)


@require_POST
@staff_area
def transmission_decide(http_request: HttpRequest, reference: str) -> HttpResponse:
    """Record the feasibility decision (Art. 20(2)); errors come back on the case page with what was typed."""
    request = _case(http_request, reference)
    form = TransmissionDecisionForm(http_request.POST)
    if form.is_valid():
        try:
            services.transmission_decide(
                request=request,
                feasible=form.cleaned_data["feasible"],
                reason=form.cleaned_data["reason"],
                endpoint=form.cleaned_data["endpoint"],
                actor=http_request.user,
            )
        except (services.TransmissionError, IllegalTransition) as error:
            message = str(error) if isinstance(error, services.TransmissionError) else ""
            form.add_error(None, message or _("The transmission moved on meanwhile: look at the case again."))
        else:
            messages.success(http_request, _("The decision on direct transmission was recorded."))
            return redirect("casework:request_detail", reference=request.reference)
    # The case page again, with this form's errors and what was typed in the panel (casework knows no panel's form).
    http_request.transmission_form = form
    return case_page(http_request, request, status=400)


@require_POST
@staff_area
def transmission_retry(http_request: HttpRequest, reference: str) -> HttpResponse:
    request = _case(http_request, reference)
    transmission = get_object_or_404(Transmission.objects.select_related("endpoint"), request=request)
    try:
        changed = services.transmission_retry(transmission=transmission, actor=http_request.user)
    except services.TransmissionError as error:
        messages.error(http_request, str(error))
    except IllegalTransition:
        messages.error(http_request, _("This transmission is no longer failed: it was retried already or sent."))
    else:
        if changed:
            messages.success(http_request, _("Sending to the receiving controller was queued again."))
        else:
            messages.info(http_request, _("Sending was queued again already."))
    return redirect("casework:request_detail", reference=request.reference)


# --- The register of endpoints -------------------------------------------------------------------------------------


def endpoint_manager(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(http_request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not http_request.user.has_perm(MANAGE_ENDPOINTS):
            raise PermissionDenied
        return view(http_request, *args, **kwargs)

    return staff_area(wrapped)


@require_GET
@endpoint_manager
def endpoint_list(http_request: HttpRequest) -> HttpResponse:
    endpoints = ReceivingEndpoint.objects.select_related("verified_by")
    return render(http_request, "fulfilment/transmission_endpoints.html", {"endpoints": endpoints, "nav": "endpoints"})


@require_http_methods(["GET", "POST"])
@endpoint_manager
def endpoint_new(http_request: HttpRequest) -> HttpResponse:
    form = EndpointForm(http_request.POST or None)
    if http_request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        endpoint = services.endpoint_create(
            controller_name=data["controller_name"], contact=data["contact"], url=data["url"], actor=http_request.user
        )
        # Shown once, on this page (not after a redirect, which would keep it in the session's messages).
        return _secret_page(http_request, endpoint, endpoint.secret)
    status = 400 if http_request.method == "POST" else 200
    return render(
        http_request, "fulfilment/transmission_endpoint_form.html", {"form": form, "nav": "endpoints"}, status=status
    )


def _secret_page(http_request: HttpRequest, endpoint: ReceivingEndpoint, secret: str) -> HttpResponse:
    response = render(
        http_request,
        "fulfilment/transmission_endpoint_secret.html",
        {"endpoint": endpoint, "secret": secret, "nav": "endpoints"},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@endpoint_manager
def endpoint_detail(http_request: HttpRequest, public_id) -> HttpResponse:
    endpoint = get_object_or_404(ReceivingEndpoint.objects.select_related("verified_by"), public_id=public_id)
    initial = {
        "controller_name": endpoint.controller_name,
        "contact": endpoint.contact,
        "url": endpoint.url,
        "active": endpoint.active,
    }
    form = EndpointForm(http_request.POST or None, initial=initial)
    if http_request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.endpoint_update(
            endpoint=endpoint,
            controller_name=data["controller_name"],
            contact=data["contact"],
            url=data["url"],
            active=data["active"],
        )
        messages.success(http_request, _("The endpoint was saved."))
        return redirect("transmission:endpoint_detail", public_id=endpoint.public_id)
    status = 400 if http_request.method == "POST" else 200
    return render(
        http_request,
        "fulfilment/transmission_endpoint_form.html",
        {"form": form, "endpoint": endpoint, "nav": "endpoints"},
        status=status,
    )


@require_POST
@endpoint_manager
def endpoint_verify(http_request: HttpRequest, public_id) -> HttpResponse:
    endpoint = get_object_or_404(ReceivingEndpoint, public_id=public_id)
    try:
        services.endpoint_verify(endpoint=endpoint, actor=http_request.user)
    except services.TransmissionError as error:
        messages.error(http_request, _("The endpoint was not verified: %(problem)s") % {"problem": error})
    else:
        messages.success(http_request, _("The endpoint answered the signed challenge: it is verified."))
    return redirect("transmission:endpoint_detail", public_id=endpoint.public_id)


@require_POST
@endpoint_manager
def endpoint_rotate(http_request: HttpRequest, public_id) -> HttpResponse:
    endpoint = get_object_or_404(ReceivingEndpoint, public_id=public_id)
    secret = services.endpoint_secret_rotate(endpoint=endpoint)
    return _secret_page(http_request, endpoint, secret)
