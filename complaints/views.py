"""The public complaint form and its acknowledgement page (UK DPA 2018 s.164A(2))."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from dsar_portal import ratelimit
from dsar_portal.crypto import email_lookup_hash

from . import services
from .forms import ComplaintForm

# The reference of the complaint this browser just made, shown once on the acknowledgement page: the page's URL
# carries no reference, so it says nothing about references typed into it.
SESSION_KEY = "complaint_received_reference"


@require_http_methods(["GET", "POST"])
def complaint_create(http_request: HttpRequest) -> HttpResponse:
    form = ComplaintForm(http_request.POST or None)
    limited = False
    if http_request.method == "POST" and form.is_valid():
        # Only a complaint that would be stored counts: correcting mistakes never locks anyone out.
        limited = not ratelimit.allow_all(
            [
                ("complaint_per_client", ratelimit.client_key(http_request)),
                ("complaint_per_email", email_lookup_hash(form.cleaned_data["email"])),
            ]
        )
        if limited:
            form.add_error(
                None,
                _(
                    "We have received a lot of complaints from you in a short time. "
                    "Please wait an hour and try again, or write to us at the address below."
                ),
            )
        else:
            complaint = services.complaint_submit(
                submission=services.ComplaintSubmission(
                    name=form.cleaned_data["name"],
                    email=form.cleaned_data["email"],
                    text=form.cleaned_data["text"],
                    request_reference=form.cleaned_data["request_reference"],
                )
            )
            http_request.session[SESSION_KEY] = complaint.reference
            return redirect("complaints:complaint_received")
    status = (429 if limited else 400) if form.errors else 200
    return render(http_request, "complaints/complaint_form.html", {"form": form}, status=status)


def complaint_received(http_request: HttpRequest) -> HttpResponse:
    reference = http_request.session.get(SESSION_KEY)
    if reference is None:
        return redirect("complaints:complaint_create")
    return render(http_request, "complaints/complaint_received.html", {"reference": reference})
