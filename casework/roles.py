"""The staff roles, as groups with permissions, created (and corrected) idempotently.

Issue 11: the DPO may do everything; a case handler works the queue (cases assigned to them or unassigned); an
auditor reads everything, the audit trail included, but never identity evidence (GDPR Art. 5(1)(c), data
minimisation: an auditor checks what was done, not who the person is); a system owner reads the register's
records of the data systems they own and works their manual search tasks (issue 12), and nothing else in the staff
area.
"""

from typing import Any

from django.apps import apps
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
        # Issue 13: approve the changes their decisions carry out in the data systems (the DPO approves large ones).
        "changes.approve_changes",
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
        # The register of data systems and the privacy notice's versions (GDPR Art. 30: the record an auditor
        # checks), read only.
        "datasystems.view_datasystem",
        "datasystems.view_privacynoticeversion",
    ),
    # The data systems they own, read only (datasystems.selectors.systems_visible_to), and the manual search tasks
    # of those systems (fulfilment.manual_tasks): they search them and upload what they hold. No queue, no cases.
    # Issue 13: the changes (erasure, rectification, restriction, marketing) to carry out by hand in those systems.
    SYSTEM_OWNER: ("datasystems.view_own_systems", "fulfilment.work_search_tasks", "changes.work_change_tasks"),
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
    """post_migrate receiver: the roles exist once the permissions do (not on a database other than the default).

    Connected for casework and for each higher app whose permissions the roles hold (datasystems); it acts on the
    last of them to migrate, when every permission the roles name exists.
    """
    if using != "default":
        return
    order = [config.label for config in apps.get_app_configs() if config.models_module is not None]
    named = {name.split(".", 1)[0] for names in ROLE_PERMISSIONS.values() for name in names}
    last = max(order.index(label) for label in named | {"casework"} if label in order)
    if sender.label in order and order.index(sender.label) < last:
        return
    roles_ensure()
