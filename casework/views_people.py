"""The DPO's people page: staff, their roles, changing them behind a fresh second factor, and the log of changes.

Issue 11: role changes are the DPO's alone and ask for a factor again if none was given in the last few minutes
(step-up, GDPR Art. 32(1)(b)); each is recorded (``StaffRoleChange``; Art. 5(2)). The page is thin: the rules,
the last-DPO guard among them, are ``services.staff_roles_set``.
"""

from functools import wraps

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from dsar_portal.staff_auth import step_up_needed

from . import selectors, services
from .forms import StaffRolesForm
from .views import staff_area


def _dpo_only(view):
    @wraps(view)
    def wrapped(http_request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not http_request.user.has_perm(selectors.MANAGE_ROLES):
            raise PermissionDenied
        return view(http_request, *args, **kwargs)

    return wrapped


@require_http_methods(["GET", "POST"])
@staff_area
@_dpo_only
# Step-up for the whole page, not only the change: a POST sent without a fresh factor is kept by allauth and sent
# again once the factor is given.
@reauthentication_required(enabled=step_up_needed)
def people(http_request: HttpRequest) -> HttpResponse:
    """Every staff account with its roles and a form to change them (and deactivate), and the log of changes."""
    people = list(selectors.staff_people())
    bound = None
    if http_request.method == "POST":
        chosen = [person for person in people if str(person.pk) == http_request.POST.get("person", "")]
        if not chosen:
            messages.error(http_request, _("Choose a member of staff whose roles to change."))
            return redirect("casework:people")
        (person,) = chosen
        bound = StaffRolesForm(http_request.POST, person=person)
        if bound.is_valid():
            try:
                change = services.staff_roles_set(
                    user=person,
                    roles_wanted=bound.cleaned_data["roles"],
                    is_active=bound.cleaned_data["is_active"],
                    actor=http_request.user,
                )
            except services.RoleChangeError as error:
                bound.add_error(None, str(error))
            else:
                if change is None:
                    messages.info(http_request, _("Nothing changed for %(name)s.") % {"name": person.get_username()})
                else:
                    messages.success(http_request, _("Roles of %(name)s changed.") % {"name": person.get_username()})
                return redirect("casework:people")
    rows = [
        (person, bound if bound is not None and bound.person.pk == person.pk else StaffRolesForm(person=person))
        for person in people
    ]
    context = {"nav": "people", "rows": rows, "changes": selectors.staff_role_changes(), "bound": bound}
    return render(http_request, "casework/people.html", context, status=400 if bound is not None else 200)
