"""What a request asks for, per right: one typed value parsed from the answers the person gave.

The answers are stored as they were filed, in ``DataSubjectRequest.details`` (an encrypted JSON dict keyed by the
names of the public form's fields, see ``forms.RequestForm.details``). Everything that acts on a request (the
verification policy, the staff pages, the connectors to data systems) reads it through ``scope_of`` and
``agent_authority_of`` here, never through raw keys, so the stored shape is known in one place.

Parsing is tolerant of dicts stored by older versions of the forms: a missing key takes its default, an unknown key
is ignored, and a value outside a field's choices takes the field's default (for a list, it is left out). The stored
format is not changed by reading it; ``as_details()`` gives it back for code that files requests itself (the demo
data, tests).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from .models import DataSubjectRequest, RequesterRole, Right

_Choice = TypeVar("_Choice", bound=StrEnum)


def _text(details: Mapping[str, Any], key: str) -> str:
    value = details.get(key)
    return value.strip() if isinstance(value, str) else ""


def _choice(details: Mapping[str, Any], key: str, choices: type[_Choice], default: _Choice) -> _Choice:
    try:
        return choices(details.get(key))
    except ValueError:
        return default


def _choices(details: Mapping[str, Any], key: str, choices: type[_Choice]) -> tuple[_Choice, ...]:
    """A list answer (a single string stored by an older one-choice form is read as a list of one)."""
    stored = details.get(key)
    values = [stored] if isinstance(stored, str) else stored if isinstance(stored, list) else []
    return tuple(choices(value) for value in values if value in choices._value2member_map_)


def _date(details: Mapping[str, Any], key: str) -> date | None:
    value = details.get(key)
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


@dataclass(frozen=True, kw_only=True)
class RequestScope:
    """What every right's scope carries.

    ``special_category_data``: the person said the request is about special category data (GDPR Art. 9(1)) or
    criminal offence data (Art. 10), so the organisation takes more care to confirm who they are before acting.
    """

    right: ClassVar[str]
    special_category_data: bool = False

    def as_details(self) -> dict[str, Any]:
        """The stored form of this scope, as the public form files it."""
        return {"special_category_data": True} if self.special_category_data else {}


class AccessFormat(StrEnum):
    REPORT = "report"
    REPORT_AND_FILES = "report_and_files"


@dataclass(frozen=True, kw_only=True)
class AccessScope(RequestScope):
    """Right of access (GDPR Art. 15): a copy of the personal data held, and the information about its processing.

    ``everything`` is False when the person asked for part of it only, described in ``subset``; ``date_from`` and
    ``date_to`` bound the period they ask about, when they gave one. ``format`` says whether machine-readable files
    come with the readable report (Art. 15(3): "in a commonly used electronic form"). ``report_pdf``: the person
    also asked for the report as a PDF (whatever the format; requests filed before the question was asked read as
    False).
    """

    right: ClassVar[str] = Right.ACCESS
    everything: bool = True
    subset: str = ""
    date_from: date | None = None
    date_to: date | None = None
    format: AccessFormat = AccessFormat.REPORT
    report_pdf: bool = False

    @classmethod
    def parse(cls, details: Mapping[str, Any]) -> "AccessScope":
        return cls(
            special_category_data=bool(details.get("special_category_data")),
            everything=details.get("access_scope") != "subset",
            subset=_text(details, "access_subset"),
            date_from=_date(details, "date_from"),
            date_to=_date(details, "date_to"),
            format=_choice(details, "access_format", AccessFormat, AccessFormat.REPORT),
            report_pdf=details.get("access_report_pdf") is True,
        )

    def as_details(self) -> dict[str, Any]:
        return {
            "access_scope": "all" if self.everything else "subset",
            "access_subset": self.subset,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "access_format": str(self.format),
            "access_report_pdf": self.report_pdf,
            **super().as_details(),
        }


@dataclass(frozen=True, kw_only=True)
class RectificationScope(RequestScope):
    """Right to rectification (GDPR Art. 16): correct inaccurate data, and complete incomplete data.

    ``correct`` may be empty: a person can contest accuracy without knowing the right value (Art. 16; LAW.md §4).
    ``supplementary_statement`` is the statement Art. 16 lets the person give to complete incomplete data.
    ``restrict_while_checking``: the person also asks that the data be restricted while its accuracy is verified
    (Art. 18(1)(a)). ``recipients_wanted``: they ask to be told which recipients the correction was passed to
    (Art. 19, second sentence).
    """

    right: ClassVar[str] = Right.RECTIFICATION
    wrong: str = ""
    correct: str = ""
    supplementary_statement: str = ""
    restrict_while_checking: bool = False
    recipients_wanted: bool = False

    @classmethod
    def parse(cls, details: Mapping[str, Any]) -> "RectificationScope":
        return cls(
            special_category_data=bool(details.get("special_category_data")),
            wrong=_text(details, "rectification_wrong"),
            correct=_text(details, "rectification_correct"),
            supplementary_statement=_text(details, "supplementary_statement"),
            restrict_while_checking=bool(details.get("rectification_restrict")),
            recipients_wanted=bool(details.get("rectification_recipients")),
        )

    def as_details(self) -> dict[str, Any]:
        return {
            "rectification_wrong": self.wrong,
            "rectification_correct": self.correct,
            "supplementary_statement": self.supplementary_statement,
            "rectification_restrict": self.restrict_while_checking,
            "rectification_recipients": self.recipients_wanted,
            **super().as_details(),
        }


class ErasureGround(StrEnum):
    """The grounds of GDPR Art. 17(1), points (a) to (f)."""

    NO_LONGER_NECESSARY = "no_longer_necessary"  # (a)
    CONSENT_WITHDRAWN = "consent_withdrawn"  # (b)
    OBJECTION = "objection"  # (c)
    UNLAWFUL = "unlawful"  # (d)
    LEGAL_OBLIGATION = "legal_obligation"  # (e)
    CHILD_ONLINE_SERVICE = "child_online_service"  # (f)


# Stored among the erasure grounds when the person could not tell which applies: the controller assesses them all.
ERASURE_GROUND_UNSURE = "not_sure"


@dataclass(frozen=True, kw_only=True)
class ErasureScope(RequestScope):
    """Right to erasure (GDPR Art. 17): the grounds of Art. 17(1) the person relies on, and what to erase.

    ``everything`` is False when only the data described in ``specific`` is to be erased. ``unsure``: the person
    did not know which ground applies; a request needs no legal label, so the organisation assesses every ground of
    Art. 17(1) itself (Art. 12(2): facilitate the exercise of rights). ``recipients_wanted``: they ask to be told
    which recipients the erasure was passed to (Art. 19, second sentence).
    """

    right: ClassVar[str] = Right.ERASURE
    grounds: tuple[ErasureGround, ...] = ()
    unsure: bool = False
    everything: bool = True
    specific: str = ""
    recipients_wanted: bool = False

    @classmethod
    def parse(cls, details: Mapping[str, Any]) -> "ErasureScope":
        stored = details.get("erasure_grounds")
        return cls(
            special_category_data=bool(details.get("special_category_data")),
            grounds=_choices(details, "erasure_grounds", ErasureGround),
            unsure=stored == ERASURE_GROUND_UNSURE or (isinstance(stored, list) and ERASURE_GROUND_UNSURE in stored),
            everything=details.get("erasure_scope") != "specific",
            specific=_text(details, "erasure_specific"),
            recipients_wanted=bool(details.get("erasure_recipients")),
        )

    def as_details(self) -> dict[str, Any]:
        return {
            "erasure_grounds": [*map(str, self.grounds), *([ERASURE_GROUND_UNSURE] if self.unsure else [])],
            "erasure_scope": "all" if self.everything else "specific",
            "erasure_specific": self.specific,
            "erasure_recipients": self.recipients_wanted,
            **super().as_details(),
        }


class RestrictionGround(StrEnum):
    """The cases of GDPR Art. 18(1), points (a) to (d)."""

    ACCURACY_CONTESTED = "accuracy_contested"  # (a)
    UNLAWFUL_NO_ERASURE = "unlawful_no_erasure"  # (b)
    LEGAL_CLAIMS = "legal_claims"  # (c)
    OBJECTION_PENDING = "objection_pending"  # (d)


@dataclass(frozen=True, kw_only=True)
class RestrictionScope(RequestScope):
    """Right to restriction of processing (GDPR Art. 18): the cases of Art. 18(1) relied on, and which data.

    Several cases may apply at once (for example accuracy contested, (a), while an objection is pending, (d)), so
    ``grounds`` is a tuple; it is empty on a request stored without one, and staff then ask the person. Requests
    stored when the form took one case (a string under the same key) are read as a tuple of one. ``data`` empty
    means all of it. ``recipients_wanted``: they ask to be told which recipients the restriction was passed to
    (Art. 19, second sentence).
    """

    right: ClassVar[str] = Right.RESTRICTION
    grounds: tuple[RestrictionGround, ...] = ()
    data: str = ""
    recipients_wanted: bool = False

    @classmethod
    def parse(cls, details: Mapping[str, Any]) -> "RestrictionScope":
        return cls(
            special_category_data=bool(details.get("special_category_data")),
            grounds=_choices(details, "restriction_ground", RestrictionGround),
            data=_text(details, "restriction_data"),
            recipients_wanted=bool(details.get("restriction_recipients")),
        )

    def as_details(self) -> dict[str, Any]:
        return {
            "restriction_ground": [str(ground) for ground in self.grounds],
            "restriction_data": self.data,
            "restriction_recipients": self.recipients_wanted,
            **super().as_details(),
        }


class ObjectionType(StrEnum):
    DIRECT_MARKETING = "direct_marketing"  # Art. 21(2)-(3)
    # Art. 21(2): profiling "to the extent that it is related to such direct marketing" is under the absolute limb.
    MARKETING_PROFILING = "marketing_profiling"
    LEGITIMATE_INTERESTS = "legitimate_interests"  # Art. 21(1): processing under Art. 6(1)(e) or (f)
    # Art. 21(6): scientific or historical research or statistics under Art. 89(1), unless necessary for a task
    # carried out in the public interest.
    RESEARCH_STATISTICS = "research_statistics"


# The kinds no reasons are needed for and none can be weighed against (Art. 21(2)-(3)).
ABSOLUTE_OBJECTIONS = frozenset({ObjectionType.DIRECT_MARKETING, ObjectionType.MARKETING_PROFILING})


@dataclass(frozen=True, kw_only=True)
class ObjectionScope(RequestScope):
    """Right to object (GDPR Art. 21).

    An objection to direct marketing, including profiling related to it (Art. 21(2)), is absolute: the data may no
    longer be used for it (Art. 21(3)), no reasons are needed and none can be weighed against it. An objection to
    processing based on legitimate interests or a public task (Art. 21(1)) names the ``processing`` and gives
    ``grounds`` relating to the person's particular situation, which the organisation weighs against compelling
    legitimate grounds of its own. An objection to research or statistics (Art. 21(6)) also gives such grounds; it
    fails only where the processing is necessary for a task carried out in the public interest.

    A request stored without a type is read as the Art. 21(1) kind: it is the one that asks more of the identity
    check, so reading it that way never lowers the assurance the policy requires.
    """

    right: ClassVar[str] = Right.OBJECTION
    type: ObjectionType = ObjectionType.LEGITIMATE_INTERESTS
    processing: str = ""
    grounds: str = ""

    @property
    def is_direct_marketing(self) -> bool:
        """Under the absolute limb (Art. 21(2)-(3)): direct marketing, or profiling related to it."""
        return self.type in ABSOLUTE_OBJECTIONS

    @classmethod
    def parse(cls, details: Mapping[str, Any]) -> "ObjectionScope":
        return cls(
            special_category_data=bool(details.get("special_category_data")),
            type=_choice(details, "objection_type", ObjectionType, ObjectionType.LEGITIMATE_INTERESTS),
            processing=_text(details, "objection_processing"),
            grounds=_text(details, "objection_grounds"),
        )

    def as_details(self) -> dict[str, Any]:
        return {
            "objection_type": str(self.type),
            "objection_processing": self.processing,
            "objection_grounds": self.grounds,
            **super().as_details(),
        }


class PortabilityFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


@dataclass(frozen=True, kw_only=True)
class PortabilityScope(RequestScope):
    """Right to data portability (GDPR Art. 20): the data the person provided, in a structured, commonly used and
    machine-readable ``format`` (Art. 20(1)), sent to another controller when they ask and it is technically
    feasible (Art. 20(2)): ``transmit_to_controller``, with the ``recipient_name`` and ``recipient_contact``.
    """

    right: ClassVar[str] = Right.PORTABILITY
    format: PortabilityFormat = PortabilityFormat.JSON
    transmit_to_controller: bool = False
    recipient_name: str = ""
    recipient_contact: str = ""

    @classmethod
    def parse(cls, details: Mapping[str, Any]) -> "PortabilityScope":
        return cls(
            special_category_data=bool(details.get("special_category_data")),
            format=_choice(details, "portability_format", PortabilityFormat, PortabilityFormat.JSON),
            transmit_to_controller=bool(details.get("transmit_to_controller")),
            recipient_name=_text(details, "recipient_name"),
            recipient_contact=_text(details, "recipient_contact"),
        )

    def as_details(self) -> dict[str, Any]:
        return {
            "portability_format": str(self.format),
            "transmit_to_controller": self.transmit_to_controller,
            "recipient_name": self.recipient_name,
            "recipient_contact": self.recipient_contact,
            **super().as_details(),
        }


@dataclass(frozen=True, kw_only=True)
class ConsentWithdrawalScope(RequestScope):
    """Withdrawal of consent (GDPR Art. 7(3)): at any time, and as easy as giving it.

    ``everything`` is False when the person withdraws only the consent described in ``specific``. Withdrawal does not
    affect the lawfulness of processing before it (Art. 7(3)); where no other ground remains, erasure follows on
    request (Art. 17(1)(b)).
    """

    right: ClassVar[str] = Right.CONSENT_WITHDRAWAL
    everything: bool = True
    specific: str = ""

    @classmethod
    def parse(cls, details: Mapping[str, Any]) -> "ConsentWithdrawalScope":
        return cls(
            special_category_data=bool(details.get("special_category_data")),
            everything=details.get("consent_scope") != "specific",
            specific=_text(details, "consent_specific"),
        )

    def as_details(self) -> dict[str, Any]:
        return {
            "consent_scope": "all" if self.everything else "specific",
            "consent_specific": self.specific,
            **super().as_details(),
        }


class DecisionSafeguard(StrEnum):
    """What a person may ask about a significant decision based solely on automated processing: EU GDPR Art. 22(3)
    (human intervention, expressing a point of view, contesting the decision); UK GDPR Art. 22C(2) as inserted by the
    Data (Use and Access) Act 2025 (the same, and information about such decisions)."""

    HUMAN_REVIEW = "human_review"
    POINT_OF_VIEW = "point_of_view"
    CONTEST = "contest"
    INFORMATION = "information"  # UK Art. 22C(2)(a); EU Art. 15(1)(h): meaningful information about the logic


@dataclass(frozen=True, kw_only=True)
class AutomatedDecisionScope(RequestScope):
    """A request about a decision based solely on automated processing (EU GDPR Art. 22; UK GDPR Arts. 22A-22D).

    ``decision`` describes it in the person's words, ``decided_on`` when they know it; ``safeguards`` are what they
    ask for; ``point_of_view`` is what they want the reviewer to weigh (Art. 22(3); UK Art. 22C(2)(c)).
    """

    right: ClassVar[str] = Right.AUTOMATED_DECISION
    decision: str = ""
    decided_on: date | None = None
    safeguards: tuple[DecisionSafeguard, ...] = ()
    point_of_view: str = ""

    @classmethod
    def parse(cls, details: Mapping[str, Any]) -> "AutomatedDecisionScope":
        return cls(
            special_category_data=bool(details.get("special_category_data")),
            decision=_text(details, "decision_description"),
            decided_on=_date(details, "decision_date"),
            safeguards=_choices(details, "decision_safeguards", DecisionSafeguard),
            point_of_view=_text(details, "decision_point_of_view"),
        )

    def as_details(self) -> dict[str, Any]:
        return {
            "decision_description": self.decision,
            "decision_date": self.decided_on.isoformat() if self.decided_on else None,
            "decision_safeguards": [str(safeguard) for safeguard in self.safeguards],
            "decision_point_of_view": self.point_of_view,
            **super().as_details(),
        }


Scope = (
    AccessScope
    | RectificationScope
    | ErasureScope
    | RestrictionScope
    | ObjectionScope
    | PortabilityScope
    | ConsentWithdrawalScope
    | AutomatedDecisionScope
)

SCOPES: dict[str, type[Scope]] = {
    scope.right: scope
    for scope in (
        AccessScope,
        RectificationScope,
        ErasureScope,
        RestrictionScope,
        ObjectionScope,
        PortabilityScope,
        ConsentWithdrawalScope,
        AutomatedDecisionScope,
    )
}


def scope_from(*, right: str, details: Mapping[str, Any]) -> Scope:
    """The scope of a request for ``right`` whose stored answers are ``details``."""
    return SCOPES[right].parse(details)


def scope_of(request: DataSubjectRequest) -> Scope:
    """What ``request`` asks for, as the typed scope of its right."""
    return scope_from(right=request.right, details=request.details or {})


@dataclass(frozen=True, kw_only=True)
class AgentAuthority:
    """Who an agent acts for and on what authority, as the agent stated it when filing.

    A person may exercise their rights through someone else (GDPR Recital 59 and Art. 12(2); UK DPA 2018 s.166 for a
    representative); the organisation checks the authority before acting (Art. 12(6)). ``relationship`` and
    ``authority_type`` are the stored choice values of the agent's filing form (``agents.forms``).
    """

    subject_name: str = ""
    relationship: str = ""
    authority_type: str = ""

    @property
    def for_a_child(self) -> bool:
        """A parent acting for a child: staff weigh the child's maturity before disclosing (ICO guidance)."""
        return self.relationship == "parent" or self.authority_type == "parental_responsibility"

    @classmethod
    def parse(cls, agent: Mapping[str, Any]) -> "AgentAuthority":
        return cls(
            subject_name=_text(agent, "subject_name"),
            relationship=_text(agent, "relationship"),
            authority_type=_text(agent, "authority_type"),
        )

    def as_details(self) -> dict[str, Any]:
        """The stored form, under the ``"agent"`` key of a request's details."""
        return {
            "agent": {
                "subject_name": self.subject_name,
                "relationship": self.relationship,
                "authority_type": self.authority_type,
            }
        }


def agent_authority_of(request: DataSubjectRequest) -> AgentAuthority | None:
    """The authority an agent claimed for ``request``; None when the person asked for themselves.

    A request filed by an agent whose details lack the authority (stored before agents stated it) still gets an
    empty authority, so that it is still shown and checked as an agent's request.
    """
    agent = (request.details or {}).get("agent")
    if isinstance(agent, Mapping):
        return AgentAuthority.parse(agent)
    if request.requester_role == RequesterRole.AGENT:
        return AgentAuthority()
    return None
