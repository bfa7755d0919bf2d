"""Reasons for everything not done: which refusal ground fits which right, and what each one must carry.

GDPR Art. 12(4): where the controller does not take action on a request, it tells the person without delay, and at
the latest within one month, the reasons, and their right to complain to a supervisory authority and to seek a
judicial remedy. A reason must be one the law gives for *that* right (LAW.md R1): the exceptions to erasure are not
a reason to refuse access. ``decision_check`` turns a staff decision into the particulars stored on the request,
or raises ``GroundError`` with a message safe to show to the member of staff.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from . import deadlines
from .models import Exemption, RefusalGround, Right

G = RefusalGround

# Grounds open to every right. Art. 12(5): manifestly unfounded or excessive; Art. 23 with national law (UK: DPA
# 2018 Sch. 2-4): a named exemption; Art. 11(2) and 12(2): not in a position to identify the person; Art. 12(6):
# identity not confirmed; an agent the data subject disowned.
ANY_RIGHT: frozenset[str] = frozenset(
    {
        G.MANIFESTLY_UNFOUNDED,
        G.MANIFESTLY_EXCESSIVE,
        G.EXEMPTION,
        G.IDENTITY_NOT_VERIFIED,
        G.SUBJECT_DENIED_AGENT,
        G.NOT_IN_POSITION_TO_IDENTIFY,
    }
)

# Right -> the grounds on which it may be refused. A right the table does not name (a kind added later) gets the
# grounds open to every right, never another right's.
ALLOWED_GROUNDS: dict[str, frozenset[str]] = {
    Right.ACCESS: ANY_RIGHT,
    # Art. 16: the data are accurate; the person's own statement is recorded with them.
    Right.RECTIFICATION: ANY_RIGHT | {G.RECTIFICATION_DATA_ACCURATE},
    # Art. 17(3)(a)-(e).
    Right.ERASURE: ANY_RIGHT
    | {
        G.ERASURE_FREEDOM_OF_EXPRESSION,
        G.ERASURE_LEGAL_OBLIGATION,
        G.ERASURE_PUBLIC_HEALTH,
        G.ERASURE_ARCHIVING_RESEARCH,
        G.ERASURE_LEGAL_CLAIMS,
    },
    # Art. 18(1): none of its grounds made out.
    Right.RESTRICTION: ANY_RIGHT | {G.RESTRICTION_GROUND_NOT_MADE_OUT},
    # Art. 21(1): compelling legitimate grounds, legal claims; Art. 21(6): research in the public interest.
    Right.OBJECTION: ANY_RIGHT
    | {G.OBJECTION_COMPELLING_GROUNDS, G.OBJECTION_LEGAL_CLAIMS, G.OBJECTION_PUBLIC_INTEREST_RESEARCH},
    # Art. 20(1)(a), 20(1)(b), 20(3), 20(4).
    Right.PORTABILITY: ANY_RIGHT
    | {
        G.PORTABILITY_NOT_CONSENT_OR_CONTRACT,
        G.PORTABILITY_NOT_AUTOMATED,
        G.PORTABILITY_PUBLIC_TASK,
        G.PORTABILITY_ADVERSELY_AFFECTS_OTHERS,
    },
}

# GDPR Art. 21(2)-(3): an objection to direct marketing is absolute. Nothing can be weighed against it and it is
# never manifestly unfounded or excessive (issue 10); only a request that is not the person's own can fail.
DIRECT_MARKETING_GROUNDS: frozenset[str] = frozenset({G.IDENTITY_NOT_VERIFIED, G.SUBJECT_DENIED_AGENT})

# Art. 12(5): the controller bears the burden of demonstrating the manifestly unfounded or excessive character
# (EDPB Guidelines 01/2022 §6.3); Art. 11(2): the controller must be able to demonstrate it cannot identify the
# person. Both need an internal note of the evidence.
NEEDS_EVIDENCE_NOTE: frozenset[str] = frozenset(
    {G.MANIFESTLY_UNFOUNDED, G.MANIFESTLY_EXCESSIVE, G.NOT_IN_POSITION_TO_IDENTIFY}
)

UK_EXEMPTIONS: frozenset[str] = frozenset(value for value in Exemption.values if value.startswith("uk_"))
EU_EXEMPTIONS: frozenset[str] = frozenset({Exemption.EU_ART23})
# The exemptions under which the UK "neither confirm nor deny" reply is open: where saying that the exemption
# applies, or which one, would itself prejudice what the exemption protects (ICO guidance on exemptions, e.g.
# DPA 2018 Sch. 2 para 2, crime and taxation; para 5, legal proceedings). Never in the EU, whose Art. 12(4)
# has no such variant.
NEITHER_CONFIRM_NOR_DENY_EXEMPTIONS: frozenset[str] = frozenset(
    {Exemption.UK_SCH2_PARA2, Exemption.UK_SCH2_PARA5, Exemption.UK_SCH2_OTHER, Exemption.UK_SCH4}
)
NEITHER_CONFIRM_NOR_DENY_PERMISSION = "requests_app.refuse_neither_confirm_nor_deny"


class GroundError(ValueError):
    """A decision the law does not allow; the message is safe to show to staff."""


def allowed_grounds(*, right: str, details: Mapping[str, Any] | None = None) -> frozenset[str]:
    """The refusal grounds open to a request for ``right`` (GDPR Art. 12(4) with Arts. 16-21, 11(2), 12(5), 23)."""
    if right == Right.OBJECTION and (details or {}).get("objection_type") == "direct_marketing":
        return DIRECT_MARKETING_GROUNDS
    return ALLOWED_GROUNDS.get(right, ANY_RIGHT)


def exemptions_for(jurisdiction: str) -> frozenset[str]:
    """UK: DPA 2018 Sch. 2, 3 and 4; EU/EEA: a national-law restriction under GDPR Art. 23."""
    return UK_EXEMPTIONS if deadlines.is_uk(jurisdiction) else EU_EXEMPTIONS


@dataclass(frozen=True)
class Refusal:
    """A refusal as the law requires it to be made, ready to store on the request."""

    ground: str
    reasons: str
    exemption: str = ""
    reference: str = ""
    note: str = ""
    statement_recorded: str = ""
    neither_confirm_nor_deny: bool = False

    def changes(self) -> dict[str, Any]:
        statement = {"statement_recorded": self.statement_recorded} if self.statement_recorded else {}
        return {
            "refusal_ground": self.ground,
            "refusal_exemption": self.exemption,
            "refusal_reference": self.reference,
            "neither_confirm_nor_deny": self.neither_confirm_nor_deny,
            "decision_note": self.note,
            "decision_statement": statement,
        }


def refusal_check(
    *,
    right: str,
    details: Mapping[str, Any] | None,
    jurisdiction: str,
    ground: str,
    reasons: str,
    exemption: str = "",
    reference: str = "",
    note: str = "",
    statement_recorded: str = "",
    neither_confirm_nor_deny: bool = False,
    may_neither_confirm_nor_deny: bool = False,
) -> Refusal:
    """Check a refusal against the rules of the right refused, and return what to store (GDPR Art. 12(4)).

    - The ground must be one the law gives for this right (``allowed_grounds``).
    - Art. 12(5) and 11(2): an internal evidence note is required (the burden is on the controller).
    - Art. 23 / DPA 2018 Sch. 2-4: a named exemption of the request's jurisdiction, with its exact reference in free
      text (the paragraph relied on; in the EU, the national law named).
    - Art. 16: "the data are accurate" states what was recorded of the person's own view (the supplementary
      statement), since they may have it added to the data.
    - UK "neither confirm nor deny" (ICO guidance on DPA 2018 Sch. 2): a DPO's decision (permission
      ``refuse_neither_confirm_nor_deny``), only on an exemption where stating it would tip someone off, with a
      mandatory internal reason; nothing of the ground or reasons is sent.
    """
    reasons, reference, note, statement_recorded = (
        reasons.strip(),
        reference.strip(),
        note.strip(),
        statement_recorded.strip(),
    )
    if ground not in RefusalGround.values:
        raise GroundError(_("Choose the ground for refusing."))
    if ground not in allowed_grounds(right=right, details=details):
        raise GroundError(
            _("'%(ground)s' is not a ground on which the law lets us refuse this kind of request.")
            % {"ground": RefusalGround(ground).label}
        )
    if ground == G.EXEMPTION:
        if exemption not in exemptions_for(jurisdiction):
            raise GroundError(_("Name the exemption relied on, from the law that applies to this request."))
        if not reference:
            raise GroundError(
                _(
                    "Give the exact reference of the exemption: the paragraph relied on, or for a restriction "
                    "under Art. 23 the national law and its provision."
                )
            )
    elif exemption or reference:
        raise GroundError(_("An exemption and its reference go only with the ground 'An exemption applies'."))
    if ground in NEEDS_EVIDENCE_NOTE and not note:
        raise GroundError(
            _(
                "Record the evidence for this decision in the internal note: for a manifestly unfounded or "
                "excessive request, what shows it (intent, repetition of earlier requests, burden against value); "
                "where we cannot identify the person, why."
            )
        )
    if ground == G.RECTIFICATION_DATA_ACCURATE and not statement_recorded:
        raise GroundError(
            _("Say how the person's own statement about the data has been recorded with it (GDPR Art. 16).")
        )
    if neither_confirm_nor_deny:
        if not may_neither_confirm_nor_deny:
            raise GroundError(_("Only the data protection officer can refuse without stating the ground."))
        if ground != G.EXEMPTION or exemption not in NEITHER_CONFIRM_NOR_DENY_EXEMPTIONS:
            raise GroundError(
                _(
                    "Neither confirming nor denying is open only under a UK exemption where stating it would "
                    "prejudice its purpose (for example DPA 2018 Sch. 2 para 2, crime and taxation)."
                )
            )
        if not note:
            raise GroundError(_("Record, in the internal note, why stating the ground would prejudice its purpose."))
    elif not reasons:
        raise GroundError(_("A refusal needs reasons, which we send to the person."))
    return Refusal(
        ground=ground,
        reasons=reasons,
        exemption=exemption,
        reference=reference,
        note=note,
        statement_recorded=statement_recorded,
        neither_confirm_nor_deny=neither_confirm_nor_deny,
    )


@dataclass(frozen=True)
class PartNotDone:
    """One part of a partly fulfilled request: what we did, what we did not, and why (GDPR Art. 12(4)).

    ``ground`` is a refusal ground open to the request's right (e.g. which Art. 17(3) exception kept the data),
    ``reference`` the exemption's exact reference where the ground is an exemption.
    """

    done: str
    not_done: str
    why: str
    ground: str
    reference: str = ""


@dataclass(frozen=True)
class PartialStatement:
    parts: Sequence[PartNotDone] = field(default_factory=tuple)

    def as_stored(self) -> dict[str, Any]:
        return {
            "parts": [
                {
                    "done": part.done,
                    "not_done": part.not_done,
                    "why": part.why,
                    "ground": part.ground,
                    "reference": part.reference,
                }
                for part in self.parts
            ]
        }


def partial_statement_check(
    *, right: str, details: Mapping[str, Any] | None, parts: Sequence[Mapping[str, str]]
) -> PartialStatement:
    """A partly fulfilled request's statement, checked (GDPR Art. 12(4); LAW.md N3).

    What was not done is a refusal of that part, so each part needs what was done, what was not, why, and a ground
    the law gives for the request's right (erasure: the Art. 17(3) exception; objection: the Art. 21(1) compelling
    grounds; rectification: accuracy under Art. 16), with the exact reference for an exemption.
    """
    if not parts:
        raise GroundError(_("Say, for each part not done, what we did, what we did not do, and why."))
    checked = []
    for part in parts:
        done, not_done, why, ground, reference = (
            str(part.get(key, "")).strip() for key in ("done", "not_done", "why", "ground", "reference")
        )
        if not (done and not_done and why):
            raise GroundError(_("Each part needs what we did, what we did not do, and why."))
        if ground not in allowed_grounds(right=right, details=details) or ground in DIRECT_MARKETING_GROUNDS:
            raise GroundError(_("Each part not done needs a ground the law gives for this kind of request."))
        if ground == G.EXEMPTION and not reference:
            raise GroundError(_("Give the exact reference of the exemption relied on for the part not done."))
        checked.append(PartNotDone(done=done, not_done=not_done, why=why, ground=ground, reference=reference))
    return PartialStatement(parts=tuple(checked))


def parts_for_notice(statement: Mapping[str, Any]) -> list[dict[str, str]]:
    """The stored statement's parts with each ground's plain label, for the completion notice."""
    return [{**part, "ground_label": str(RefusalGround(part["ground"]).label)} for part in statement.get("parts", [])]
