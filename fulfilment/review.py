"""Review before release (issue 12): a case handler withholds items of the compiled answer or redacts fields, with a
ground and a reason, and approves; an answer going to an agent needs a second, different approver; approval queues
the released archive's build (``release_build``).

The rules:

- GDPR Art. 15(4): the copy must not adversely affect the rights and freedoms of others, so other people's data in
  the person's records may be withheld or redacted (``OTHERS_GROUND``).
- GDPR Art. 23 with national law (UK: DPA 2018 Sch. 2-4): a named exemption of the request's law may apply to an
  item (the exemptions the refusal grounds use, ``requests_app.grounds.exemptions_for``).
- GDPR Art. 12(4): where we do not act on part of a request the person is told, with the reason and their right to
  complain: the released archive's report counts what was withheld or redacted per system, and on what ground.
- GDPR Art. 15(3), 12(6) and 32: the answer goes to whom the authority decision says (the agent or the data
  subject); releasing to an agent is approved by a second person, and every approval asks for a fresh second factor
  (step-up, in the view).

Every decision, undo and move is written to the request's trail with table and column names and row numbers only,
never a value (the reason typed is kept encrypted on the decision, not in the trail).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from requests_app.audit import event_record
from requests_app.grounds import exemptions_for
from requests_app.locks import request_lock
from requests_app.models import DataSubjectRequest, EventKind, Exemption, RequesterRole, RespondTo

from .delivery import release_available_notify
from .models import (
    OTHERS_GROUND,
    Compilation,
    Redaction,
    RedactionKind,
    Release,
    ReleaseRecipient,
    ReleaseStatus,
    SearchPart,
)
from .release_lifecycle import RELEASE_LIFECYCLE
from .transmission import portability_transmit_after_release

OTHERS_LABEL = gettext_lazy("GDPR Art. 15(4): the rights and freedoms of others (other people's data)")


class ReviewError(ValueError):
    """A review decision or approval the rules refuse; the message is safe to show to staff."""


def download_days() -> int:
    """How long a released archive can be downloaded (``DSAR_DOWNLOAD_DAYS``, 14 by default)."""
    return int(getattr(settings, "DSAR_DOWNLOAD_DAYS", 14))


# --- Grounds -------------------------------------------------------------------------------------------------------


def grounds_for(jurisdiction: str) -> list[tuple[str, str]]:
    """The grounds a handler may give for withholding or redacting (value, label): Art. 15(4), then the exemptions
    of the request's law, in the order the law issue lists them (Art. 23; UK DPA 2018 Sch. 2-4)."""
    allowed = exemptions_for(jurisdiction)
    return [(OTHERS_GROUND, str(OTHERS_LABEL))] + [
        (value, str(label)) for value, label in Exemption.choices if value in allowed
    ]


def ground_label(ground: str) -> str:
    if ground == OTHERS_GROUND:
        return str(OTHERS_LABEL)
    try:
        return str(Exemption(ground).label)
    except ValueError:
        return ground


def ground_marker(ground: str) -> str:
    """The short citation put where a redacted value was: "GDPR Art. 15(4)", "DPA 2018 Sch. 2 para 16"."""
    if ground == OTHERS_GROUND:
        return "Art 15(4)"
    return ground_label(ground).split(":", 1)[0]


def redaction_marker(ground: str) -> str:
    return f"[withheld: {ground_marker(ground)}]"


# --- Opening a release -----------------------------------------------------------------------------------------------


def recipient_of(request: DataSubjectRequest) -> str:
    """Who receives the answer (GDPR Art. 15(3), 12(6)): the data subject, unless an agent asked and the authority
    decision recorded delivery to the agent (``identity.services.response_recipient`` sets ``respond_to``)."""
    if request.requester_role == RequesterRole.AGENT and request.respond_to == RespondTo.REQUESTER:
        return ReleaseRecipient.AGENT
    return ReleaseRecipient.SUBJECT


def release_open(*, compilation: Compilation) -> Release:
    """The first copy of an assembled compilation's answer, in review (idempotent: one per compilation and copy).
    Called in the assembly's transaction, the request locked."""
    release = Release.objects.filter(compilation=compilation, copy_number=1).first()
    if release is not None:
        return release
    request = compilation.request
    release = Release.objects.create(
        compilation=compilation, request=request, copy_number=1, recipient=recipient_of(request)
    )
    event_record(
        request_id=request.pk,
        kind=EventKind.RELEASE_STATUS_CHANGED,
        actor_kind="system",
        to_status=ReleaseStatus.IN_REVIEW,
        reason=f"Copy 1 of compilation {compilation.attempt} in review before release "
        f"(to {ReleaseRecipient(release.recipient).label})",
    )
    return release


# --- Decisions -------------------------------------------------------------------------------------------------------


def _where(part: SearchPart, kind: str, row: int, column: str) -> str:
    """The item a decision covers, for the trail: system, table, column name and row number, never a value."""
    table = f"table {part.table} of {part.job.system.name}"
    return {
        RedactionKind.TABLE: table,
        RedactionKind.ROW: f"row {row} of {table}",
        RedactionKind.COLUMN: f"column {column} of {table}",
        RedactionKind.CELL: f"column {column} of row {row} of {table}",
    }[kind]


def _locked_release(release_id: int) -> Release:
    release = Release.objects.get(pk=release_id)
    request_lock(release.request_id)
    return Release.objects.select_for_update(of=("self",)).select_related("request").get(pk=release_id)


def redaction_add(
    *,
    release: Release,
    part: SearchPart,
    kind: str,
    ground: str,
    reason: str,
    actor: AbstractBaseUser,
    row: int | None = None,
    column: str = "",
) -> Redaction:
    """Withhold a table or a row, or redact a column or a cell, of a release in review, with a ground and a reason
    (GDPR Art. 15(4); Art. 23 / DPA 2018 Sch. 2-4). Raises ReviewError with what to fix."""
    reason = reason.strip()
    column = column.strip()
    if kind not in RedactionKind.values:
        raise ReviewError(_("Choose what to withhold or redact."))
    if ground not in dict(grounds_for(release.request.jurisdiction)):
        raise ReviewError(_("Choose the ground for withholding or redacting, from the law that applies."))
    if not reason:
        raise ReviewError(_("Say why, in your own words: the ground alone is not a reason."))
    needs_row = kind in (RedactionKind.ROW, RedactionKind.CELL)
    needs_column = kind in (RedactionKind.COLUMN, RedactionKind.CELL)
    if needs_row:
        if row is None or not 1 <= row <= part.rows:
            raise ReviewError(_("Give a row number between 1 and %(rows)s.") % {"rows": part.rows})
    else:
        row = 0
    if needs_column:
        if column not in part.columns:
            raise ReviewError(_("Choose one of the table's columns."))
    else:
        column = ""
    if part.job.compilation_id != release.compilation_id:
        raise ReviewError(_("This table is not part of the answer under review."))
    with transaction.atomic():
        locked = _locked_release(release.pk)
        if locked.status != ReleaseStatus.IN_REVIEW:
            raise ReviewError(_("The answer is no longer in review: decisions can change only before approval."))
        try:
            with transaction.atomic():
                redaction = Redaction.objects.create(
                    release=locked,
                    part=part,
                    kind=kind,
                    row=row,
                    column=column,
                    ground=ground,
                    reason=reason,
                    created_by=actor,
                )
        except IntegrityError:
            raise ReviewError(_("That decision is recorded already.")) from None
        event_record(
            request_id=locked.request_id,
            kind=EventKind.RELEASE_REVIEWED,
            actor=actor,
            actor_kind="staff",
            reason=f"{RedactionKind(kind).label}: {_where(part, kind, row, column)} ({ground_marker(ground)})",
        )
    return redaction


def redaction_undo(*, redaction: Redaction, actor: AbstractBaseUser) -> bool:
    """Undo a decision while the answer is still in review; False when it was undone already (a second click)."""
    with transaction.atomic():
        locked = _locked_release(redaction.release_id)
        if locked.status != ReleaseStatus.IN_REVIEW:
            raise ReviewError(_("The answer is no longer in review: decisions can change only before approval."))
        current = Redaction.objects.select_for_update(of=("self",)).select_related("part__job__system")
        current = current.get(pk=redaction.pk)
        if current.undone_at is not None:
            return False
        current.undone_at, current.undone_by = timezone.now(), actor
        current.save(update_fields=["undone_at", "undone_by"])
        event_record(
            request_id=locked.request_id,
            kind=EventKind.RELEASE_REVIEWED,
            actor=actor,
            actor_kind="staff",
            reason=f"Undone: {RedactionKind(current.kind).label}: "
            f"{_where(current.part, current.kind, current.row, current.column)}",
        )
    return True


# --- Approval --------------------------------------------------------------------------------------------------------


def release_build_enqueue(release_id: int) -> None:
    from . import tasks

    tasks.build_release.delay(release_id)


def may_approve(release: Release, user: AbstractBaseUser) -> bool:
    """Whether ``user`` (who may act on the request) can approve now: in review, anyone; waiting for a second
    approval, anyone but the first approver (GDPR Art. 15(3), 12(6))."""
    if release.status == ReleaseStatus.IN_REVIEW:
        return True
    return release.status == ReleaseStatus.AWAITING_SECOND_APPROVAL and release.approved_by_id != user.pk


def release_approve(*, release: Release, actor: AbstractBaseUser) -> str:
    """Approve a release (the view asked for a fresh second factor first). To the data subject: one approval, and the
    released archive is built. To an agent (GDPR Art. 15(3), 12(6)): a first approval waits for a second person with
    the same permission; the first approver cannot be the second. Returns the release's new status; raises
    ReviewError when the rules refuse."""
    with transaction.atomic():
        locked = _locked_release(release.pk)
        now = timezone.now()
        if locked.status == ReleaseStatus.IN_REVIEW:
            if locked.recipient == ReleaseRecipient.AGENT:
                RELEASE_LIFECYCLE.move(
                    locked,
                    ReleaseStatus.AWAITING_SECOND_APPROVAL,
                    actor=actor,
                    actor_kind="staff",
                    reason="First approval of a release to the agent; a second person must approve",
                    changes={"approved_by": actor, "approved_at": now},
                )
                return locked.status
            RELEASE_LIFECYCLE.move(
                locked,
                ReleaseStatus.PREPARING,
                actor=actor,
                actor_kind="staff",
                reason="Release approved",
                changes={"approved_by": actor, "approved_at": now},
            )
        elif locked.status == ReleaseStatus.AWAITING_SECOND_APPROVAL:
            if locked.approved_by_id == actor.pk:
                raise ReviewError(
                    _(
                        "You approved this release already. An answer going to an agent needs a second, different "
                        "person's approval."
                    )
                )
            RELEASE_LIFECYCLE.move(
                locked,
                ReleaseStatus.PREPARING,
                actor=actor,
                actor_kind="staff",
                reason="Second approval of a release to the agent",
                changes={"second_approved_by": actor, "second_approved_at": now},
            )
        else:
            raise ReviewError(_("This release was approved already."))
        release_id = locked.pk
        transaction.on_commit(lambda: release_build_enqueue(release_id))
    _copy_status(release, locked)
    return locked.status


def release_send_back(*, release: Release, actor: AbstractBaseUser, reason: str) -> None:
    """The second approver sends a release to an agent back to review, saying why; the first approval lapses."""
    reason = reason.strip()
    if not reason:
        raise ReviewError(_("Say why the answer goes back to review."))
    with transaction.atomic():
        locked = _locked_release(release.pk)
        if locked.status != ReleaseStatus.AWAITING_SECOND_APPROVAL:
            raise ReviewError(_("Only an answer waiting for a second approval can be sent back."))
        if locked.approved_by_id == actor.pk:
            raise ReviewError(_("Only the second approver sends an answer back to review."))
        RELEASE_LIFECYCLE.move(
            locked,
            ReleaseStatus.IN_REVIEW,
            actor=actor,
            actor_kind="staff",
            reason=f"Sent back to review: {reason}",
            changes={"approved_by": None, "approved_at": None},
        )
    _copy_status(release, locked)


def _copy_status(target: Release, source: Release) -> None:
    for name in ("status", "approved_by_id", "approved_at", "second_approved_by_id", "second_approved_at"):
        setattr(target, name, getattr(source, name))


def release_make_available(*, release: Release, stored_name: str, size: int, sha256: str, manifest: list) -> Release:
    """The built archive's move to available, with its download window (``DSAR_DOWNLOAD_DAYS``). In the build's
    transaction, the release locked."""
    now = timezone.now()
    RELEASE_LIFECYCLE.move(
        release,
        ReleaseStatus.AVAILABLE,
        actor_kind="system",
        reason=f"Released archive of copy {release.copy_number} built",
        changes={
            "archive_name": stored_name,
            "archive_bytes": size,
            "archive_sha256": sha256,
            "manifest": manifest,
            "available_at": now,
            "expires_at": now + timedelta(days=download_days()),
        },
    )
    # The recipient is told the answer is ready (the download needs a fresh code: fulfilment.delivery), and a
    # portability answer goes to the receiving controller where a case handler found that feasible (Art. 20(2)).
    release_available_notify(release)
    release_id = release.pk
    transaction.on_commit(lambda: portability_transmit_after_release(release_id))
    return release


# --- What the build applies ------------------------------------------------------------------------------------------


@dataclass
class PartEdits:
    """The live decisions on one table: withheld whole, withheld rows, redacted columns and cells (with grounds)."""

    withheld: str = ""  # the ground, when the whole table is withheld
    rows: dict[int, str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    cells: dict[tuple[int, str], str] = field(default_factory=dict)

    @property
    def touched(self) -> bool:
        return bool(self.withheld or self.rows or self.columns or self.cells)

    def apply(self, items: Iterable[dict]) -> Iterator[dict]:
        """The table's rows, in order, withheld rows left out and redacted fields replaced by their marker."""
        for number, item in enumerate(items, start=1):
            if number in self.rows:
                continue
            for column, ground in self.columns.items():
                if column in item:
                    item[column] = redaction_marker(ground)
            for (row, column), ground in self.cells.items():
                if row == number and column in item:
                    item[column] = redaction_marker(ground)
            yield item


class ReleasePlan:
    """The decisions of a release, as ``services._archive_entries`` asks for them (duck-typed there: ``edits``,
    ``rows_kept``, ``summary``)."""

    def __init__(self, release: Release) -> None:
        self.release = release
        self._parts: dict[int, PartEdits] = {}
        # The decisions made in review, on the first copy: a further copy (GDPR Art. 15(3)) is the same reviewed
        # answer, so it withholds and redacts exactly what the first did.
        self._decisions = list(
            Redaction.objects.filter(
                release__compilation_id=release.compilation_id, release__copy_number=1, undone_at=None
            )
            .select_related("part__job__system")
            .order_by("pk")
        )
        for decision in self._decisions:
            edits = self._parts.setdefault(decision.part_id, PartEdits())
            if decision.kind == RedactionKind.TABLE:
                edits.withheld = decision.ground
            elif decision.kind == RedactionKind.ROW:
                edits.rows[decision.row] = decision.ground
            elif decision.kind == RedactionKind.COLUMN:
                edits.columns[decision.column] = decision.ground
            else:
                edits.cells[(decision.row, decision.column)] = decision.ground

    def edits(self, part: SearchPart) -> PartEdits | None:
        edits = self._parts.get(part.pk)
        return edits if edits is not None and edits.touched else None

    def rows_kept(self, part: SearchPart) -> int:
        edits = self.edits(part)
        if edits is None:
            return part.rows
        if edits.withheld:
            return 0
        return part.rows - len(edits.rows)

    def summary(self) -> dict[str, list[dict]]:
        """Per system name: what was withheld and redacted on each ground, counted (GDPR Art. 12(4))."""
        counts: dict[str, dict[str, dict]] = {}
        for decision in self._decisions:
            system = decision.part.job.system.name
            entry = counts.setdefault(system, {}).setdefault(
                decision.ground, {"ground": ground_label(decision.ground), "withheld": 0, "redacted": 0}
            )
            entry["withheld" if decision.withholds else "redacted"] += 1
        return {system: list(grounds.values()) for system, grounds in counts.items()}
