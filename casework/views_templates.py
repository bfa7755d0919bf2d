"""The DPO's message templates (issue 11): what staff start from when they message a requester."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from . import selectors, services
from .models import MessageTemplate
from .template_forms import MessageTemplateForm
from .views import staff_area

MANAGE = "casework.manage_message_templates"


@require_GET
@staff_area
@permission_required(MANAGE, raise_exception=True)
def template_list(http_request: HttpRequest) -> HttpResponse:
    return render(
        http_request,
        "casework/message_template_list.html",
        {"nav": "templates", "templates": selectors.message_templates()},
    )


@require_http_methods(["GET", "POST"])
@staff_area
@permission_required(MANAGE, raise_exception=True)
def template_edit(http_request: HttpRequest, template_id: int | None = None) -> HttpResponse:
    """Write a new template, or change one: its name, and its text in each of the portal's languages."""
    template = get_object_or_404(MessageTemplate, pk=template_id) if template_id is not None else None
    form = MessageTemplateForm(http_request.POST if http_request.method == "POST" else None, template=template)
    if http_request.method == "POST" and form.is_valid():
        try:
            saved = services.message_template_save(
                template=template, name=form.cleaned_data["name"], texts=form.texts(), actor=http_request.user
            )
        except IntegrityError:
            # Two DPOs naming two templates alike at once: the unique constraint decides, the second is told.
            form.add_error("name", _("Another template has this name."))
        else:
            messages.success(http_request, _("Template '%(name)s' saved.") % {"name": saved.name})
            return redirect("casework:message_templates")
    return render(
        http_request,
        "casework/message_template_form.html",
        {"nav": "templates", "form": form, "template": template},
        status=400 if form.is_bound else 200,
    )
