"""The staff roles, as groups with permissions, created (and corrected) idempotently.

Issue 11: the DPO may do everything; a case handler works the queue (cases assigned to them or unassigned); an
auditor reads everything, the audit trail included, but never identity evidence (GDPR Art. 5(1)(c), data
minimisation: an auditor checks what was done, not who the person is); a system owner has nothing in the staff
area yet (the fulfilment tasks of their own data systems come with the fulfilment issues).
"""

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

DPO = "DPO"
CASE_HANDLER = "Case handler"
AUDITOR = "Auditor"
SYSTEM_OWNER = "System owner"
ALL_ROLES = (DPO, CASE_HANDLER, AUDITOR, SYSTEM_OWNER)

# "app_label.codename" of each role's permissions; the DPO's are every permission the portal has.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    CASE_HANDLER: (
        "casework.view_staff_area",
        "casework.assign_request",
        "casework.act_on_request",
        "requests_app.view_personal_data",
        "identity.decide_verification",
        "identity.view_evidence",
        # Complaints about the requests they may see (casework.complaint_selectors): read, log, acknowledge,
        # progress and outcome (UK DPA 2018 s.164A).
        "complaints.view_complaint",
        "complaints.add_complaint",
        "complaints.change_complaint",
        "complaints.view_complainant_data",
    ),
    AUDITOR: (
        "casework.view_staff_area",
        "casework.view_all_requests",
        "casework.view_assignment",
        "requests_app.view_datasubjectrequest",
        "requests_app.view_requestevent",
        "requests_app.view_duedatechange",
        # The complaints register and each complaint's history, never the complainant's details or text.
        "complaints.view_complaint",
    ),
    SYSTEM_OWNER: (),
}


def _permissions(names: tuple[str, ...]) -> list[Permission]:
    query = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query))
    if len(found) != len(names):
        missing = set(names) - {f"{p.content_type.app_label}.{p.codename}" for p in found}
        raise LookupError(f"Permissions missing for the staff roles: {sorted(missing)}")
    return found


@transaction.atomic
def roles_ensure() -> dict[str, Group]:
    """Create the four roles, or set their permissions back to the defined ones; run twice, changes nothing."""
    groups = {}
    for name in ALL_ROLES:
        group, _created = Group.objects.get_or_create(name=name)
        permissions = list(Permission.objects.all()) if name == DPO else _permissions(ROLE_PERMISSIONS[name])
        group.permissions.set(permissions)
        groups[name] = group
    return groups


def roles_ensure_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver: the roles exist once the permissions do (not on a database other than the default)."""
    if using != "default":
        return
    roles_ensure()
