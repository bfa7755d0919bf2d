"""What erasure, restriction and a marketing objection mean in one data system, as set in the register (issue 13).

Each table of a connector's configuration (``DataSystem.connector_config["tables"]``, the same tables its search
reads) may say how the person's rows there are changed. Every key is optional::

    {"name": "invoices", ...,
     "erasure": {"action": "anonymise",                      # delete (the default) | anonymise | keep
                 "fields": {"name": "null", "email": "keyed_hash", "address": {"fixed": "erased"}},
                 "ground": "erasure_legal_obligation",        # an Art. 17(3) ground (RefusalGround value)
                 "reason": "Invoices are kept six years for HMRC (Companies Act 2006 s.388)."},
     "restriction": {"column": "restricted"},                 # Art. 18: set True to restrict, False to lift
     "rectifiable": ["name", "phone", "address_line"],         # Art. 16: columns a correction may set
     "marketing": {"set": {"email_opt_in": false}}}            # Art. 21(3): what stops marketing in this table

A history table of consents (one row per change, the evidence of Art. 7(1)) is not overwritten: its marketing rule
appends a row per channel instead, ``{"append": {"consent": false, "source": "Objection"}, "channels": "channel",
"at": "changed_at", "already": ["consent"]}`` (only the demo application connector carries this form out).

A table that serves one marketing channel only names it: ``{"set": {"excluded": true}, "channel": "audiences"}`` for
an ad platform's custom audience, ``{"set": {"profiling_stopped": true}, "channel": "profiling"}`` for segments and
propensity scores (``connectors.changes.MarketingChannel``). An objection naming its channels reaches only the tables
of those channels (and the history rows of those channels); a table naming none serves every channel.

- GDPR Art. 17(1): erasure is the rule, so a table that says nothing is deleted.
- GDPR Art. 17(3): a table that is anonymised or kept names the exception it rests on and why; the answer to the
  person lists it (the part not erased is a refusal of that part, Art. 12(4)).
- GDPR Art. 5(1)(e) and the ICO's guidance on backups: the system's backups are "beyond use" until they roll off
  (``DataSystem`` says after how many days); that is recorded, not carried out by a connector.

``tables_for`` turns these into the connector-neutral ``TableInstruction``s of ``connectors.changes``; a connector's
``check`` validates its own tables and columns against them. The messages of ``ChangeRuleError`` are for staff.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .connectors.base import ConnectorError
from .connectors.changes import (
    ChangeKind,
    FieldChange,
    FieldStrategy,
    MarketingChannel,
    TableAction,
    TableInstruction,
)

# GDPR Art. 17(3)(a)-(e), by the RefusalGround values the request core already uses for a partial erasure.
ERASURE_EXCEPTION_GROUNDS = (
    "erasure_freedom_of_expression",
    "erasure_legal_obligation",
    "erasure_public_health",
    "erasure_archiving_research",
    "erasure_legal_claims",
)


class ChangeRuleError(ConnectorError):
    """The register's change rules for a table are wrong; the message says which table and what to fix."""


def _tables(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    tables = config.get("tables") if isinstance(config, Mapping) else None
    return [table for table in tables if isinstance(table, Mapping)] if isinstance(tables, list) else []


def _field(column: str, rule: Any, where: str) -> FieldChange:
    if rule in (FieldStrategy.NULL, FieldStrategy.KEYED_HASH):
        return FieldChange(column=column, strategy=FieldStrategy(rule))
    if isinstance(rule, Mapping) and set(rule) == {"fixed"} and isinstance(rule["fixed"], str):
        return FieldChange(column=column, strategy=FieldStrategy.FIXED, value=rule["fixed"])
    raise ChangeRuleError(f'{where}: field "{column}" needs "null", "keyed_hash" or {{"fixed": "a value"}}.')


def erasure_instruction(table: Mapping[str, Any]) -> TableInstruction:
    """One table's erasure (GDPR Art. 17(1), with the Art. 17(3) exceptions the register names)."""
    name = str(table.get("name", ""))
    where = f'Table "{name}"'
    rule = table.get("erasure") or {}
    if not isinstance(rule, Mapping):
        raise ChangeRuleError(f'{where}: "erasure" must be an object.')
    action = rule.get("action", TableAction.DELETE)
    if action not in (TableAction.DELETE, TableAction.ANONYMISE, TableAction.KEEP):
        raise ChangeRuleError(f'{where}: erasure "action" must be "delete", "anonymise" or "keep".')
    ground, reason = str(rule.get("ground", "")), str(rule.get("reason", "")).strip()
    fields: list[FieldChange] = []
    if action != TableAction.DELETE:
        # Art. 17(3) and 12(4): what is not erased rests on a named exception, with the reason.
        if ground not in ERASURE_EXCEPTION_GROUNDS:
            raise ChangeRuleError(
                f"{where}: data kept or anonymised needs an Article 17(3) ground: one of "
                + ", ".join(ERASURE_EXCEPTION_GROUNDS)
                + "."
            )
        if not reason:
            raise ChangeRuleError(f'{where}: say why the data is kept ("reason").')
    if action == TableAction.ANONYMISE:
        rules = rule.get("fields")
        if not isinstance(rules, Mapping) or not rules:
            raise ChangeRuleError(f'{where}: anonymising needs "fields": which columns and how.')
        fields = [_field(str(column), value, where) for column, value in rules.items()]
    return TableInstruction(table=name, action=TableAction(action), fields=tuple(fields), ground=ground, reason=reason)


def restriction_instruction(table: Mapping[str, Any], *, lift: bool) -> TableInstruction | None:
    """One table's restriction flag (GDPR Art. 18(1)); lifting sets it back (Art. 18(3))."""
    rule = table.get("restriction")
    if not rule:
        return None
    if not isinstance(rule, Mapping) or not isinstance(rule.get("column"), str) or not rule["column"]:
        raise ChangeRuleError(f'Table "{table.get("name", "")}": "restriction" needs "column", the flag to set.')
    return TableInstruction(table=str(table["name"]), action=TableAction.FLAG, values={rule["column"]: not lift})


def marketing_append(table: Mapping[str, Any]) -> Mapping[str, str] | None:
    """For a history table (one row per change of consent, GDPR Art. 7(1): the history is the evidence), where
    suppression appends a row per channel instead of overwriting: ``{"channels": column, "at": column, "already":
    [columns]}`` (a channel whose latest row already has the appended values of the ``already`` columns, by default
    all of them, gets no new row); else None."""
    rule = table.get("marketing")
    if isinstance(rule, Mapping) and "append" in rule:
        values = rule.get("append") if isinstance(rule.get("append"), Mapping) else {}
        already = rule.get("already", list(values))
        return {
            "channels": str(rule.get("channels", "")),
            "at": str(rule.get("at", "")),
            "already": [str(column) for column in already] if isinstance(already, list) else [],
        }
    return None


def marketing_channel(table: Mapping[str, Any]) -> str:
    """The one marketing channel a table serves (``"channel"`` of its marketing rule), or "" for every channel."""
    rule = table.get("marketing")
    return str(rule.get("channel") or "") if isinstance(rule, Mapping) else ""


def marketing_instruction(table: Mapping[str, Any]) -> TableInstruction | None:
    """What stops direct marketing in one table (GDPR Art. 21(3)): ``{"set": {column: value}}`` overwrites the
    person's rows; ``{"append": {column: value}, "channels": column, "at": column}`` appends, to a history table,
    a row with those values for each channel whose latest row still differs (the history stays, Art. 7(1)). A
    ``"channel"`` names the one ``MarketingChannel`` the table serves (ad-platform audiences, profiling for direct
    marketing: Art. 21(2))."""
    rule = table.get("marketing")
    if not rule:
        return None
    where = f'Table "{table.get("name", "")}"'
    channel = rule.get("channel") if isinstance(rule, Mapping) else None
    if channel is not None and channel not in {item.value for item in MarketingChannel}:
        raise ChangeRuleError(
            f'{where}: marketing "channel" must be one of ' + ", ".join(item.value for item in MarketingChannel) + "."
        )
    if isinstance(rule, Mapping) and "append" in rule:
        values = rule["append"]
        if not isinstance(values, Mapping) or not values:
            raise ChangeRuleError(f'{where}: marketing "append" needs the values of the row appended per channel.')
        for key in ("channels", "at"):
            if not isinstance(rule.get(key), str) or not rule[key]:
                raise ChangeRuleError(
                    f'{where}: marketing "append" needs "channels" (the channel column) and "at" (its time column).'
                )
        already = rule.get("already", list(values))
        if not isinstance(already, list) or not already or not all(column in values for column in already):
            raise ChangeRuleError(f'{where}: marketing "already" must list columns of "append".')
        return TableInstruction(table=str(table["name"]), action=TableAction.FLAG, values=dict(values))
    if not isinstance(rule, Mapping) or not isinstance(rule.get("set"), Mapping) or not rule["set"]:
        raise ChangeRuleError(f'{where}: "marketing" needs "set": the columns to change (or "append").')
    return TableInstruction(table=str(table["name"]), action=TableAction.FLAG, values=dict(rule["set"]))


def rectifiable_columns(config: Mapping[str, Any]) -> dict[str, list[str]]:
    """Table name -> the columns a correction may set there (GDPR Art. 16)."""
    found: dict[str, list[str]] = {}
    for table in _tables(config):
        columns = table.get("rectifiable")
        if isinstance(columns, list) and columns:
            found[str(table.get("name", ""))] = [str(column) for column in columns]
    return found


def tables_for(config: Mapping[str, Any], kind: ChangeKind, *, channels: Sequence[str] = ()) -> list[TableInstruction]:
    """The register's table instructions of ``kind`` for a system (rectification's come from the staff decision,
    not the register: use ``rectifiable_columns`` to offer them). For a marketing objection naming ``channels``,
    a table serving one other channel is left out (empty: every channel, GDPR Art. 21(3))."""
    tables = _tables(config)
    if kind == ChangeKind.ERASE:
        return [erasure_instruction(table) for table in tables]
    if kind in (ChangeKind.RESTRICT, ChangeKind.LIFT_RESTRICTION):
        lift = kind == ChangeKind.LIFT_RESTRICTION
        return [i for table in tables if (i := restriction_instruction(table, lift=lift)) is not None]
    if kind == ChangeKind.SUPPRESS_MARKETING:
        return [
            i
            for table in tables
            if (i := marketing_instruction(table)) is not None
            and (not channels or not marketing_channel(table) or marketing_channel(table) in channels)
        ]
    return []


def rules_check(config: Mapping[str, Any]) -> None:
    """Raise ChangeRuleError if any table's change rules are malformed (the register's form calls this on save)."""
    for kind in (ChangeKind.ERASE, ChangeKind.RESTRICT, ChangeKind.SUPPRESS_MARKETING):
        tables_for(config, kind)
    for table in _tables(config):
        columns = table.get("rectifiable")
        if columns is not None and not (
            isinstance(columns, list) and all(isinstance(column, str) and column for column in columns)
        ):
            raise ChangeRuleError(f'Table "{table.get("name", "")}": "rectifiable" must be a list of column names.')


def summary(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per table, for the register page: what erasure does there and on what ground, the restriction flag, the
    columns a correction may set and what a marketing objection changes (a malformed erasure rule: ``problem``)."""
    rows: list[dict[str, Any]] = []
    for table in _tables(config):
        try:
            instruction = erasure_instruction(table)
        except ChangeRuleError as error:
            rows.append({"table": table.get("name", ""), "problem": str(error)})
            continue
        restriction = table.get("restriction")
        marketing = table.get("marketing") if isinstance(table.get("marketing"), Mapping) else {}
        rows.append(
            {
                "table": instruction.table,
                "action": str(instruction.action),
                "fields": {change.column: str(change.strategy) for change in instruction.fields},
                # The same, in order, with the value a "fixed" strategy writes.
                "field_changes": [
                    {"column": change.column, "strategy": str(change.strategy), "value": change.value}
                    for change in instruction.fields
                ],
                "ground": instruction.ground,
                "reason": instruction.reason,
                "restriction": bool(restriction),
                "restriction_column": str(restriction.get("column", "")) if isinstance(restriction, Mapping) else "",
                "marketing": bool(table.get("marketing")),
                "marketing_set": dict(marketing["set"]) if isinstance(marketing.get("set"), Mapping) else {},
                "marketing_append": dict(marketing["append"]) if isinstance(marketing.get("append"), Mapping) else {},
                "marketing_channels": str(marketing.get("channels", "")),
                "marketing_channel": str(marketing.get("channel", "")),
                "rectifiable": list(table.get("rectifiable") or []),
            }
        )
    return rows


__all__: Sequence[str] = (
    "ERASURE_EXCEPTION_GROUNDS",
    "ChangeRuleError",
    "erasure_instruction",
    "marketing_append",
    "marketing_channel",
    "marketing_instruction",
    "rectifiable_columns",
    "restriction_instruction",
    "rules_check",
    "summary",
    "tables_for",
)
