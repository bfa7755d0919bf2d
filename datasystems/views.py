"""The register's staff pages (/staff/systems/) and the public privacy notice (/privacy-notice/).

The DPO edits (``datasystems.manage_register``); an auditor reads every system; a system owner reads the systems they
own. Every page reaches systems through ``selectors.systems_visible_to``: the role alone is not enough, the object is
checked too. Each small form (a purpose, a recipient, a transfer) posts on its own, so nothing needs JavaScript.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .forms import DataSystemForm, PublishForm, PurposeForm, RecipientForm, SystemRecipientForm, TransferForm
from .models import DataSystem, PrivacyNoticeVersion, Recipient
from .services import SYSTEM_FIELDS, RegisterError

MANAGE = selectors.MANAGE


def register_area(view: Callable) -> Callable:
    """Signed in (else to the sign-in page), then staff allowed into the register (else 403).

    Not casework's ``staff_area``: a system owner reads their systems here without being let into the queue.
    """

    @login_required
    @wraps(view)
    def wrapped(http_request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not selectors.may_use_register(http_request.user):
            raise PermissionDenied
        return view(http_request, *args, **kwargs)

    return wrapped


def manager_only(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(http_request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not http_request.user.has_perm(MANAGE):
            raise PermissionDenied
        return view(http_request, *args, **kwargs)

    return register_area(wrapped)


def _system(http_request: HttpRequest, system_id: int) -> DataSystem:
    return get_object_or_404(selectors.systems_visible_to(http_request.user), pk=system_id)


@require_GET
@register_area
def system_list(http_request: HttpRequest) -> HttpResponse:
    """The register: every system this member of staff may see (GDPR Art. 30(1))."""
    systems = selectors.systems_visible_to(http_request.user).prefetch_related("purposes")
    return render(
        http_request,
        "datasystems/system_list.html",
        {
            "nav": "systems",
            "systems": systems,
            "can_manage": http_request.user.has_perm(MANAGE),
            "latest_notice": selectors.notice_latest(),
        },
    )


@require_GET
@register_area
def system_detail(http_request: HttpRequest, system_id: int) -> HttpResponse:
    return _detail_page(http_request, _system(http_request, system_id))


def _detail_page(http_request: HttpRequest, system: DataSystem, status: int = 200, **bound) -> HttpResponse:
    """One system's page; for the DPO with the small forms that add to it (``bound``: one sent back with errors)."""
    can_manage = http_request.user.has_perm(MANAGE)
    forms = {}
    if can_manage:
        forms = {
            "purpose_form": bound.get("purpose_form") or PurposeForm(),
            "recipient_form": bound.get("recipient_form") or SystemRecipientForm(),
            "transfer_form": bound.get("transfer_form") or TransferForm(),
        }
    (disclosure,) = selectors.supplementary_information([system])
    return render(
        http_request,
        "datasystems/system_detail.html",
        {
            "nav": "systems",
            "system": system,
            "disclosure": disclosure,
            "change_rules": selectors.change_rules_described(system),
            "purposes": system.purposes.order_by("pk"),
            "links": system.disclosures.select_related("recipient"),
            "transfers": system.transfers.select_related("recipient"),
            "changes": system.changes.select_related("actor")[:20],
            "can_manage": can_manage,
            **forms,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@manager_only
def system_edit(http_request: HttpRequest, system_id: int | None = None) -> HttpResponse:
    """Add a system to the register, or change one."""
    system = _system(http_request, system_id) if system_id is not None else None
    # The form validates its own copy, so the page's heading keeps the system's saved name while errors are shown.
    form = DataSystemForm(
        http_request.POST if http_request.method == "POST" else None,
        instance=DataSystem.objects.get(pk=system.pk) if system else None,
    )
    if http_request.method == "POST" and form.is_valid():
        values = {field: form.cleaned_data[field] for field in SYSTEM_FIELDS if field in form.cleaned_data}
        try:
            saved = services.system_save(
                system=DataSystem.objects.get(pk=system.pk) if system else None,
                values=values,
                actor=http_request.user,
            )
        except RegisterError as error:
            form.add_error("name", str(error))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(http_request, _("'%(name)s' saved in the register.") % {"name": saved.name})
            return redirect("datasystems:system_detail", system_id=saved.pk)
    return render(
        http_request,
        "datasystems/system_form.html",
        {"nav": "systems", "form": form, "system": system},
        status=400 if form.is_bound else 200,
    )


@require_POST
@manager_only
def purpose_add(http_request: HttpRequest, system_id: int) -> HttpResponse:
    system = _system(http_request, system_id)
    form = PurposeForm(http_request.POST)
    if form.is_valid():
        services.purpose_add(system=system, values=form.cleaned_data, actor=http_request.user)
        messages.success(http_request, _("Purpose added."))
        return redirect("datasystems:system_detail", system_id=system.pk)
    return _detail_page(http_request, system, status=400, purpose_form=form)


@require_POST
@manager_only
def purpose_remove(http_request: HttpRequest, system_id: int, item_id: int) -> HttpResponse:
    system = _system(http_request, system_id)
    services.purpose_remove(system=system, purpose_id=item_id, actor=http_request.user)
    messages.success(http_request, _("Purpose removed."))
    return redirect("datasystems:system_detail", system_id=system.pk)


@require_POST
@manager_only
def recipient_link(http_request: HttpRequest, system_id: int) -> HttpResponse:
    system = _system(http_request, system_id)
    form = SystemRecipientForm(http_request.POST)
    if form.is_valid():
        services.system_recipient_link(
            system=system,
            recipient=form.cleaned_data["recipient"],
            disclosed=form.cleaned_data["disclosed"],
            actor=http_request.user,
        )
        messages.success(http_request, _("Recipient added."))
        return redirect("datasystems:system_detail", system_id=system.pk)
    return _detail_page(http_request, system, status=400, recipient_form=form)


@require_POST
@manager_only
def recipient_unlink(http_request: HttpRequest, system_id: int, item_id: int) -> HttpResponse:
    system = _system(http_request, system_id)
    services.system_recipient_unlink(system=system, link_id=item_id, actor=http_request.user)
    messages.success(http_request, _("Recipient removed from this system."))
    return redirect("datasystems:system_detail", system_id=system.pk)


@require_POST
@manager_only
def transfer_add(http_request: HttpRequest, system_id: int) -> HttpResponse:
    system = _system(http_request, system_id)
    form = TransferForm(http_request.POST)
    if form.is_valid():
        services.transfer_add(system=system, values=form.cleaned_data, actor=http_request.user)
        messages.success(http_request, _("Transfer added."))
        return redirect("datasystems:system_detail", system_id=system.pk)
    return _detail_page(http_request, system, status=400, transfer_form=form)


@require_POST
@manager_only
def transfer_remove(http_request: HttpRequest, system_id: int, item_id: int) -> HttpResponse:
    system = _system(http_request, system_id)
    services.transfer_remove(system=system, transfer_id=item_id, actor=http_request.user)
    messages.success(http_request, _("Transfer removed."))
    return redirect("datasystems:system_detail", system_id=system.pk)


def _may_read_all(user) -> bool:
    return user.has_perm(MANAGE) or user.has_perm(selectors.VIEW_ALL)


@require_GET
@register_area
def recipient_list(http_request: HttpRequest) -> HttpResponse:
    """Everyone the organisation discloses personal data to, by name (CJEU C-154/21), with their contact details."""
    if not _may_read_all(http_request.user):
        raise PermissionDenied
    return render(
        http_request,
        "datasystems/recipient_list.html",
        {
            "nav": "systems",
            "recipients": Recipient.objects.prefetch_related("systems").order_by("name"),
            "can_manage": http_request.user.has_perm(MANAGE),
        },
    )


@require_http_methods(["GET", "POST"])
@manager_only
def recipient_edit(http_request: HttpRequest, recipient_id: int | None = None) -> HttpResponse:
    recipient = get_object_or_404(Recipient, pk=recipient_id) if recipient_id is not None else None
    form = RecipientForm(
        http_request.POST if http_request.method == "POST" else None,
        instance=Recipient.objects.get(pk=recipient.pk) if recipient else None,
    )
    if http_request.method == "POST" and form.is_valid():
        try:
            saved = services.recipient_save(
                recipient=Recipient.objects.get(pk=recipient.pk) if recipient else None,
                values=form.cleaned_data,
                actor=http_request.user,
            )
        except RegisterError as error:
            form.add_error("name", str(error))
        else:
            messages.success(http_request, _("Recipient '%(name)s' saved.") % {"name": saved.name})
            return redirect("datasystems:recipient_list")
    return render(
        http_request,
        "datasystems/recipient_form.html",
        {"nav": "systems", "form": form, "recipient": recipient},
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
@manager_only
def notice_publish(http_request: HttpRequest) -> HttpResponse:
    """The privacy notice as the register says now (a preview), and the form that publishes it as a new version."""
    form = PublishForm(http_request.POST if http_request.method == "POST" else None)
    if http_request.method == "POST" and form.is_valid():
        try:
            version = services.notice_publish(actor=http_request.user, summary=form.cleaned_data["summary"])
        except RegisterError as error:
            messages.error(http_request, str(error))
        else:
            messages.success(
                http_request, _("Version %(number)s of the privacy notice is published.") % {"number": version.number}
            )
            return redirect("datasystems:system_list")
    return render(
        http_request,
        "datasystems/notice_publish.html",
        {
            "nav": "systems",
            "form": form,
            "preview": services.notice_render(),
            "latest": selectors.notice_latest(),
        },
        status=400 if form.is_bound else 200,
    )


@require_GET
def public_notice(http_request: HttpRequest, number: int | None = None) -> HttpResponse:
    """The public privacy notice (GDPR Art. 12(1), 13, 14): the latest version with its date, or an older one, and
    the list of every version."""
    if number is None:
        version = selectors.notice_latest()
    else:
        version = PrivacyNoticeVersion.objects.filter(number=number).first()
        if version is None:
            raise Http404
    latest = selectors.notice_latest()
    return render(
        http_request,
        "datasystems/public_notice.html",
        {
            "version": version,
            "is_latest": version is not None and latest is not None and version.number == latest.number,
            "versions": selectors.notice_versions(),
        },
    )
