"""Writes on the register and the privacy notice: every change to a system, its purposes, recipients and transfers,
and publishing a new version of the notice.

Views and forms only validate and call these; only these save the register's models.
"""

import logging
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from organisation.selectors import organisation_get

from . import selectors
from .models import DataSystem, PrivacyNoticeVersion, Purpose, Recipient, RegisterChange, SystemRecipient, Transfer

Action = RegisterChange.Action
# The keys of a connector table that say what erasure, restriction, rectification and a marketing objection do there.
CHANGE_RULE_KEYS = ("erasure", "restriction", "rectifiable", "marketing")

logger = logging.getLogger(__name__)

SYSTEM_FIELDS = (
    "name",
    "description",
    "owner",
    "data_subjects",
    "personal_data_categories",
    "special_category",
    "art9_condition",
    "source",
    "retention",
    "holds_provided_data",
    "holds_observed_data",
    "automated_decisions",
    "automated_logic",
    "search_procedure",
    "erasure_method",
    "restriction_method",
    "backup_roll_off_days",
    "connector",
    "connector_config",
    "active",
)


class RegisterError(Exception):
    """A change the register refuses, with a message safe to show the DPO."""


class NoticeUnchanged(RegisterError):
    pass


def _record(*, actor: AbstractBaseUser, action: str, system: DataSystem | None = None, detail: str = "") -> None:
    """The register's own history (GDPR Art. 5(2)): every write below leaves one row, in its transaction."""
    RegisterChange.objects.create(actor=actor, system=system, action=action, detail=detail[:500])


def _set(instance: Any, values: Mapping[str, Any], fields: tuple[str, ...]) -> None:
    for field in fields:
        if field in values:
            setattr(instance, field, values[field])


def _rules_by_table(config: Any) -> dict[str, dict[str, Any]]:
    tables = config.get("tables") if isinstance(config, Mapping) else None
    if not isinstance(tables, list):
        return {}
    return {
        str(table.get("name", "")): {key: table.get(key) for key in CHANGE_RULE_KEYS}
        for table in tables
        if isinstance(table, Mapping)
    }


def _without_rules(config: Any) -> Any:
    """A connector configuration with its tables' change rules left out."""
    if not isinstance(config, Mapping) or not isinstance(config.get("tables"), list):
        return config
    tables = [
        {key: value for key, value in table.items() if key not in CHANGE_RULE_KEYS}
        if isinstance(table, Mapping)
        else table
        for table in config["tables"]
    ]
    return {**config, "tables": tables}


def _changed(before: Mapping[str, Any], system: DataSystem) -> str:
    """What a save changed, for the register's history (GDPR Art. 5(2)): the fields, and the tables whose erasure,
    restriction, rectification or marketing rules changed (what Art. 17, 18, 16 and 21(3) mean in the system)."""
    changed = []
    for field, old in before.items():
        new = getattr(system, field)
        if old == new:
            continue
        if field == "connector_config":
            old_rules, new_rules = _rules_by_table(old), _rules_by_table(new)
            none = dict.fromkeys(CHANGE_RULE_KEYS)
            tables = sorted(
                name
                for name in old_rules.keys() | new_rules.keys()
                if old_rules.get(name, none) != new_rules.get(name, none)
            )
            if tables:
                changed.append("change rules of " + ", ".join(tables))
            if _without_rules(old) == _without_rules(new):
                continue
        changed.append(field)
    return ", ".join(sorted(changed)) or "nothing changed"


@transaction.atomic
def system_save(*, system: DataSystem | None, values: Mapping[str, Any], actor: AbstractBaseUser) -> DataSystem:
    """Add a system to the register or change one (GDPR Art. 30(1): the record of processing kept up to date)."""
    adding = system is None
    system = system or DataSystem()
    before = {field: getattr(system, field) for field in SYSTEM_FIELDS if field in values}
    _set(system, values, SYSTEM_FIELDS)
    system.full_clean()
    try:
        with transaction.atomic():
            system.save()
    except IntegrityError:
        # Two DPOs naming two systems alike at once: the unique constraint decides.
        raise RegisterError("Another system has this name.")
    _record(
        actor=actor,
        system=system,
        action=Action.SYSTEM_ADDED if adding else Action.SYSTEM_CHANGED,
        detail=system.name if adding else _changed(before, system),
    )
    logger.info("register: system %s saved by user %s", system.pk, actor.pk)
    return system


@transaction.atomic
def purpose_add(*, system: DataSystem, values: Mapping[str, Any], actor: AbstractBaseUser) -> Purpose:
    """A purpose with its lawful basis (GDPR Art. 6(1)) and Art. 9(2) condition where special category data are used."""
    purpose = Purpose(system=system)
    _set(purpose, values, ("description", "lawful_basis", "art9_condition", "for_marketing", "legitimate_interest"))
    purpose.full_clean()
    purpose.save()
    _record(actor=actor, system=system, action=Action.PURPOSE_ADDED, detail=purpose.description)
    logger.info("register: purpose %s added to system %s by user %s", purpose.pk, system.pk, actor.pk)
    return purpose


@transaction.atomic
def purpose_remove(*, system: DataSystem, purpose_id: int, actor: AbstractBaseUser) -> None:
    """Remove a purpose; removing one already gone (a second click, a colleague first) does nothing."""
    purpose = Purpose.objects.filter(system=system, pk=purpose_id).first()
    if purpose is None:
        return
    purpose.delete()
    _record(actor=actor, system=system, action=Action.PURPOSE_REMOVED, detail=purpose.description)
    logger.info("register: purpose %s removed from system %s by user %s", purpose_id, system.pk, actor.pk)


@transaction.atomic
def recipient_save(*, recipient: Recipient | None, values: Mapping[str, Any], actor: AbstractBaseUser) -> Recipient:
    """A named recipient with contact details (GDPR Art. 13(1)(e), 15(1)(c), CJEU C-154/21; Art. 19 notices)."""
    recipient = recipient or Recipient()
    _set(
        recipient,
        values,
        ("name", "kind", "role", "address", "email", "country", "notify_by", "notify_url", "notify_secret_env"),
    )
    recipient.full_clean()
    try:
        with transaction.atomic():
            recipient.save()
    except IntegrityError:
        raise RegisterError("Another recipient has this name.")
    _record(actor=actor, action=Action.RECIPIENT_SAVED, detail=recipient.name)
    logger.info("register: recipient %s saved by user %s", recipient.pk, actor.pk)
    return recipient


@transaction.atomic
def system_recipient_link(
    *, system: DataSystem, recipient: Recipient, disclosed: str, actor: AbstractBaseUser
) -> SystemRecipient:
    """Record that ``recipient`` receives ``disclosed`` from ``system``; a second link updates what they receive."""
    link, _created = SystemRecipient.objects.update_or_create(
        system=system, recipient=recipient, defaults={"disclosed": disclosed}
    )
    _record(actor=actor, system=system, action=Action.RECIPIENT_LINKED, detail=f"{recipient.name}: {disclosed}")
    logger.info("register: recipient %s linked to system %s by user %s", recipient.pk, system.pk, actor.pk)
    return link


@transaction.atomic
def system_recipient_unlink(*, system: DataSystem, link_id: int, actor: AbstractBaseUser) -> None:
    link = SystemRecipient.objects.filter(system=system, pk=link_id).select_related("recipient").first()
    if link is None:
        return
    link.delete()
    _record(actor=actor, system=system, action=Action.RECIPIENT_UNLINKED, detail=link.recipient.name)
    logger.info("register: recipient link %s removed from system %s by user %s", link_id, system.pk, actor.pk)


@transaction.atomic
def transfer_add(*, system: DataSystem, values: Mapping[str, Any], actor: AbstractBaseUser) -> Transfer:
    """A transfer outside the UK/EEA with its safeguard (GDPR Chapter V; Art. 13(1)(f), 15(2))."""
    transfer = Transfer(system=system)
    _set(transfer, values, ("country", "recipient", "safeguard", "note"))
    transfer.full_clean()
    transfer.save()
    _record(
        actor=actor, system=system, action=Action.TRANSFER_ADDED, detail=f"{transfer.country}: {transfer.safeguard}"
    )
    logger.info("register: transfer %s added to system %s by user %s", transfer.pk, system.pk, actor.pk)
    return transfer


@transaction.atomic
def transfer_remove(*, system: DataSystem, transfer_id: int, actor: AbstractBaseUser) -> None:
    transfer = Transfer.objects.filter(system=system, pk=transfer_id).first()
    if transfer is None:
        return
    transfer.delete()
    _record(actor=actor, system=system, action=Action.TRANSFER_REMOVED, detail=transfer.country)
    logger.info("register: transfer %s removed from system %s by user %s", transfer_id, system.pk, actor.pk)


def notice_render() -> str:
    """The privacy notice's body as the register and the organisation's settings say now (GDPR Art. 13 and 14):
    every system in use, through ``selectors.supplementary_information``; what the DPO previews and publishes."""
    organisation = organisation_get()
    disclosures = selectors.supplementary_information(selectors.active_systems())
    context = {
        "organisation": organisation,
        "disclosures": disclosures,
        "uses_consent": any(d.uses_consent for d in disclosures),
        "uses_legitimate_interests": any(d.uses_legitimate_interests for d in disclosures),
        "for_marketing": any(d.for_marketing for d in disclosures),
        "automated_decisions": any(d.automated_decisions for d in disclosures),
        # UK GDPR: the ICO; EU GDPR Art. 77(1): any authority where the person lives or works, or of the infringement.
        "uk_rules": organisation.jurisdiction.startswith("GB-"),
        # UK DPA 2018 s.164A: the organisation's own complaints route first.
        "complaints_url": reverse("complaints:complaint_create"),
        "portal_notice_url": reverse("identity:privacy_notice"),
        "start_url": reverse("requests_app:start"),
    }
    return render_to_string("datasystems/privacy_notice_body.html", context).strip()


def notice_publish(*, actor: AbstractBaseUser, summary: str) -> PrivacyNoticeVersion:
    """Publish the notice as the register says now, as a new numbered, dated, immutable version (GDPR Art. 12(1),
    13, 14; Art. 5(2): what people were told, and when, can be shown later).

    Raises ``NoticeUnchanged`` when the text is the latest version's, and ``RegisterError`` when a colleague
    published at the same moment (the unique version number decides; nothing is half-written).
    """
    html = notice_render()
    latest = selectors.notice_latest()
    if latest is not None and latest.html == html:
        raise NoticeUnchanged("The register has not changed since the last version: there is nothing new to publish.")
    number = (PrivacyNoticeVersion.objects.aggregate(top=Max("number"))["top"] or 0) + 1
    try:
        with transaction.atomic():
            version = PrivacyNoticeVersion(
                number=number, published_at=timezone.now(), published_by=actor, summary=summary, html=html
            )
            version.save()
            _record(actor=actor, action=Action.NOTICE_PUBLISHED, detail=f"version {number}: {summary}")
    except IntegrityError:
        raise RegisterError("A colleague published a version at the same moment: look at the latest and try again.")
    logger.info("privacy notice: version %s published by user %s", version.number, actor.pk)
    return version
