"""What a connector is asked to change in its system for one person, and what it answers (issue 13).

Access is half the job: erasure (GDPR Art. 17), rectification (Art. 16), restriction and its lifting (Art. 18) and
an objection to direct marketing (Art. 21(2)-(3)) must change data in every system that holds it. The portal's
change engine (``changes``) decides *what* is to happen in a system (from the register and the case handler's
approved decision) and hands the connector a ``ChangeInstruction``; the connector carries it out in its system and
answers with a ``ChangeOutcome`` saying, per table, what it did to how many rows.

Rules every connector keeps:

- **Set-based, batched, resumable.** A change is a few set-based statements per table (never one UPDATE per row),
  committed in bounded batches of at most ``instruction.batch_size`` rows. After each committed batch the connector
  calls ``progress.batch_done(...)`` with its new checkpoint; a run that is started again (after a crash or a lost
  worker) receives the last checkpoint in ``progress.checkpoint`` and carries on from there, so every row is changed
  exactly once. ``batch_done`` raises ``ChangeSuperseded`` when the run no longer owns the job (it was swept and
  started again elsewhere): the connector stops at once.
- **Idempotent.** Applying the same instruction twice leaves the system as applying it once (an anonymised row is
  not anonymised again, a deleted row is gone, a flag already set stays set), and the second answer reports 0 rows.
- **No personal data in errors or logs.** ``ConnectorError`` messages are written for staff and name tables and
  columns, never values.
- ``count`` answers how many rows each table instruction would touch, without changing anything: the case
  handler's approval screen shows it, and above ``settings.DSAR_CHANGE_DPO_APPROVAL_ROWS`` the DPO must approve as
  well.

A connector whose changes are carried out by a person (``manual``) does not implement ``apply_change``: the engine
turns the instruction into a task for the system owner instead. An HTTP system may answer later: ``apply_change``
then raises ``ChangePending`` (like ``SearchPending`` for searches) and the engine waits for its signed callback.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from .base import IDENTIFIER_FIELDS, Identifiers


class ChangeKind(StrEnum):
    """What is asked of the system. Stored values are never renamed once released."""

    ERASE = "erase"  # Art. 17: delete, anonymise in place, or put beyond use, table by table
    RECTIFY = "rectify"  # Art. 16: set the corrected values; or store a supplementary statement
    RESTRICT = "restrict"  # Art. 18(1): mark the person's data restricted (kept, not otherwise used)
    LIFT_RESTRICTION = "lift_restriction"  # Art. 18(3): only after the person was told, on or after the date given
    SUPPRESS_MARKETING = "suppress_marketing"  # Art. 21(2)-(3): no more direct marketing, in every channel


class MarketingChannel(StrEnum):
    """The ways an organisation markets to a person, each of which an objection to direct marketing stops (GDPR Art.
    21(2)-(3); LAW.md §6(e): e-mail, SMS, post, phone, online audiences and ad-platform uploads, and profiling for
    direct marketing). A consent history's channel column holds the first four; a table serving one other channel
    names it in its marketing rule (``change_rules``). Stored values are never renamed once released."""

    EMAIL = "email"
    SMS = "sms"
    POST = "post"
    PHONE = "phone"
    # Custom audiences: identifiers (hashed e-mail addresses) uploaded to an advertising platform to target ads.
    AUDIENCES = "audiences"
    # Art. 21(2): profiling "to the extent that it is related to such direct marketing" (segments, propensity scores).
    PROFILING = "profiling"


# Every channel: what an objection to direct marketing stops when the person names none (Art. 21(3)).
ALL_MARKETING_CHANNELS: tuple[str, ...] = tuple(channel.value for channel in MarketingChannel)


class TableAction(StrEnum):
    DELETE = "delete"  # the rows are deleted
    ANONYMISE = "anonymise"  # the rows stay (for example invoices kept for tax law); named fields are overwritten
    KEEP = "keep"  # nothing changes: kept on an Art. 17(3) ground, recorded with its reason
    BEYOND_USE = "beyond_use"  # backups: not restorable into use; they roll off on ``roll_off_on``
    UPDATE = "update"  # rectification: named columns set to the corrected values
    FLAG = "flag"  # restriction, its lifting, marketing suppression: named columns set to fixed values


class FieldStrategy(StrEnum):
    """How one field is anonymised in place (Art. 17 where records must survive)."""

    NULL = "null"  # set to NULL (or "" where the column does not allow NULL)
    FIXED = "fixed"  # set to a fixed value, e.g. "erased"
    KEYED_HASH = "keyed_hash"  # set to "anon:" + hex HMAC-SHA256(key, original value); not reversible without the key


KEYED_HASH_PREFIX = "anon:"
# A keyed hash cut to fit a short column keeps at least this many hex digits (64 bits): still not guessable without
# the key, and distinct enough that two anonymised rows rarely look alike.
KEYED_HASH_MIN_HEX = 16


def keyed_hash(key: bytes, value: str, *, max_length: int | None = None) -> str:
    """``KEYED_HASH_PREFIX`` + hex HMAC-SHA256(key, value), cut to ``max_length`` characters where the column is
    shorter (GDPR Art. 4(5) and Recital 26: without the key the value cannot be recovered or linked back). The
    prefix marks the value as already anonymised, so a second run leaves it alone (idempotence)."""
    if not key:
        raise ValueError("A keyed hash needs a key.")
    digest = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
    text = KEYED_HASH_PREFIX + digest
    return text[:max_length] if max_length else text


def keyed_hash_fits(max_length: int | None) -> bool:
    """Whether a column of ``max_length`` characters (None: unbounded) can hold a keyed hash."""
    return max_length is None or max_length >= len(KEYED_HASH_PREFIX) + KEYED_HASH_MIN_HEX


def identifier_normalised(name: str, value: Any) -> str:
    """A stored identifier as the portal normalises it (``Identifiers.of``), for comparing keyed hashes."""
    text = "" if value is None else str(value)
    if name in IDENTIFIER_FIELDS:
        return Identifiers.of(**{name: text}).get(name)
    return text.strip()


def identifiers_from(values: Mapping[str, Any]) -> Identifiers:
    """Identifiers built from one stored row's identifier values (identifier name -> value)."""
    known = {name: str(value) for name, value in values.items() if name in IDENTIFIER_FIELDS and value}
    extra = {name: str(value) for name, value in values.items() if name not in IDENTIFIER_FIELDS and value}
    return Identifiers.of(**known, extra=extra)


@dataclass(frozen=True)
class FieldChange:
    column: str
    strategy: FieldStrategy
    value: str = ""  # the fixed value (FIXED only)


@dataclass(frozen=True)
class TableInstruction:
    """What happens to one table of the connector's configuration (the table's ``name`` as in its search)."""

    table: str
    action: TableAction
    # ANONYMISE: the fields overwritten and how.
    fields: Sequence[FieldChange] = ()
    # UPDATE and FLAG: column -> new value (rectification's corrected values; a restriction flag; a consent flag).
    values: Mapping[str, Any] = field(default_factory=dict)
    # KEEP / ANONYMISE: the Art. 17(3) ground (a)-(e) and the reason, recorded with the item (Art. 12(4)).
    ground: str = ""
    reason: str = ""
    # BEYOND_USE: the day the last backup holding the data rolls off.
    roll_off_on: date | None = None


@dataclass(frozen=True)
class ChangeInstruction:
    kind: ChangeKind
    tables: Sequence[TableInstruction]
    batch_size: int = 5000
    # The key of KEYED_HASH fields (settings-derived, never stored with the instruction or sent to the broker).
    hash_key: bytes = b""
    # RECTIFY: a supplementary statement to store where the person completed incomplete data (Art. 16).
    supplementary_statement: str = ""
    # SUPPRESS_MARKETING: the channels to stop (``MarketingChannel`` values); empty means every channel.
    channels: Sequence[str] = ()


@dataclass
class TableChange:
    table: str
    action: TableAction
    rows: int


@dataclass
class ChangeOutcome:
    tables: list[TableChange]
    batches: int = 0

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


class ChangeSuperseded(Exception):  # noqa: N818 (a signal to stop, not an error)
    """The run no longer owns the job (swept and started again elsewhere): stop, the other run carries on."""


class ChangePending(Exception):  # noqa: N818 (not an error: the change goes on elsewhere)
    """The system accepted the change and will answer later by a signed callback (an HTTP system answering 202)."""

    def __init__(self, token: str, *, request_id: str = "") -> None:
        super().__init__("The system will answer later by a signed callback.")
        self.token = token
        self.request_id = request_id


class ChangeProgress(Protocol):
    """The engine's side of a run: the checkpoint to resume from, and the record of each committed batch."""

    checkpoint: Mapping[str, Any]

    def batch_done(self, checkpoint: Mapping[str, Any], *, table: str, rows: int) -> None:
        """Record a committed batch (``rows`` changed in ``table``) and the checkpoint to resume after it.
        Raises ChangeSuperseded when the run no longer owns the job."""

    # Optional: ``batch_begin(checkpoint)`` saves, before a batch is committed in the system, a checkpoint naming
    # the batch being written (its key range and rows), so that a run resumed after a crash between that commit and
    # ``batch_done`` can tell whether the batch was committed and record its rows once (the SQL connector does).


@dataclass
class MemoryProgress:
    """A ChangeProgress that keeps its checkpoint in memory (tests, the benchmark's baseline, dry runs)."""

    checkpoint: dict[str, Any] = field(default_factory=dict)
    batches: int = 0

    def batch_begin(self, checkpoint: Mapping[str, Any]) -> None:
        self.checkpoint = dict(checkpoint)

    def batch_done(self, checkpoint: Mapping[str, Any], *, table: str, rows: int) -> None:
        self.checkpoint = dict(checkpoint)
        self.batches += 1


@runtime_checkable
class ChangingConnector(Protocol):
    """A connector that carries out changes itself (demo_app, sql, http)."""

    def count(self, identifiers: Identifiers, instruction: ChangeInstruction) -> dict[str, int]:
        """Rows each table instruction would touch, changing nothing."""

    def apply_change(
        self, identifiers: Identifiers, instruction: ChangeInstruction, *, progress: ChangeProgress
    ) -> ChangeOutcome:
        """Carry the instruction out, set-based, in batches, from ``progress.checkpoint``."""
