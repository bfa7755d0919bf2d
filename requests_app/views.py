"""Public pages: start, request forms, and the account-free status page.

Views scope the data, validate shape, call one service and turn its answer
into a message. The status page is opened by a random link (stored only as a
hash); the link is exchanged for a session at once, so the token appears in
one URL only and the page's own URL carries only the reference.
"""

import logging

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dsar_portal import ratelimit
from dsar_portal.crypto import email_lookup_hash

from . import selectors, services, status_access
from .forms import (
    FORMS,
    ClarificationReplyForm,
    LostLinkForm,
    WithdrawForm,
)
from .models import Right
from .status_page import UPLOADS_LIMITED, render_status_page, request_for_browser, upload_allowed

logger = logging.getLogger(__name__)


def start(http_request: HttpRequest) -> HttpResponse:
    return render(http_request, "requests_app/start.html", {"rights": Right})


@require_http_methods(["GET", "POST"])
def request_create(http_request: HttpRequest, right: str) -> HttpResponse:
    form_class = FORMS.get(right)
    if form_class is None:
        raise Http404
    limited = False
    if http_request.method == "POST":
        client_hit = ("submit_per_client", ratelimit.client_key(http_request))
        if http_request.FILES:
            # Checking a document costs a parse, so every upload counts, refused or not, and none is parsed once
            # the client is over its limit (the form keeps what they typed and asks them to wait).
            limited = not ratelimit.allow(*client_hit)
            form = form_class(http_request.POST, None if limited else http_request.FILES)
            hits = []  # this client is counted already
        else:
            # Without a file, only a submission that would file a request counts: correcting mistakes never locks
            # anyone out.
            form = form_class(http_request.POST)
            limited = False
            hits = [client_hit]
        if not limited and form.is_valid():
            limited = not ratelimit.allow_all(
                [*hits, ("submit_per_email", email_lookup_hash(form.cleaned_data["email"]))]
            )
        if limited:
            form.add_error(
                None,
                _(
                    "We have received a lot of requests from you in a short time. "
                    "Please wait an hour and try again, or write to us at the address below."
                ),
            )
        elif form.is_valid():
            request = services.request_submit(
                submission=services.Submission(
                    right=form.right,
                    requester_role=form.cleaned_data["requester_role"],
                    name=form.cleaned_data["name"],
                    email=form.cleaned_data["email"],
                    identifiers=form.identifiers(),
                    details=form.details(),
                    description=form.cleaned_data.get("description", ""),
                ),
                supporting_document=form.uploaded_document(),
            )
            response = redirect("requests_app:status_detail", reference=request.reference)
            return status_access.grant(http_request, response, request)
    else:
        form = form_class()
    return render(
        http_request,
        "requests_app/request_form.html",
        {
            "form": form,
            "multipart": form.is_multipart(),
            "right": Right(right),
            "file_was_chosen": bool(http_request.FILES),
        },
        status=(429 if limited else 400) if http_request.method == "POST" else 200,
    )


def status_link(http_request: HttpRequest, token: str) -> HttpResponse:
    request = selectors.request_for_status_token(token=token)
    if request is None:
        return render(http_request, "requests_app/status_link_invalid.html", status=404)
    response = redirect("requests_app:status_detail", reference=request.reference)
    return status_access.grant(http_request, response, request)


def status_detail(http_request: HttpRequest, reference: str) -> HttpResponse:
    request = request_for_browser(http_request, reference)
    return render_status_page(http_request, request)


@require_POST
def status_resend_code(http_request: HttpRequest, reference: str) -> HttpResponse:
    request = request_for_browser(http_request, reference)
    if services.request_resend_confirmation(request=request):
        messages.success(http_request, _("We have sent you a new code."))
    else:
        messages.info(http_request, _("Please wait a minute before asking for another code."))
    return redirect("requests_app:status_detail", reference=reference)


@require_POST
def status_reply(http_request: HttpRequest, reference: str) -> HttpResponse:
    request = request_for_browser(http_request, reference)
    if not upload_allowed(http_request, request):
        form = ClarificationReplyForm(http_request.POST)
        form.add_error(None, UPLOADS_LIMITED)
        return render_status_page(http_request, request, status=429, reply_form=form)
    form = ClarificationReplyForm(http_request.POST, http_request.FILES)
    if form.is_valid():
        try:
            services.request_clarification_answer(
                request=request, answer=form.cleaned_data["answer"], document=form.cleaned_data.get("document")
            )
        except services.RequestError as error:
            # Shown through messages: the reply form (and its errors) is only on the page while we wait for one.
            messages.error(http_request, str(error))
        else:
            messages.success(http_request, _("Thank you. We have your reply and will carry on with your request."))
            return redirect("requests_app:status_detail", reference=reference)
    return render_status_page(http_request, request, status=400, reply_form=form)


@require_http_methods(["GET", "POST"])
def status_withdraw(http_request: HttpRequest, reference: str) -> HttpResponse:
    request = request_for_browser(http_request, reference)
    if not request.is_open:
        return redirect("requests_app:status_detail", reference=reference)
    form = WithdrawForm(http_request.POST or None)
    if http_request.method == "POST" and form.is_valid():
        try:
            services.request_withdraw(request=request, reason=form.cleaned_data["reason"])
        except services.RequestError as error:
            # We closed or decided the request a moment before: say so rather than fail.
            messages.error(http_request, str(error))
        else:
            messages.success(http_request, _("Your request has been withdrawn."))
        return redirect("requests_app:status_detail", reference=reference)
    return render(http_request, "requests_app/status_withdraw.html", {"request_obj": request, "form": form})


@require_http_methods(["GET", "POST"])
def status_lost_link(http_request: HttpRequest) -> HttpResponse:
    form = LostLinkForm(http_request.POST or None)
    if http_request.method == "POST" and form.is_valid():
        if not ratelimit.allow("link_resend_per_client", ratelimit.client_key(http_request)):
            form.add_error(None, _("Too many attempts. Please wait an hour and try again."))
        else:
            services.status_link_resend(reference=form.cleaned_data["reference"], email=form.cleaned_data["email"])
            # The same answer whether or not anything matched.
            return redirect(reverse("requests_app:status_lost_link_sent"))
    return render(
        http_request, "requests_app/status_lost_link.html", {"form": form}, status=400 if form.errors else 200
    )


def status_lost_link_sent(http_request: HttpRequest) -> HttpResponse:
    return render(http_request, "requests_app/status_lost_link_sent.html")
