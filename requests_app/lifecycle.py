"""Every lifecycle of a request and of what belongs to it: a table of allowed moves and one guarded setter.

A ``Lifecycle`` is data: the model, its status field, the moves allowed from each status, and the kind of audit
event a move writes. ``Lifecycle.move`` is the only code that changes that status. It

- locks the request's row first, then the object's (the lock order in ``requests_app.locks``);
- treats a move to the status the object already has as a no-op (a repeated click, a retried task);
- refuses a move the table does not allow with ``IllegalTransition``, which callers turn into a message;
- sets the fields that move with the status in the same save (an outcome, a decision date);
- writes the move to the request's audit trail.

The request's own lifecycle (``requests_app.workflow``) is one of these; identity verification and the subject's
answer to an agent are others; the fulfilment jobs to come will be too. An object that may belong to no request (a
complaint about nothing the portal handled) names its own ``record``: the writer of its history, called in the move's
transaction instead of the request's trail; without a request only the object's row is locked.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction

from .audit import event_record
from .locks import request_lock
from .models import DataSubjectRequest


class IllegalTransition(Exception):
    """The object cannot move from its current status to the one asked for."""

    def __init__(self, from_status: str, to_status: str, *, lifecycle: str = "request") -> None:
        self.from_status = from_status
        self.to_status = to_status
        self.lifecycle = lifecycle
        super().__init__(f"A {lifecycle} cannot move from {from_status!r} to {to_status!r}.")


@dataclass(frozen=True)
class Move:
    obj: models.Model
    from_status: str
    event: models.Model | None  # None when the object already had that status; a RequestEvent unless ``record``

    @property
    def changed(self) -> bool:
        return self.event is not None


@dataclass(frozen=True)
class Lifecycle:
    name: str
    model: type[models.Model]
    transitions: Mapping[str, frozenset[str]]
    # The audit event a move writes: one kind, or one per status moved to.
    event_kind: str | Mapping[str, str]
    field: str = "status"
    # Writes the move to the object's own history instead of the request's trail: called with the locked object
    # and the keyword arguments of ``event_record`` but ``request_id``; returns the event it wrote.
    record: Callable[..., models.Model] | None = None

    def can_move(self, from_status: str, to_status: str) -> bool:
        return to_status in self.transitions.get(from_status, frozenset())

    def move(
        self,
        obj: models.Model,
        to_status: str,
        *,
        actor: AbstractBaseUser | None = None,
        actor_kind: str,
        reason: str = "",
        changes: Mapping[str, Any] | None = None,
    ) -> Move:
        """Move ``obj`` to ``to_status``, setting ``changes`` with it; the caller's instance is refreshed."""
        changes = dict(changes or {})
        with transaction.atomic():
            if self.model is DataSubjectRequest:
                locked = request_lock(obj.pk)
                request_id = locked.pk
            else:
                request_id = obj.request_id
                if request_id is not None:
                    request_lock(request_id)
                locked = self.model._default_manager.select_for_update(of=("self",)).get(pk=obj.pk)
            from_status = getattr(locked, self.field)
            if from_status == to_status:
                _copy_into(obj, locked)
                return Move(obj=obj, from_status=from_status, event=None)
            if not self.can_move(from_status, to_status):
                raise IllegalTransition(from_status, to_status, lifecycle=self.name)
            setattr(locked, self.field, to_status)
            for name, value in changes.items():
                setattr(locked, name, value)
            update_fields = [self.field, *changes]
            if any(field.name == "updated_at" for field in self.model._meta.concrete_fields):
                update_fields.append("updated_at")
            locked.save(update_fields=update_fields)
            what = {
                "kind": self.event_kind if isinstance(self.event_kind, str) else self.event_kind[to_status],
                "actor": actor,
                "actor_kind": actor_kind,
                "reason": reason,
                "from_status": from_status,
                "to_status": to_status,
            }
            event = event_record(request_id=request_id, **what) if self.record is None else self.record(locked, **what)
            _copy_into(obj, locked)
            return Move(obj=obj, from_status=from_status, event=event)


def _copy_into(target: models.Model, source: models.Model) -> None:
    for field in type(source)._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
