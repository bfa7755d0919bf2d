"""Writes of the staff area: each one named, in one transaction, audited in the request's trail."""

import logging
from collections.abc import Iterable, Mapping

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.utils import timezone

from dsar_portal import filestore
from identity.services import request_identity_begin
from requests_app import services as request_services
from requests_app.audit import STAFF, event_record
from requests_app.locks import request_lock
from requests_app.models import DataSubjectRequest, EventKind

from . import roles
from .models import Assignment, CaseNote, MessageTemplate, MessageTemplateTranslation, StaffRoleChange
from .selectors import ACT, ASSIGN, MANAGE_ROLES, assignable_staff, requests_visible_to

logger = logging.getLogger(__name__)


class AssignmentError(Exception):
    """The assignment cannot be made; the message says why, for the member of staff."""


def request_assign(*, request: DataSubjectRequest, assignee: AbstractBaseUser, actor: AbstractBaseUser) -> bool:
    """Give ``request`` to ``assignee``; False (and nothing recorded) when it is theirs already.

    The actor must be allowed to assign and to see the request; the assignee must be staff who may work the queue.
    The trail says who assigned it to whom (GDPR Art. 5(2), accountability).
    """
    if not actor.has_perm(ASSIGN):
        raise PermissionError("You may not assign requests.")
    if not assignable_staff().filter(pk=assignee.pk).exists():
        raise AssignmentError("That person cannot work on requests.")
    with transaction.atomic():
        locked = request_lock(request.pk)
        if not requests_visible_to(actor).filter(pk=locked.pk).exists():
            raise PermissionError("You may not assign this request.")
        current = Assignment.objects.filter(request=locked).first()
        if current is not None and current.assignee_id == assignee.pk:
            return False
        Assignment.objects.update_or_create(
            request=locked,
            defaults={"assignee": assignee, "assigned_by": actor, "assigned_at": timezone.now()},
        )
        # The request's own copy, read by the queue's filters (requests_app.models.DataSubjectRequest.assignee).
        DataSubjectRequest.objects.filter(pk=locked.pk).update(assignee=assignee)
        event_record(
            request_id=locked.pk,
            kind=EventKind.ASSIGNED,
            actor=actor,
            actor_kind=STAFF,
            reason=f"Assigned to {assignee.get_username()}",
        )
    return True


def requests_assign(
    *, requests: Iterable[DataSubjectRequest], assignee: AbstractBaseUser, actor: AbstractBaseUser
) -> int:
    """Give several requests to one assignee, all or none; returns how many changed hands."""
    with transaction.atomic():
        return sum(
            request_assign(request=request, assignee=assignee, actor=actor)
            for request in sorted(requests, key=lambda request: request.pk)  # one lock order
        )


def request_log_received(
    *,
    submission: request_services.Submission,
    channel: str,
    received_at,
    actor: AbstractBaseUser,
    scan=None,
    postal_address: str = "",
) -> DataSubjectRequest:
    """Log a request that arrived by letter, e-mail, phone, social media or in person, and move it on, together.

    The clock starts on the day of receipt (GDPR Art. 12(3); ``requests_app.services.request_log_received``). An
    address that is confirmed (the request came from it by e-mail) or a requester answered by post needs no code:
    identity checks start at once. Another e-mail address waits for its code as on the public form.
    """
    if not actor.has_perm(ACT):
        raise PermissionError("You may not log requests.")
    with filestore.atomic():
        request = request_services.request_log_received(
            submission=submission,
            channel=channel,
            received_at=received_at,
            actor=actor,
            scan=scan,
            postal_address=postal_address,
        )
        if request.email_confirmed_at is not None or request.notices_by_post:
            request_identity_begin(request=request, today=timezone.localdate())
    return request


def case_pack_record(*, request: DataSubjectRequest, actor: AbstractBaseUser, file_format: str) -> None:
    """Note in the request's trail that ``actor`` produced its case pack (as "html" or "pdf").

    The pack copies the case out of the portal, so who took it and when is part of the record (GDPR Art. 5(2),
    accountability; Art. 32(1)(b), confidentiality). The event carries no personal data.
    """
    event_record(
        request_id=request.pk,
        kind=EventKind.CASE_PACK_GENERATED,
        actor=actor,
        actor_kind=STAFF,
        reason=f"Case pack ({file_format.upper()})",
    )


class RoleChangeError(Exception):
    """The role change cannot be made; the message says why, for the DPO."""


def staff_roles_set(
    *, user: AbstractBaseUser, roles_wanted: Iterable[str], is_active: bool, actor: AbstractBaseUser
) -> StaffRoleChange | None:
    """Give ``user`` exactly the staff roles ``roles_wanted`` (of ``roles.ALL_ROLES``) and make their account active
    or not; None (and nothing recorded) when nothing changes.

    Only the DPO changes roles (issue 11); every change is kept in ``StaffRoleChange`` (GDPR Art. 5(2), Art. 32(4)).
    The portal always keeps an active DPO (Art. 37-39: the DPO's tasks cannot lapse): a change that would leave none,
    the last DPO removing their own role or deactivating themselves included, is refused. Changes are serialised on
    the DPO role's row, so two DPOs removing each other at once cannot both succeed.
    """
    if not actor.has_perm(MANAGE_ROLES):
        raise PermissionError("You may not change staff roles.")
    wanted = sorted(set(roles_wanted))
    unknown = set(wanted) - set(roles.ALL_ROLES)
    if unknown:
        raise RoleChangeError(f"Unknown roles: {', '.join(sorted(unknown))}.")
    User = type(user)
    with transaction.atomic():
        dpo_group = Group.objects.select_for_update().get(name=roles.DPO)
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.is_staff:
            raise RoleChangeError("Only staff accounts have roles.")
        current = sorted(locked.groups.filter(name__in=roles.ALL_ROLES).values_list("name", flat=True))
        if current == wanted and locked.is_active == is_active:
            return None
        stays_dpo = roles.DPO in wanted and is_active
        if not stays_dpo and roles.DPO in current and locked.is_active:
            other_dpos = dpo_group.user_set.filter(is_active=True).exclude(pk=locked.pk)
            if not other_dpos.exists():
                raise RoleChangeError("This is the last active DPO: give another member of staff the DPO role first.")
        keep = locked.groups.exclude(name__in=roles.ALL_ROLES)
        locked.groups.set([*keep, *Group.objects.filter(name__in=wanted)])
        was_active = locked.is_active
        if was_active != is_active:
            locked.is_active = is_active
            locked.save(update_fields=["is_active"])
        change = StaffRoleChange.objects.create(
            user=locked,
            changed_by=actor,
            from_roles=current,
            to_roles=wanted,
            was_active=was_active,
            is_active=is_active,
        )
    logger.info("staff roles of user %s changed by user %s (change %s)", locked.pk, actor.pk, change.pk)
    return change


def note_add(*, request: DataSubjectRequest, actor: AbstractBaseUser, text: str) -> CaseNote:
    """Add an internal note to the case file: never sent to the person, shown in the case's timeline.

    The note is part of the case file (encrypted at rest, kept and erased with it); the trail records who added a
    note and when, not what it says (GDPR Art. 5(2), accountability; Art. 5(1)(c), the trail carries no more
    personal data than it needs). A person's access request covers notes about them too (Art. 15(1)).
    """
    if not actor.has_perm(ACT):
        raise PermissionError("You may not add notes.")
    text = text.strip()
    if not text:
        raise request_services.RequestError("Write the note.")
    with transaction.atomic():
        locked = request_lock(request.pk)
        if not requests_visible_to(actor).filter(pk=locked.pk).exists():
            raise PermissionError("You may not add a note to this request.")
        note = CaseNote.objects.create(request=locked, author=actor, text=text)
        event_record(request_id=locked.pk, kind=EventKind.NOTE_ADDED, actor=actor, actor_kind=STAFF)
    return note


def requester_message_send(
    *,
    request: DataSubjectRequest,
    actor: AbstractBaseUser,
    subject: str,
    body: str,
    template: MessageTemplate | None = None,
):
    """Send the requester a message staff wrote (from a template, edited): through the request core's
    correspondence, so it is delivered as every other notice (e-mail, or a letter to post) and appears on their
    status page and in the case's timeline (GDPR Art. 12(1): concise, intelligible communication)."""
    if not actor.has_perm(ACT):
        raise PermissionError("You may not write to requesters.")
    if not requests_visible_to(actor).filter(pk=request.pk).exists():
        raise PermissionError("You may not write to this requester.")
    return request_services.request_message_write(
        request=request, actor=actor, subject=subject, body=body, template=template.name if template else ""
    )


def message_template_save(
    *, template: MessageTemplate | None, name: str, texts: Mapping[str, tuple[str, str]], actor: AbstractBaseUser
) -> MessageTemplate:
    """Create or change a template: its name, and its (subject, body) per language; a language left empty has no
    translation (the default language's is then used). The DPO only (issue 11: the templates the DPO edits)."""
    if not actor.has_perm("casework.manage_message_templates"):
        raise PermissionError("You may not edit message templates.")
    with transaction.atomic():
        if template is None:
            template = MessageTemplate.objects.create(name=name)
        elif template.name != name:
            template.name = name
            template.save(update_fields=["name", "updated_at"])
        else:
            template.save(update_fields=["updated_at"])
        for language, (subject, body) in texts.items():
            if subject.strip() and body.strip():
                MessageTemplateTranslation.objects.update_or_create(
                    template=template, language=language, defaults={"subject": subject.strip(), "body": body.strip()}
                )
            else:
                MessageTemplateTranslation.objects.filter(template=template, language=language).delete()
    return template
