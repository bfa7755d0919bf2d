"""Rectification decisions (GDPR Art. 16): the approved correction per system, carried out by one RECTIFY run.

The case handler records, per system, the table and column to correct and the new value, offered only among the
columns the register marks ``rectifiable`` for that system (``datasystems.change_rules.rectifiable_columns``); for a
manual system, the instruction its owner carries out. Or they record that the data is accurate (a refusal on that
ground, the person's own statement recorded with the data), or that the person's supplementary statement is stored
(Art. 16, second sentence: "including by means of providing a supplementary statement"), passed to the systems in
the run's ``instruction.supplementary_statement``. The new values are encrypted at rest, in the corrections and in
the run's payload.

A RECTIFY run needs the engine's approval (a destructive change). Once the decision is made, a restriction the
person asked for while the accuracy was checked (Art. 18(1)(a)) has no ground left: the person is told when it will
be lifted (Art. 18(3)). The request is completed when the run is done.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from datasystems.change_rules import rectifiable_columns
from datasystems.connectors.changes import ChangeKind
from datasystems.models import DataSystem
from requests_app.audit import actor_kind_of, event_record
from requests_app.locks import request_lock
from requests_app.models import DataSubjectRequest, EventKind, Outcome, RefusalGround, Right, Status
from requests_app.scope import RectificationScope, scope_of
from requests_app.services import RequestError, request_complete, request_refuse

from .models import ChangeRun
from .models_decisions import (
    RectificationCorrection,
    RectificationDecision,
    RectificationOutcome,
    Restriction,
    RestrictionGroundChoice,
    on_ground,
)
from .restrictions import ACCURACY_DECIDED, restriction_start, restrictions_end_of_ground
from .services import change_run_start

MANUAL = "manual"


class RectificationError(Exception):
    """The decision cannot be recorded as given; the message is for staff."""


@dataclass(frozen=True)
class Correction:
    """One correction in one system: ``table``.``column`` = ``value``, or a manual system's ``instruction``."""

    system: DataSystem
    table: str = ""
    column: str = ""
    value: str = ""
    instruction: str = ""


def is_manual(system: DataSystem) -> bool:
    """A system whose owner carries out the change by hand (no connector can write to it)."""
    return system.connector == MANUAL


def column_choices(system: DataSystem) -> list[tuple[str, str]]:
    """The ``table.column`` pairs a correction may set in ``system`` (Art. 16: only those the register allows)."""
    return [
        (f"{table}.{column}", f"{table}.{column}")
        for table, columns in rectifiable_columns(system.connector_config).items()
        for column in columns
    ]


def correction_check(correction: Correction) -> Correction:
    """A correction the register allows: a column marked rectifiable with a new value, or for a manual system an
    instruction for its owner."""
    system = correction.system
    if not system.active:
        raise RectificationError(_("%(system)s is not in use.") % {"system": system.name})
    if is_manual(system):
        if not correction.instruction.strip():
            raise RectificationError(
                _("Say what the owner of %(system)s must correct, and to what.") % {"system": system.name}
            )
        return Correction(system=system, instruction=correction.instruction.strip())
    allowed = rectifiable_columns(system.connector_config)
    if correction.column not in allowed.get(correction.table, ()):
        raise RectificationError(
            _("%(column)s cannot be corrected in %(system)s: the register allows only its rectifiable columns.")
            % {"column": f"{correction.table}.{correction.column}", "system": system.name}
        )
    if not correction.value.strip():
        raise RectificationError(_("Give the corrected value."))
    return Correction(system=system, table=correction.table, column=correction.column, value=correction.value.strip())


def rectification_payload(corrections: Sequence[Correction], statement: str = "") -> dict:
    """The RECTIFY run's payload (stored encrypted by the engine, ``changes.services.table_instructions``): per
    system, table -> column -> corrected value; per manual system, its owner's instruction; and the supplementary
    statement (Art. 16), which the engine passes on as ``instruction.supplementary_statement``."""
    systems: dict[str, dict] = {}
    instructions: dict[str, str] = {}
    for correction in corrections:
        if correction.instruction:
            instructions[str(correction.system.pk)] = correction.instruction
        else:
            systems.setdefault(str(correction.system.pk), {}).setdefault(correction.table, {})[correction.column] = (
                correction.value
            )
    return {"systems": systems, "instructions": instructions, "statement": statement}


def rectification_decide(
    *,
    request: DataSubjectRequest,
    actor: AbstractBaseUser,
    outcome: str,
    corrections: Sequence[Correction] = (),
    systems: Sequence[DataSystem] = (),
    note: str = "",
    statement_recorded: str = "",
) -> RectificationDecision:
    """Record the decision on a rectification request (GDPR Art. 16) and start carrying it out.

    - corrected: at least one correction, each checked by ``correction_check``; a RECTIFY run (engine approval).
    - statement_added: the person's supplementary statement, from the request, stored in ``systems``.
    - data_accurate: the request is refused on that ground, with the reasons (``note``) and how the person's own
      statement was recorded (``statement_recorded``).
    """
    if request.right != Right.RECTIFICATION:
        raise RectificationError(_("This is not a rectification request."))
    if outcome not in RectificationOutcome.values:
        raise RectificationError(_("Choose the decision."))
    scope: RectificationScope = scope_of(request)
    checked: list[Correction] = []
    statement = ""
    if outcome == RectificationOutcome.CORRECTED:
        if not corrections:
            raise RectificationError(_("Record at least one correction."))
        checked = [correction_check(correction) for correction in corrections]
        systems = list({correction.system.pk: correction.system for correction in checked}.values())
    elif outcome == RectificationOutcome.STATEMENT_ADDED:
        statement = scope.supplementary_statement.strip()
        if not statement:
            raise RectificationError(_("The person gave no supplementary statement to store."))
        if not systems:
            raise RectificationError(_("Choose the systems in which the statement is stored."))
    with transaction.atomic():
        locked = request_lock(request.pk)
        if locked.status != Status.IN_PROGRESS or RectificationDecision.objects.filter(request=request).exists():
            raise RectificationError(_("The request was decided meanwhile, or is no longer in progress."))
        decision = RectificationDecision.objects.create(
            request=request, outcome=outcome, note=note.strip(), decided_by=actor
        )
        RectificationCorrection.objects.bulk_create(
            RectificationCorrection(
                decision=decision,
                system=correction.system,
                table=correction.table,
                column=correction.column,
                value=correction.value,
                instruction=correction.instruction,
            )
            for correction in checked
        )
        event_record(
            request_id=request.pk,
            kind=EventKind.RECTIFICATION_DECIDED,
            actor=actor,
            actor_kind=actor_kind_of(actor),
            # What was decided and where, never the values.
            reason=RectificationOutcome(outcome).label
            + (": " + ", ".join(system.name for system in systems) if systems else ""),
        )
        if outcome == RectificationOutcome.DATA_ACCURATE:
            try:
                request_refuse(
                    request=request,
                    actor=actor,
                    ground=RefusalGround.RECTIFICATION_DATA_ACCURATE,
                    reasons=note,
                    statement_recorded=statement_recorded,
                )
            except RequestError as error:
                raise RectificationError(str(error)) from None
        else:
            decision.run = change_run_start(
                request=request,
                kind=ChangeKind.RECTIFY,
                actor=actor,
                payload=rectification_payload(checked, statement),
                systems=list(systems),
            )
            decision.save(update_fields=["run"])
        # Art. 18(1)(a) ends with the decision: the person is told before the restriction is lifted (Art. 18(3)).
        restrictions_end_of_ground(
            request_id=request.pk,
            grounds=[RestrictionGroundChoice.ACCURACY_CONTESTED],
            reason=str(ACCURACY_DECIDED),
        )
    return decision


def restrict_while_checking(*, request_id: int) -> Restriction | None:
    """The person asked for restriction while the accuracy is checked (Art. 18(1)(a)): put it in place as soon as
    the rectification request is in progress. Idempotent; None when not asked or already there."""
    request = DataSubjectRequest.objects.get(pk=request_id)
    if request.right != Right.RECTIFICATION or request.status != Status.IN_PROGRESS:
        return None
    scope = scope_of(request)
    if not scope.restrict_while_checking or RectificationDecision.objects.filter(request=request).exists():
        return None
    with transaction.atomic():
        request_lock(request.pk)
        if Restriction.objects.filter(on_ground(RestrictionGroundChoice.ACCURACY_CONTESTED), request=request).exists():
            return None
        return restriction_start(
            request=request,
            grounds=[RestrictionGroundChoice.ACCURACY_CONTESTED],
            scope=scope.wrong,
            actor=None,
        )


def restrictions_while_checking_sweep() -> int:
    """Start the restriction of every rectification in progress that asked for it and has none (its task was lost
    because the broker was away). The scope is read here, in the worker."""
    waiting = (
        DataSubjectRequest.objects.filter(right=Right.RECTIFICATION, status=Status.IN_PROGRESS)
        .exclude(on_ground(RestrictionGroundChoice.ACCURACY_CONTESTED, path="restrictions__grounds"))
        .exclude(rectification_decision__isnull=False)
        .values_list("pk", flat=True)
    )
    return sum(restrict_while_checking(request_id=request_id) is not None for request_id in list(waiting))


def rectification_run_finished(*, run: ChangeRun) -> bool:
    """The RECTIFY run is done: complete the request (Art. 16; the corrections are in the systems)."""
    if run.status != "done":
        return False
    decision = RectificationDecision.objects.filter(run=run).select_related("request", "decided_by").first()
    if decision is None or decision.request.status != Status.IN_PROGRESS:
        return False
    summary = (
        _("We have corrected your data in the systems that held it.")
        if decision.outcome == RectificationOutcome.CORRECTED
        else _("We have stored your supplementary statement with your data.")
    )
    try:
        request_complete(
            request=decision.request, actor=decision.decided_by, outcome=Outcome.FULFILLED, summary=summary
        )
    except RequestError:
        return False
    return True
