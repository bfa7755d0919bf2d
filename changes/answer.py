"""The answer to the person after an erasure (GDPR Art. 12(3)-(4), 17): what was erased, what was kept and why,
the backups that hold it beyond use until they roll off, and the steps taken under Art. 17(2).

What was kept (or kept in anonymised form) is a refusal of that part: each becomes a part not done of
``requests_app.services.request_complete`` with its Art. 17(3) ground and reason, and the request is "partly
fulfilled". The portal's own marketing suppression entry is never part of an erasure (Art. 21(3)): it is kept so the
objection lasts, and the engine never touches it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from datasystems.connectors.changes import ChangeKind, TableAction
from requests_app import services as request_services
from requests_app.audit import event_record
from requests_app.locks import request_lock
from requests_app.models import DataSubjectRequest, EventKind, Outcome, Status

from .models import ChangeRun, RunStatus
from .selectors import run_results
from .services import ChangeError


@dataclass(frozen=True)
class Line:
    system: str
    table: str
    action: str
    rows: int = 0
    ground: str = ""
    reason: str = ""
    roll_off_on: date | None = None


@dataclass
class ErasureAnswer:
    erased: list[Line] = field(default_factory=list)
    kept: list[Line] = field(default_factory=list)
    beyond_use: list[Line] = field(default_factory=list)
    not_done: list[str] = field(default_factory=list)  # systems where the change failed
    publication_steps: str = ""

    def parts(self) -> list[dict[str, str]]:
        """Each item kept as a part not done (Art. 12(4)), with its Art. 17(3) ground."""
        erased = ", ".join(sorted({line.system for line in self.erased})) or _("none of our systems")
        parts = []
        for line in self.kept:
            if line.action == TableAction.ANONYMISE:
                not_done = _("The records in %(table)s of %(system)s were kept, with your details overwritten.") % {
                    "table": line.table,
                    "system": line.system,
                }
            else:
                not_done = _("Your data in %(table)s of %(system)s was kept.") % {
                    "table": line.table,
                    "system": line.system,
                }
            parts.append(
                {
                    "done": _("Your data was erased from: %(systems)s.") % {"systems": erased},
                    "not_done": not_done,
                    "why": line.reason,
                    "ground": line.ground,
                }
            )
        return parts

    def summary(self) -> str:
        """The words of the completion notice: what was erased, backups, and Art. 17(2) steps."""
        lines = []
        if self.erased:
            lines.append(_("We erased your data from these systems:"))
            lines += [
                f"- {line.system}: {line.table} ({_(line.action.replace('_', ' '))}, {line.rows})"
                for line in self.erased
            ]
        for line in self.beyond_use:
            lines.append(
                _(
                    "%(system)s: copies in our backups are put beyond use (never restored into use) and are gone when "
                    "the last backup rolls off on %(date)s."
                )
                % {"system": line.system, "date": line.roll_off_on.strftime("%d %B %Y") if line.roll_off_on else ""}
            )
        if self.publication_steps:
            lines.append(_("Your data had been made public. We told the other organisations using it:"))
            lines.append(self.publication_steps)
        return "\n".join(lines)


def erasure_answer(run: ChangeRun) -> ErasureAnswer:
    """What the erasure did, per system and table (the items are the proof, Art. 5(2))."""
    answer = ErasureAnswer(publication_steps=run.publication_steps)
    for result in run_results(run):
        if result.failed:
            answer.not_done.append(result.system_name)
            continue
        for item in result.items:
            line = Line(
                system=result.system_name,
                table=item.table,
                action=item.action,
                rows=item.rows,
                ground=item.ground,
                reason=item.reason,
                roll_off_on=item.roll_off_on,
            )
            if item.action in (TableAction.KEEP, TableAction.ANONYMISE):
                answer.kept.append(line)
            elif item.action == TableAction.BEYOND_USE:
                answer.beyond_use.append(line)
            else:
                answer.erased.append(line)
    return answer


def publication_steps_record(*, run: ChangeRun, actor: AbstractBaseUser, steps: str) -> ChangeRun:
    """GDPR Art. 17(2): the data was made public; record the reasonable steps taken to inform the other controllers
    processing it that the person asked for erasure (listed in the answer)."""
    steps = steps.strip()
    if run.kind != ChangeKind.ERASE:
        raise ChangeError(_("Steps under Article 17(2) belong to an erasure."))
    if not steps:
        raise ChangeError(_("Describe the steps taken."))
    with transaction.atomic():
        request_lock(run.request_id)
        locked = ChangeRun.objects.select_for_update().get(pk=run.pk)
        locked.publication_steps = steps
        locked.publication_steps_at = timezone.now()
        locked.publication_steps_by = actor
        locked.save(update_fields=["publication_steps", "publication_steps_at", "publication_steps_by", "updated_at"])
        event_record(
            request_id=locked.request_id,
            kind=EventKind.CHANGE_RECORDED,
            actor=actor,
            actor_kind="staff",
            reason="Article 17(2): steps taken to inform other controllers recorded",
        )
    run.refresh_from_db()
    return run


def erasure_answer_send(*, run: ChangeRun, actor: AbstractBaseUser) -> DataSubjectRequest:
    """Complete the erasure request with its answer (Art. 12(3)): fulfilled when everything was erased; partly
    fulfilled, with each kept item a part not done and its Art. 17(3) ground (Art. 12(4)), when something was kept.
    Only once every system's change is done (a failed one is retried first). Raises ChangeError."""
    if run.kind != ChangeKind.ERASE:
        raise ChangeError(_("Only an erasure has this answer."))
    if run.status != RunStatus.DONE:
        raise ChangeError(_("The erasure is not done in every system yet."))
    request = DataSubjectRequest.objects.get(pk=run.request_id)
    if request.status != Status.IN_PROGRESS:
        raise ChangeError(_("The request was answered already."))
    answer = erasure_answer(run)
    parts = answer.parts()
    outcome = Outcome.PARTLY_FULFILLED if parts else Outcome.FULFILLED
    try:
        return request_services.request_complete(
            request=request, actor=actor, outcome=outcome, summary=answer.summary(), parts=parts
        )
    except request_services.RequestError as error:
        raise ChangeError(str(error)) from None
