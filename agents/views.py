"""Agent accounts (sign-up, two-step sign-in), their requests, and the data subject's confirmation page."""

import time
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dsar_portal import ratelimit
from dsar_portal.crypto import email_lookup_hash
from requests_app import services as request_services
from requests_app import status_access
from requests_app.forms import FORMS
from requests_app.models import Right

from . import selectors, services
from .dashboard import dashboard_notes
from .forms import (
    CodeForm,
    NewPasswordForm,
    PasswordResetRequestForm,
    ReauthenticationForm,
    SecondFactorForm,
    SignInForm,
    SignUpForm,
    agent_request_form,
)
from .models import Agent

PENDING_CONFIRMATION = "agent_pending_confirmation"
CONFIRMATION_SENT_AT = "agent_confirmation_sent_at"
PENDING_SECOND_FACTOR = "agent_pending_second_factor"
# The password the pending sign-in was checked against: a reset in between sends the person back to the start.
PENDING_AUTH_HASH = "agent_pending_auth_hash"
PASSWORD_RESET_LINK = "agent_password_reset_link"
SECOND_FACTOR_DONE = "agent_second_factor_done"
NEW_TOTP_SECRET = "agent_new_totp_secret"
# When the agent last typed their password (and second factor) again: changing the second factor needs it recent.
REAUTHENTICATED_AT = "agent_reauthenticated_at"
REAUTHENTICATION_SECONDS = 10 * 60

WRONG_CODE = gettext_lazy("That code is not right, or it has expired.")
TOO_MANY_WAIT = gettext_lazy("Too many attempts. Please wait 15 minutes and try again.")


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
            http_request.session[CONFIRMATION_SENT_AT] = time.time()
            return redirect("agents:confirm_email")
    return render(http_request, "agents/sign_up.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def confirm_email(http_request: HttpRequest) -> HttpResponse:
    form = CodeForm(http_request.POST or None)
    if http_request.method == "POST" and form.is_valid():
        agent = Agent.objects.filter(pk=http_request.session.get(PENDING_CONFIRMATION) or 0).first()
        if not ratelimit.allow("code_per_client", ratelimit.client_key(http_request)):
            form.add_error("code", TOO_MANY_WAIT)
        else:
            result = (
                services.agent_confirm_email(agent=agent, code=form.cleaned_data["code"])
                if agent is not None
                else services.CodeResult.REFUSED
            )
            if result is services.CodeResult.ACCEPTED:
                http_request.session.pop(PENDING_CONFIRMATION, None)
                messages.success(http_request, _("Your e-mail address is confirmed. Please sign in."))
                return redirect("agents:sign_in")
            if result is services.CodeResult.TOO_MANY_ATTEMPTS:
                form.add_error("code", _("Too many wrong tries: this code no longer works. Ask for a new code below."))
            else:
                form.add_error(
                    "code", _("That code is not right, or it has expired. You can ask for a new code below.")
                )
    return render(http_request, "agents/confirm_email.html", {"form": form}, status=400 if form.errors else 200)


@require_POST
def confirm_email_resend(http_request: HttpRequest) -> HttpResponse:
    """A new confirmation code for the address this browser is confirming.

    The answer is the same whether the browser holds a new account or a sign-up
    with an address that already had one (which has nothing to resend), and the
    wait between codes is kept per browser as well as per account, so the
    answer's timing gives nothing away either.
    """
    if PENDING_CONFIRMATION not in http_request.session:
        messages.info(http_request, _("To get a new code, sign in with your e-mail address and password."))
        return redirect("agents:sign_in")
    wait = settings.DSAR_EMAIL_CODE_RESEND_SECONDS
    if not ratelimit.allow("account_email_per_client", ratelimit.client_key(http_request)):
        messages.error(http_request, _("Too many attempts. Please wait an hour and try again."))
    elif time.time() - http_request.session.get(CONFIRMATION_SENT_AT, 0) < wait:
        messages.info(http_request, _("Please wait a minute before asking for another code."))
    else:
        http_request.session[CONFIRMATION_SENT_AT] = time.time()
        agent = Agent.objects.filter(pk=http_request.session[PENDING_CONFIRMATION] or 0).first()
        if agent is not None:
            services.agent_resend_confirmation(agent=agent)
        messages.success(http_request, _("We have sent you a new code. It works for 15 minutes."))
    return redirect("agents:confirm_email")


@require_http_methods(["GET", "POST"])
def sign_in(http_request: HttpRequest) -> HttpResponse:
    form = SignInForm(http_request.POST or None)
    if http_request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        hits = [
            ("code_per_client", ratelimit.client_key(http_request)),
            # Per account too, so guesses spread over many clients still stop; the same message either way.
            ("password_per_account", services.sign_in_account_key(email)),
        ]
        if not ratelimit.allow_all(hits):
            form.add_error(None, TOO_MANY_WAIT)
        else:
            user = authenticate(http_request, username=email_lookup_hash(email), password=form.cleaned_data["password"])
            agent = getattr(user, "agent", None) if user else None
            if agent is not None and agent.email_confirmed_at is None:
                # They know the password, so they may learn the address is unconfirmed: a new code, not a dead end.
                http_request.session.cycle_key()
                http_request.session[PENDING_CONFIRMATION] = agent.pk
                http_request.session[CONFIRMATION_SENT_AT] = time.time()
                services.agent_resend_confirmation(agent=agent)
                messages.info(
                    http_request,
                    _("Your e-mail address is not confirmed yet. We have e-mailed you a code: enter it here."),
                )
                return redirect("agents:confirm_email")
            if agent is not None:
                http_request.session.cycle_key()
                http_request.session[PENDING_SECOND_FACTOR] = agent.pk
                http_request.session[PENDING_AUTH_HASH] = agent.user.get_session_auth_hash()
                services.agent_second_factor_start(agent=agent)
                return redirect("agents:second_factor")
            # One message for every failure: unknown address or wrong password.
            form.add_error(None, _("The e-mail address or password is not right."))
    return render(http_request, "agents/sign_in.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def second_factor(http_request: HttpRequest) -> HttpResponse:
    agent = Agent.objects.select_related("user").filter(pk=http_request.session.get(PENDING_SECOND_FACTOR) or 0).first()
    if agent is None:
        return redirect("agents:sign_in")
    if not constant_time_compare(http_request.session.get(PENDING_AUTH_HASH, ""), agent.user.get_session_auth_hash()):
        # The password changed since this sign-in began (a reset): the old one proves nothing any more.
        http_request.session.pop(PENDING_SECOND_FACTOR, None)
        return redirect("agents:sign_in")
    form = SecondFactorForm(http_request.POST or None, accepts_recovery_code=agent.uses_authenticator)
    if http_request.method == "POST" and form.is_valid():
        if not ratelimit.allow("code_per_request", f"agent:{agent.pk}"):
            form.add_error("code", TOO_MANY_WAIT)
        else:
            result = services.agent_second_factor_check(agent=agent, code=form.cleaned_data["code"])
            if result is services.CodeResult.ACCEPTED:
                login(http_request, agent.user, backend="django.contrib.auth.backends.ModelBackend")
                http_request.session[SECOND_FACTOR_DONE] = True
                return redirect("agents:dashboard")
            if result is services.CodeResult.TOO_MANY_ATTEMPTS:
                form.add_error(
                    "code",
                    _("Too many wrong tries: this code no longer works. Sign in again and we will send a new one."),
                )
            else:
                form.add_error("code", WRONG_CODE)
    return render(
        http_request,
        "agents/second_factor.html",
        {"form": form, "uses_authenticator": agent.uses_authenticator},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def password_reset(http_request: HttpRequest) -> HttpResponse:
    """Ask for a link to choose a new password; the same answer whether or not the address has an account."""
    form = PasswordResetRequestForm(http_request.POST or None)
    if http_request.method == "POST" and form.is_valid():
        if not ratelimit.allow("account_email_per_client", ratelimit.client_key(http_request)):
            form.add_error(None, _("Too many attempts. Please wait an hour and try again."))
        else:
            services.agent_password_reset_request(email=form.cleaned_data["email"])
            return redirect("agents:password_reset_sent")
    return render(http_request, "agents/password_reset.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
def password_reset_sent(http_request: HttpRequest) -> HttpResponse:
    return render(http_request, "agents/password_reset_sent.html")


@never_cache
@require_GET
def password_reset_link(http_request: HttpRequest, token: str) -> HttpResponse:
    """The link from the e-mail: remember which reset this browser is doing, then leave the token's URL.

    The session keeps the link's ID, not its token, and the next page's address
    carries no secret to leak through history or a shared screen.
    """
    code_id = services.agent_password_reset_link_check(token=token)
    if code_id is None:
        return render(http_request, "agents/password_reset_invalid.html", status=404)
    http_request.session[PASSWORD_RESET_LINK] = code_id
    return redirect("agents:password_reset_new")


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def password_reset_new(http_request: HttpRequest) -> HttpResponse:
    """Choose the new password. The second factor is untouched and the person is not signed in."""
    code_id = http_request.session.get(PASSWORD_RESET_LINK)
    agent = services.agent_password_reset_link_agent(code_id=code_id) if code_id else None
    if agent is None:
        http_request.session.pop(PASSWORD_RESET_LINK, None)
        return render(http_request, "agents/password_reset_invalid.html", status=404)
    form = NewPasswordForm(agent, http_request.POST or None)
    if http_request.method == "POST" and form.is_valid():
        changed = services.agent_password_reset_complete(code_id=code_id, password=form.cleaned_data["new_password1"])
        # Whoever this browser was signed in as, it starts again from the sign-in page.
        logout(http_request)
        if changed is None:
            return render(http_request, "agents/password_reset_invalid.html", status=404)
        messages.success(http_request, _("Your password has been changed. Sign in with it."))
        return status_access.revoke_all(http_request, redirect("agents:sign_in"))
    return render(http_request, "agents/password_reset_new.html", {"form": form}, status=400 if form.errors else 200)


@require_POST
def sign_out(http_request: HttpRequest) -> HttpResponse:
    # Pending notices name the agent's cases: they must not greet whoever uses the browser next.
    list(messages.get_messages(http_request))
    logout(http_request)
    return status_access.revoke_all(http_request, redirect("agents:sign_in"))


@agent_required
def dashboard(http_request: HttpRequest, agent: Agent) -> HttpResponse:
    requests = list(selectors.agent_requests(agent=agent))
    notes = dashboard_notes(requests)
    for request in requests:
        request.dashboard_notes = notes.get(request.pk, [])
    return render(
        http_request,
        "agents/dashboard.html",
        {
            "agent": agent,
            "requests": requests,
            "rights": Right,
            "recovery_codes_left": selectors.recovery_codes_left(agent=agent),
        },
    )


@agent_required
@require_http_methods(["GET", "POST"])
def request_create(http_request: HttpRequest, agent: Agent, right: str) -> HttpResponse:
    if right not in FORMS:
        raise Http404
    form_class = agent_request_form(right)
    form = form_class(http_request.POST or None, http_request.FILES or None)
    limited = http_request.method == "POST" and form.is_valid() and not _filing_allowed(http_request, agent)
    if limited:
        # The form comes back as typed: only the chosen file must be chosen again (the page says so).
        form.add_error(
            None,
            _(
                "You have filed as many requests as we accept in a short time. Please send this one again later "
                "(within a day at most): what you typed is kept below."
            ),
        )
    if http_request.method == "POST" and form.is_valid():
        request = services.request_submit_by_agent(
            agent=agent,
            submission=request_services.Submission(
                right=right,
                requester_role="agent",
                name=agent.full_name,
                email=agent.email,
                identifiers=form.identifiers(),
                details=form.details(),
                description=form.cleaned_data.get("description", ""),
            ),
            authority_document=form.cleaned_data["authority_document"],
            child=form.child(),
        )
        messages.success(http_request, _("Request %(ref)s filed.") % {"ref": request.reference})
        return redirect("agents:dashboard")
    return render(
        http_request,
        "agents/request_form.html",
        {"form": form, "right": Right(right), "file_was_chosen": bool(http_request.FILES)},
        status=429 if limited else 400 if form.errors else 200,
    )


def _filing_allowed(http_request: HttpRequest, agent: Agent) -> bool:
    """Each filing may e-mail the person it names, someone who never asked us for anything: a limit per account
    and per client keeps the portal from relaying an agent's mail to strangers."""
    return ratelimit.allow_all(
        [
            ("agent_filing_per_account", f"agent:{agent.pk}"),
            ("agent_filing_per_client", ratelimit.client_key(http_request)),
        ]
    )


@agent_required
def request_open(http_request: HttpRequest, agent: Agent, reference: str) -> HttpResponse:
    """Open the request's status page, only for the agent who filed it."""
    request = selectors.agent_requests(agent=agent).filter(reference=reference).first()
    if request is None:
        raise Http404
    response = redirect("requests_app:status_detail", reference=reference)
    return status_access.grant(http_request, response, request)


def _recently_reauthenticated(http_request: HttpRequest) -> bool:
    return time.time() - http_request.session.get(REAUTHENTICATED_AT, 0) < REAUTHENTICATION_SECONDS


@never_cache
@sensitive_post_parameters("password", "code")
@agent_required
@require_http_methods(["GET", "POST"])
def reauthenticate(http_request: HttpRequest, agent: Agent) -> HttpResponse:
    """Type the password (and the current authenticator's code) again before changing the second factor."""
    form = ReauthenticationForm(http_request.POST or None, uses_authenticator=agent.uses_authenticator)
    if http_request.method == "POST" and form.is_valid():
        # The same limits as signing in: a session left open is no shortcut to guessing the password.
        hits = [("code_per_request", f"agent:{agent.pk}"), ("password_per_account", agent.user.username)]
        if not ratelimit.allow_all(hits):
            form.add_error(None, TOO_MANY_WAIT)
        elif services.agent_reauthenticate(
            agent=agent, password=form.cleaned_data["password"], code=form.cleaned_data.get("code", "")
        ):
            http_request.session[REAUTHENTICATED_AT] = time.time()
            return redirect("agents:security")
        else:
            form.add_error(None, _("The password or code is not right."))
    return render(
        http_request,
        "agents/reauthenticate.html",
        {"form": form, "uses_authenticator": agent.uses_authenticator},
        status=400 if form.errors else 200,
    )


def _recovery_codes_page(http_request: HttpRequest, codes: list[str], *, heading: str) -> HttpResponse:
    # Shown this once, straight from the POST: only their hashes are kept, and the page is never cached.
    return render(http_request, "agents/recovery_codes.html", {"codes": codes, "heading": heading})


@never_cache
@agent_required
@require_http_methods(["GET", "POST"])
def security(http_request: HttpRequest, agent: Agent) -> HttpResponse:
    """Turn on (or replace) the authenticator app and see the recovery codes left, after signing in again."""
    if not _recently_reauthenticated(http_request):
        return redirect("agents:reauthenticate")
    secret = http_request.session.get(NEW_TOTP_SECRET) or services.totp_new_secret()
    http_request.session[NEW_TOTP_SECRET] = secret
    form = CodeForm(http_request.POST or None)
    if http_request.method == "POST" and form.is_valid():
        codes = services.agent_enable_authenticator(agent=agent, secret=secret, code=form.cleaned_data["code"])
        if codes is not None:
            http_request.session.pop(NEW_TOTP_SECRET, None)
            return _recovery_codes_page(http_request, codes, heading=_("Your authenticator app is set up"))
        form.add_error("code", _("That code is not right. Check the time on your phone and try again."))
    uri = services.totp_provisioning_uri(agent=agent, secret=secret)
    return render(
        http_request,
        "agents/security.html",
        {
            "form": form,
            "secret": secret,
            "qr_svg": selectors.qr_svg(uri),
            "agent": agent,
            "recovery_codes_left": selectors.recovery_codes_left(agent=agent),
        },
        status=400 if form.errors else 200,
    )


@never_cache
@agent_required
@require_POST
def recovery_codes_new(http_request: HttpRequest, agent: Agent) -> HttpResponse:
    """New recovery codes (the old ones stop working), after signing in again."""
    if not agent.uses_authenticator:
        return redirect("agents:security")
    if not _recently_reauthenticated(http_request):
        return redirect("agents:reauthenticate")
    codes = services.agent_recovery_codes_regenerate(agent=agent)
    return _recovery_codes_page(http_request, codes, heading=_("Your new recovery codes"))
