"""Agent accounts (sign-up, two-step sign-in), their requests, and the data subject's confirmation page."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dsar_portal import ratelimit
from dsar_portal.crypto import normalise_email
from requests_app import services as request_services
from requests_app import status_access
from requests_app.forms import FORMS
from requests_app.models import Right

from . import selectors, services
from .forms import CodeForm, SignInForm, SignUpForm, agent_request_form
from .models import Agent

PENDING_CONFIRMATION = "agent_pending_confirmation"
PENDING_SECOND_FACTOR = "agent_pending_second_factor"
SECOND_FACTOR_DONE = "agent_second_factor_done"
NEW_TOTP_SECRET = "agent_new_totp_secret"


def agent_required(view):
    """Signed in with password and second factor, as an agent."""

    @wraps(view)
    def wrapper(http_request: HttpRequest, *args, **kwargs):
        user = http_request.user
        if not user.is_authenticated or not hasattr(user, "agent") or not http_request.session.get(SECOND_FACTOR_DONE):
            return redirect("agents:sign_in")
        return view(http_request, user.agent, *args, **kwargs)

    return wrapper


@require_http_methods(["GET", "POST"])
def sign_up(http_request: HttpRequest) -> HttpResponse:
    form = SignUpForm(http_request.POST or None)
    if http_request.method == "POST" and form.is_valid():
        if not ratelimit.allow("submit_per_client", ratelimit.client_key(http_request)):
            form.add_error(None, _("Too many attempts. Please wait an hour and try again."))
        else:
            agent = services.agent_sign_up(**form.cleaned_data)
            # The same next page whether or not the address already had an account.
            http_request.session[PENDING_CONFIRMATION] = agent.pk if agent else None
            return redirect("agents:confirm_email")
    return render(http_request, "agents/sign_up.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def confirm_email(http_request: HttpRequest) -> HttpResponse:
    form = CodeForm(http_request.POST or None)
    if http_request.method == "POST" and form.is_valid():
        agent = Agent.objects.filter(pk=http_request.session.get(PENDING_CONFIRMATION) or 0).first()
        allowed = ratelimit.allow("code_per_client", ratelimit.client_key(http_request))
        if allowed and agent is not None and services.agent_confirm_email(agent=agent, code=form.cleaned_data["code"]):
            http_request.session.pop(PENDING_CONFIRMATION, None)
            messages.success(http_request, _("Your e-mail address is confirmed. Please sign in."))
            return redirect("agents:sign_in")
        form.add_error("code", _("That code is not right, or it has expired."))
    return render(http_request, "agents/confirm_email.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def sign_in(http_request: HttpRequest) -> HttpResponse:
    form = SignInForm(http_request.POST or None)
    if http_request.method == "POST" and form.is_valid():
        if not ratelimit.allow("code_per_client", ratelimit.client_key(http_request)):
            form.add_error(None, _("Too many attempts. Please wait 15 minutes and try again."))
        else:
            user = authenticate(
                http_request,
                username=normalise_email(form.cleaned_data["email"]),
                password=form.cleaned_data["password"],
            )
            agent = getattr(user, "agent", None) if user else None
            if agent is not None and agent.email_confirmed_at:
                http_request.session.cycle_key()
                http_request.session[PENDING_SECOND_FACTOR] = agent.pk
                services.agent_second_factor_start(agent=agent)
                return redirect("agents:second_factor")
            # One message for every failure: unknown address, wrong password, unconfirmed.
            form.add_error(None, _("The e-mail address or password is not right, or the address is not confirmed."))
    return render(http_request, "agents/sign_in.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def second_factor(http_request: HttpRequest) -> HttpResponse:
    agent = Agent.objects.select_related("user").filter(pk=http_request.session.get(PENDING_SECOND_FACTOR) or 0).first()
    if agent is None:
        return redirect("agents:sign_in")
    form = CodeForm(http_request.POST or None)
    if http_request.method == "POST" and form.is_valid():
        allowed = ratelimit.allow("code_per_request", f"agent:{agent.pk}")
        if allowed and services.agent_second_factor_check(agent=agent, code=form.cleaned_data["code"]):
            login(http_request, agent.user, backend="django.contrib.auth.backends.ModelBackend")
            http_request.session[SECOND_FACTOR_DONE] = True
            return redirect("agents:dashboard")
        form.add_error("code", _("That code is not right, or it has expired."))
    return render(
        http_request,
        "agents/second_factor.html",
        {"form": form, "uses_authenticator": agent.uses_authenticator},
        status=400 if form.errors else 200,
    )


@require_POST
def sign_out(http_request: HttpRequest) -> HttpResponse:
    # Pending notices name the agent's cases: they must not greet whoever uses the browser next.
    list(messages.get_messages(http_request))
    logout(http_request)
    return status_access.revoke_all(redirect("agents:sign_in"))


@agent_required
def dashboard(http_request: HttpRequest, agent: Agent) -> HttpResponse:
    return render(
        http_request,
        "agents/dashboard.html",
        {"agent": agent, "requests": selectors.agent_requests(agent=agent), "rights": Right},
    )


@agent_required
@require_http_methods(["GET", "POST"])
def request_create(http_request: HttpRequest, agent: Agent, right: str) -> HttpResponse:
    if right not in FORMS:
        raise Http404
    form_class = agent_request_form(right)
    form = form_class(http_request.POST or None, http_request.FILES or None)
    if http_request.method == "POST" and form.is_valid():
        request = services.request_submit_by_agent(
            agent=agent,
            submission=request_services.Submission(
                right=right,
                requester_role="agent",
                name=agent.full_name,
                email=agent.user.email,
                identifiers=form.identifiers(),
                details=form.details(),
                description=form.cleaned_data.get("description", ""),
            ),
            authority_document=form.cleaned_data["authority_document"],
            subject_email=form.cleaned_data.get("subject_email", ""),
        )
        messages.success(http_request, _("Request %(ref)s filed.") % {"ref": request.reference})
        return redirect("agents:dashboard")
    return render(
        http_request,
        "agents/request_form.html",
        {"form": form, "right": Right(right), "file_was_chosen": bool(http_request.FILES)},
        status=400 if form.errors else 200,
    )


@agent_required
def request_open(http_request: HttpRequest, agent: Agent, reference: str) -> HttpResponse:
    """Open the request's status page, only for the agent who filed it."""
    request = selectors.agent_requests(agent=agent).filter(reference=reference).first()
    if request is None:
        raise Http404
    response = redirect("requests_app:status_detail", reference=reference)
    return status_access.grant(http_request, response, reference)


@agent_required
@require_http_methods(["GET", "POST"])
def security(http_request: HttpRequest, agent: Agent) -> HttpResponse:
    """Switch the second factor to an authenticator app."""
    secret = http_request.session.get(NEW_TOTP_SECRET) or services.totp_new_secret()
    http_request.session[NEW_TOTP_SECRET] = secret
    form = CodeForm(http_request.POST or None)
    if http_request.method == "POST" and form.is_valid():
        if services.agent_enable_authenticator(agent=agent, secret=secret, code=form.cleaned_data["code"]):
            http_request.session.pop(NEW_TOTP_SECRET, None)
            messages.success(http_request, _("Your authenticator app is set up. You will use it to sign in."))
            return redirect("agents:dashboard")
        form.add_error("code", _("That code is not right. Check the time on your phone and try again."))
    uri = services.totp_provisioning_uri(agent=agent, secret=secret)
    return render(
        http_request,
        "agents/security.html",
        {"form": form, "secret": secret, "qr_svg": selectors.qr_svg(uri), "agent": agent},
        status=400 if form.errors else 200,
    )
