"""The fast path of the part writer: PostgreSQL writes a table's JSON and CSV itself with ``COPY ... TO STDOUT``,
streamed through the encrypting writer, so Python never touches a row (issue 12, "Speed and memory": about 20,000
rows/s row by row in Python; COPY streams hundreds of thousands).

The bytes are exactly those of the row-by-row path (``services._json_chunks`` and ``services._csv_chunks``): the
same JSON (Python's ``json`` separators and escaping, which ``to_json`` of a text matches byte for byte, dates and
times in ISO 8601 as ``isoformat`` writes them, decimals as strings) and the same CSV (Python's ``csv`` excel
dialect: quoted only where a value holds a comma, a quote or a line break, CRLF line ends, booleans as ``True`` and
``False``, NULL empty). A column of a type whose rendering could differ (floating point, JSON, intervals, arrays,
binary...) sends the whole table down the row-by-row path: identical output first, speed second.

The JSON lines are read with COPY's CSV format under a quote and a delimiter no JSON text can hold (control
characters, which ``to_json`` always escapes), so they arrive verbatim. The CSV lines can hold line breaks, so they
come in COPY's text format and are unescaped here, a chunk at a time (``bytes.replace``, never per row).

GDPR Art. 32: the parts are encrypted at rest like every other part (``dsar_portal.filestore``). No value reaches a
log: errors name their type only.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from psycopg2.extensions import encodings

from datasystems.connectors.base import PostgresSource

# PostgreSQL type OIDs (pg_type.dat) of the columns this path renders exactly as the Python path does.
BOOL, INT8, INT2, INT4, TEXT, OID, VARCHAR, DATE, TIMESTAMP, TIMESTAMPTZ, NUMERIC, UUID, INET, CIDR = (
    16,
    20,
    21,
    23,
    25,
    26,
    1043,
    1082,
    1114,
    1184,
    1700,
    2950,
    869,
    650,
)
INTEGERS = {INT2, INT4, INT8, OID}
TEXTS = {TEXT, VARCHAR}

BUFFER_BYTES = 1024 * 1024


@dataclass(frozen=True)
class CopiedFile:
    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class CopiedPart:
    rows: int
    json: CopiedFile
    csv: CopiedFile


def _timestamp(ref: str, *, zone: bool) -> str:
    """``datetime.isoformat()``: seconds always, microseconds only when not zero, the offset as +HH:MM (the
    session's time zone, as the driver returns aware values in it). One ``to_char``; ``.000000`` can only be the
    microseconds (nothing else in the text has a dot)."""
    return f"replace(to_char({ref}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US{'TZH:TZM' if zone else ''}'), '.000000', '')"


def _renderings(oid: int, ref: str) -> tuple[str, str] | None:
    """(JSON value, CSV cell) of one column as SQL text expressions that are never NULL; None when the type has no
    exact rendering here."""
    if oid == BOOL:
        return (
            f"CASE WHEN {ref} THEN 'true' WHEN NOT {ref} THEN 'false' ELSE 'null' END",
            f"CASE WHEN {ref} THEN 'True' WHEN NOT {ref} THEN 'False' ELSE '' END",
        )
    if oid in INTEGERS:
        return f"coalesce({ref}::text, 'null')", f"coalesce({ref}::text, '')"
    if oid in (NUMERIC, UUID):
        # Decimal and UUID are strings in the JSON (``_json_value``); neither text can hold a quote or a comma.
        return f"coalesce('\"' || {ref}::text || '\"', 'null')", f"coalesce({ref}::text, '')"
    if oid in (INET, CIDR):
        # The type's output (``to_json`` uses it), as the driver returns it: ``192.0.2.1``, not ``::text``'s /32.
        return f"coalesce(to_json({ref})::text, 'null')", f"coalesce(to_json({ref}) #>> '{{}}', '')"
    if oid == DATE:
        text = f"to_char({ref}, 'YYYY-MM-DD')"
        return f"coalesce('\"' || {text} || '\"', 'null')", f"coalesce({text}, '')"
    if oid in (TIMESTAMP, TIMESTAMPTZ):
        text = _timestamp(ref, zone=oid == TIMESTAMPTZ)
        return f"coalesce('\"' || {text} || '\"', 'null')", f"coalesce({text}, '')"
    if oid in TEXTS:
        return (
            f"coalesce(to_json({ref})::text, 'null')",
            # The excel dialect's QUOTE_MINIMAL: quoted (quotes doubled) when holding a comma, quote, CR or LF.
            f"CASE WHEN {ref} IS NULL THEN '' WHEN {ref} ~ E'[\",\\r\\n]' "
            f"THEN '\"' || replace({ref}, '\"', '\"\"') || '\"' ELSE {ref} END",
        )
    return None


def _literal(value: str) -> str:
    """A string constant, escaped whatever the server's standard_conforming_strings (an E'' string); only ever a
    column name from the register's configuration, JSON-encoded."""
    return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


@dataclass(frozen=True)
class _Statements:
    json: str
    csv: str


def _statements(inner: str, columns: Sequence[str], oids: Sequence[int]) -> _Statements | None:
    if len(oids) != len(columns) or len(set(columns)) != len(columns):
        return None  # a name twice: the Python path's dict keeps one of them
    aliases = [f"c{index}" for index in range(len(columns))]
    renderings = [_renderings(oid, f"t.{alias}") for oid, alias in zip(oids, aliases, strict=True)]
    if any(rendering is None for rendering in renderings):
        return None
    json_parts = []
    for index, (column, rendering) in enumerate(zip(columns, renderings, strict=True)):
        key = ("{" if index == 0 else ", ") + json.dumps(column, ensure_ascii=False) + ": "
        json_parts += [_literal(key), rendering[0]]
    json_parts.append("'},'")  # the separator after every object; the writer drops the last one
    cells = [rendering[1] for rendering in renderings]
    if len(cells) == 1:
        cells = [f"CASE WHEN {cells[0]} = '' THEN '\"\"' ELSE {cells[0]} END"]  # csv writes a lone empty field as ""
    csv_parts = [part for cell in cells for part in (cell, "','")]
    csv_parts[-1] = "E'\\r'"  # the row's CR; COPY adds the LF
    source = f"FROM ({inner}) AS t({', '.join(aliases)})"
    return _Statements(
        json=(
            f"COPY (SELECT {_concat(json_parts)} {source}) TO STDOUT "
            "WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
        ),
        csv=f"COPY (SELECT {_concat(csv_parts)} {source}) TO STDOUT",
    )


CONCAT_ARGUMENTS = 90  # a function takes at most 100 arguments (FUNC_MAX_ARGS)


def _concat(parts: list[str]) -> str:
    """concat() of the parts (never NULL), nested past the argument limit: one result built per row, where ``||``
    builds one per operator."""
    if len(parts) <= CONCAT_ARGUMENTS:
        return f"concat({', '.join(parts)})"
    return _concat(
        [_concat(parts[start : start + CONCAT_ARGUMENTS]) for start in range(0, len(parts), CONCAT_ARGUMENTS)]
    )


_ESCAPES = ((b"\\n", b"\n"), (b"\\r", b"\r"), (b"\\t", b"\t"), (b"\\b", b"\b"), (b"\\f", b"\f"), (b"\\v", b"\v"))


def unescape_copy_text(data: bytes) -> bytes:
    """COPY's text format undone for whole rows ending in an escaped CR: every backslash in it starts a two-byte
    escape, so after splitting on escaped backslashes each escape is unambiguous."""
    data = data.replace(b"\\r\n", b"\r\n")  # each row's CR (the only raw LF is COPY's own row end)
    if b"\\" not in data:
        return data
    parts = data.split(b"\\\\")
    for position, part in enumerate(parts):
        if b"\\" in part:
            for escaped, raw in _ESCAPES:
                part = part.replace(escaped, raw)
            parts[position] = part
    return b"\\".join(parts)


class _Sink(io.RawIOBase):
    """Where COPY writes (behind a 1 MiB buffer, so the driver's write per row stays in C): whole rows are
    unescaped (CSV) or passed on, hashed, counted and written to the encrypted part."""

    def __init__(self, target: Any, *, unescape: bool, hold_back: int = 0) -> None:
        super().__init__()
        self._target = target
        self._unescape = unescape
        self._hold_back = hold_back
        self._pending = b""
        self._held = b""
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def emit(self, data: bytes) -> None:
        if data:
            self.sha256.update(data)
            self.size += len(data)
            self._target.write(data)

    def write(self, data) -> int:
        chunk = self._pending + bytes(data)
        cut = chunk.rfind(b"\n") + 1
        self._pending = chunk[cut:]
        rows = chunk[:cut]
        if self._unescape:
            rows = unescape_copy_text(rows)
        if self._hold_back:
            rows = self._held + rows
            self._held, rows = rows[-self._hold_back :], rows[: -self._hold_back]
        self.emit(rows)
        return len(data)

    def finish(self) -> bytes:
        """What was held back (the JSON's last separator); nothing may be left of a row."""
        if self._pending:
            raise ValueError("COPY ended inside a row")
        return self._held


def copy_part(
    source: PostgresSource, columns: Sequence[str], open_file: Callable[[str], AbstractContextManager[Any]]
) -> CopiedPart | None:
    """Write the table's JSON and then its CSV, both by COPY on one snapshot, each into a file that
    ``open_file(suffix)`` opens (with ``write`` and ``name``; kept when its block ends without an error). None, having
    opened no file, when a column's type has no exact rendering here (the caller takes the row-by-row path)."""
    with source.connection() as connection, connection.cursor() as cursor:
        inner = cursor.mogrify(source.sql, source.params).decode(encodings[connection.encoding])
        # The connector's own query, its values bound by the driver (mogrify); only its column types are read.
        cursor.execute(f"SELECT * FROM ({inner}) AS t LIMIT 0")  # noqa: S608
        statements = _statements(inner, columns, [column.type_code for column in cursor.description])
        if statements is None:
            return None
        with open_file(".json") as target:
            sink = _Sink(target, unescape=False, hold_back=2)
            sink.emit(b"[\n")
            rows = _copy(cursor, statements.json, sink)
            held = sink.finish()
            if rows and held != b",\n":
                raise ValueError("COPY's JSON rows did not end as expected")
            sink.emit(b"\n]\n")
        json_file = CopiedFile(name=target.name, sha256=sink.sha256.hexdigest(), size=sink.size)
        with open_file(".csv") as target:
            sink = _Sink(target, unescape=True)
            header = io.StringIO()
            csv.writer(header).writerow(columns)
            sink.emit(header.getvalue().encode())
            if _copy(cursor, statements.csv, sink) != rows:
                raise ValueError("The JSON and the CSV of a part hold different numbers of rows")
            sink.finish()
        csv_file = CopiedFile(name=target.name, sha256=sink.sha256.hexdigest(), size=sink.size)
    return CopiedPart(rows=rows, json=json_file, csv=csv_file)


def _copy(cursor: Any, statement: str, sink: _Sink) -> int:
    buffered = io.BufferedWriter(sink, buffer_size=BUFFER_BYTES)
    cursor.copy_expert(statement, buffered, size=BUFFER_BYTES)
    buffered.flush()
    buffered.detach()  # the sink stays open for what follows the rows
    return cursor.rowcount
