"""Reads of the register: who may see which systems, and what the law says we tell people about them.

``supplementary_information`` is the one place the register is turned into what people are told: the public
privacy notice (GDPR Art. 13 and 14) renders it for every system in use, and an access answer (Art. 15(1)(a)-(h) and
15(2)) will render it for the systems where the person's data were found (EDPB Guidelines 01/2022 §4.3: tailored,
not the whole notice). One function, so the two cannot drift apart.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from requests_app.models import RefusalGround

from . import change_rules
from .models import (
    Art9Condition,
    DataSystem,
    LawfulBasis,
    PrivacyNoticeVersion,
    Purpose,
    RecipientKind,
    Safeguard,
    SystemRecipient,
    Transfer,
)

MANAGE = "datasystems.manage_register"
VIEW_ALL = "datasystems.view_datasystem"
VIEW_OWN = "datasystems.view_own_systems"


def may_use_register(user: AbstractBaseUser) -> bool:
    """Staff who may open the register's pages at all (the DPO, an auditor, a system owner)."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.has_perm(MANAGE) or user.has_perm(VIEW_ALL) or user.has_perm(VIEW_OWN)


def systems_visible_to(user: AbstractBaseUser) -> QuerySet[DataSystem]:
    """Every system for the DPO and an auditor; a system owner's own systems; none for anyone else."""
    systems = DataSystem.objects.select_related("owner")
    if not may_use_register(user):
        return systems.none()
    if user.has_perm(MANAGE) or user.has_perm(VIEW_ALL):
        return systems
    return systems.filter(owner=user)


@dataclass(frozen=True)
class PurposeDisclosure:
    description: str
    lawful_basis: str  # the LawfulBasis value
    lawful_basis_label: str
    legitimate_interest: str  # Art. 13(1)(d), where the basis is legitimate interests
    art9_condition_label: str
    for_marketing: bool


@dataclass(frozen=True)
class RecipientDisclosure:
    name: str
    kind_label: str
    role: str
    disclosed: str
    email: str
    address: str
    country: str


@dataclass(frozen=True)
class TransferDisclosure:
    country: str
    recipient_name: str
    safeguard_label: str
    note: str


@dataclass(frozen=True)
class SystemDisclosure:
    """What the law says a person is told about one system (GDPR Art. 13(1)-(2), 14(1)-(2), 15(1)-(2))."""

    name: str
    description: str
    data_subjects: str
    categories: tuple[str, ...]  # Art. 14(1)(d), 15(1)(b)
    special_category: bool
    art9_condition_label: str
    source: str  # Art. 14(2)(f), 15(1)(g); "" = collected from the person
    retention: str  # Art. 13(2)(a), 15(1)(d)
    purposes: tuple[PurposeDisclosure, ...]  # Art. 13(1)(c), 15(1)(a)
    recipients: tuple[RecipientDisclosure, ...]  # Art. 13(1)(e), 15(1)(c); named (C-154/21)
    transfers: tuple[TransferDisclosure, ...]  # Art. 13(1)(f), 15(2)
    automated_decisions: bool  # Art. 13(2)(f), 15(1)(h)
    automated_logic: str  # meaningful information about the logic (C-203/22)

    @property
    def from_the_person(self) -> bool:
        return not self.source.strip()

    @property
    def uses_consent(self) -> bool:
        """Art. 13(2)(c): where a purpose rests on consent, the person is told they may withdraw it."""
        return any(purpose.lawful_basis == LawfulBasis.CONSENT for purpose in self.purposes)

    @property
    def uses_legitimate_interests(self) -> bool:
        return any(purpose.lawful_basis == LawfulBasis.LEGITIMATE_INTERESTS for purpose in self.purposes)

    @property
    def for_marketing(self) -> bool:
        return any(purpose.for_marketing for purpose in self.purposes)


def _label(choices, value: str) -> str:
    return str(choices(value).label) if value else ""


def supplementary_information(systems: Iterable[DataSystem] | QuerySet[DataSystem]) -> list[SystemDisclosure]:
    """Per system: purposes and bases, categories, recipients by name, retention, source, transfers with their
    safeguards, and automated decisions with their logic (GDPR Art. 13, 14, 15(1)(a)-(h), 15(2)), by name.

    Takes a queryset or any systems; reads each system's purposes, recipients and transfers in three queries.
    """
    ids = [system.pk for system in systems]
    ordered = (
        DataSystem.objects.filter(pk__in=ids)
        .order_by("name")
        .prefetch_related(
            Prefetch("purposes", queryset=Purpose.objects.order_by("pk")),
            Prefetch(
                "disclosures",
                queryset=SystemRecipient.objects.select_related("recipient").order_by("recipient__name"),
            ),
            Prefetch("transfers", queryset=Transfer.objects.select_related("recipient").order_by("country", "pk")),
        )
    )
    return [
        SystemDisclosure(
            name=system.name,
            description=system.description,
            data_subjects=system.data_subjects,
            categories=tuple(system.personal_data_categories or ()),
            special_category=system.special_category,
            art9_condition_label=_label(Art9Condition, system.art9_condition),
            source=system.source,
            retention=system.retention,
            purposes=tuple(
                PurposeDisclosure(
                    description=purpose.description,
                    lawful_basis=purpose.lawful_basis,
                    lawful_basis_label=_label(LawfulBasis, purpose.lawful_basis),
                    legitimate_interest=purpose.legitimate_interest,
                    art9_condition_label=_label(Art9Condition, purpose.art9_condition),
                    for_marketing=purpose.for_marketing,
                )
                for purpose in system.purposes.all()
            ),
            recipients=tuple(
                RecipientDisclosure(
                    name=link.recipient.name,
                    kind_label=_label(RecipientKind, link.recipient.kind),
                    role=link.recipient.role,
                    disclosed=link.disclosed,
                    email=link.recipient.email,
                    address=link.recipient.address,
                    country=link.recipient.country,
                )
                for link in system.disclosures.all()
            ),
            transfers=tuple(
                TransferDisclosure(
                    country=transfer.country,
                    recipient_name=transfer.recipient.name if transfer.recipient else "",
                    safeguard_label=_label(Safeguard, transfer.safeguard),
                    note=transfer.note,
                )
                for transfer in system.transfers.all()
            ),
            automated_decisions=system.automated_decisions,
            automated_logic=system.automated_logic,
        )
        for system in ordered
    ]


def _value_in_words(value: Any) -> str:
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if value is None or value == "":
        return _("empty")
    return f"“{value}”"


def change_rules_described(system: DataSystem) -> list[dict[str, Any]]:
    """Per table of the system's connector, what erasure (GDPR Art. 17(1), with the Art. 17(3) exception a kept or
    anonymised table rests on), restriction (Art. 18), rectification (Art. 16) and a marketing objection (Art. 21(3))
    do there, with the values in words for the register's page."""
    rows = change_rules.summary(system.connector_config)
    for row in rows:
        if "problem" in row:
            continue
        row["ground_label"] = _label(RefusalGround, row["ground"]) if row["ground"] else ""
        # By column name: the database keeps a configuration's keys in an order of its own.
        row["field_changes"] = sorted(row["field_changes"], key=lambda change: change["column"])
        for change in row["field_changes"]:
            change["value_words"] = _value_in_words(change["value"])
        for key in ("marketing_set", "marketing_append"):
            row[f"{key}_words"] = [
                {"column": column, "value": _value_in_words(value)} for column, value in sorted(row[key].items())
            ]
    return rows


def active_systems() -> QuerySet[DataSystem]:
    return DataSystem.objects.filter(active=True).order_by("name")


def notice_latest() -> PrivacyNoticeVersion | None:
    return PrivacyNoticeVersion.objects.order_by("-number").first()


def notice_versions() -> QuerySet[PrivacyNoticeVersion]:
    """Every published version, newest first, without their bodies (for the history list)."""
    return PrivacyNoticeVersion.objects.order_by("-number").defer("html")
