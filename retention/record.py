"""The organisation's record of processing activities (GDPR Art. 30(1)), with the portal's own entry in it.

The register of data systems (``datasystems``) is the record for the organisation's systems; the portal is a
processing activity too (LAW.md §6(g): "a RoPA entry for the portal itself"), but it is not a row of the register:
erasure and access fulfilment iterate the register's systems through their connectors, and the portal's own records
are kept and deleted by the retention schedule instead (Art. 5(1)(e)), not searched for a person's data. So its entry
is generated here, on every read, from what the code does:

- Art. 30(1)(a): the controller, its representative and the DPO from ``organisation`` (the DPO edits them);
- (b)-(e): purposes, data subjects, categories, recipients and transfers as the portal's privacy notice states them
  (the providers and transfers from the ``DSAR_PRIVACY_*`` settings), so the two cannot drift apart;
- (f): the time limits for erasure from the retention schedule in force (``schedule_get``, ``referenced_periods``):
  a period the DPO changes on the retention page is in the record at once;
- (g): a general description of the security measures (Art. 32(1)) the portal applies.

Each system of the register gives one entry from ``datasystems.selectors.supplementary_information``, the one place
the register is put into words. The record is what the organisation makes available to the supervisory authority on
request (Art. 30(4)), as a page and as a CSV file.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from datasystems import selectors as register
from organisation.selectors import organisation_get

from .models import RecordKind
from .schedule import Period, referenced_periods, schedule_get


@dataclass(frozen=True)
class Controller:
    """Art. 30(1)(a): the controller, its representative in the EU (Art. 27) where it has one, and the DPO."""

    name: str
    contact: str
    representative: str
    dpo_name: str
    dpo_contact: str


@dataclass(frozen=True)
class ProcessingEntry:
    """One processing activity of the record, each field the point of Art. 30(1) it answers."""

    name: str
    description: str
    purposes: tuple[str, ...]  # (b), with the lawful basis (Art. 6(1)) and any Art. 9(2) condition
    data_subjects: tuple[str, ...]  # (c)
    categories: tuple[str, ...]  # (c)
    special_category: str
    source: str
    recipients: tuple[str, ...]  # (d)
    transfers: tuple[str, ...]  # (e), with the safeguard (Art. 46(2) and Chapter V)
    time_limits: tuple[str, ...]  # (f)
    security: tuple[str, ...]  # (g)
    is_portal: bool = False
    system_id: int | None = None


@dataclass(frozen=True)
class Record:
    controller: Controller
    entries: tuple[ProcessingEntry, ...]


def controller_details() -> Controller:
    """Art. 30(1)(a), read from the organisation's row (the DPO keeps it up to date)."""
    organisation = organisation_get()
    representative = ", ".join(
        part
        for part in (
            organisation.eu_representative_name,
            organisation.eu_representative_email,
            " ".join(organisation.eu_representative_address.split()),
        )
        if part
    )
    return Controller(
        name=organisation.name,
        contact=organisation.contact_email,
        representative=representative,
        dpo_name=organisation.dpo_name,
        dpo_contact=organisation.dpo_email,
    )


def _period_line(period: Period) -> str:
    line = _("%(record)s: %(days)s days %(starts)s") % {
        "record": period.label,
        "days": period.days,
        "starts": period.starts,
    }
    if period.kind == RecordKind.AGENT_ACCOUNT:
        line += _(", the agent e-mailed %(notice)s days before") % {"notice": period.notice_days}
    if period.kind in (RecordKind.CASE_FILE, RecordKind.UNCONFIRMED_REQUEST):
        line += _(
            "; from a complaint's closure at least the complaint period; longer only under a legal hold or while a "
            "complaint about the case is open"
        )
    return line


def portal_time_limits(schedule: dict[str, Period] | None = None) -> tuple[str, ...]:
    """Art. 30(1)(f), the envisaged time limits for erasure of the portal's own records: every period of the
    schedule in force (the DPO's where set), then the periods other apps enforce, from where they enforce them."""
    schedule = schedule or schedule_get()
    lines = [_period_line(period) for period in schedule.values()]
    lines += [f"{item.label}: {item.period}" for item in referenced_periods()]
    return tuple(lines)


def portal_security_measures() -> tuple[str, ...]:
    """Art. 30(1)(g): a general description of the measures of Art. 32(1) the portal itself applies."""
    return (
        _(
            "Personal data in the database encrypted field by field (AES-256-GCM, keys that can be rotated); "
            "e-mail addresses looked up by a keyed hash, not in clear (Art. 32(1)(a))."
        ),
        _(
            "Documents people send and the answers compiled for them encrypted at rest (streaming AEAD), kept "
            "outside the web root and given out only through checked, time-limited links (Art. 32(1)(a))."
        ),
        _(
            "Staff sign in with a second factor (authenticator app or security key), confirm it again before "
            "sensitive actions, and are signed out after %(hours)s hours (Art. 32(1)(b))."
        )
        % {"hours": settings.SESSION_COOKIE_AGE // 3600},
        _(
            "Access by role and by object: staff see only the cases, complaints and systems their role and their "
            "assignments allow (Art. 25(2), 32(4))."
        ),
        _(
            "Every step on a request and on a complaint written to an append-only trail, with who took it and "
            "when (Art. 5(2))."
        ),
        _(
            "Requesters reach their case through time-limited links and one-time codes; submissions, codes and "
            "sign-ins are rate limited (Art. 32(1)(b))."
        ),
        _("Encrypted connections only (HTTPS with HSTS, secure cookies) in production (Art. 32(1)(a))."),
        _(
            "The retention schedule enforced by a daily job, within the time limits stated in this record "
            "(Art. 5(1)(e))."
        ),
    )


def portal_entry(schedule: dict[str, Period] | None = None) -> ProcessingEntry:
    """The portal's own entry (LAW.md §6(g), Art. 30(1)(a)-(g)), as the privacy notice at /privacy/ describes the
    processing (Art. 13) and with the time limits of the schedule in force."""
    email_provider = settings.DSAR_PRIVACY_EMAIL_PROVIDER
    hosting_provider = settings.DSAR_PRIVACY_HOSTING_PROVIDER
    organisation = organisation_get()
    return ProcessingEntry(
        name=_("DSAR Portal: handling data protection rights requests and complaints"),
        description=_(
            "This portal: requests to exercise data protection rights made on it or entered by staff, their "
            "handling and answers, agents acting for people, and complaints about how a request or personal "
            "data were handled."
        ),
        purposes=(
            _(
                "Handling requests to exercise data protection rights (Art. 12-22), confirming identity or an "
                "agent's authority (Art. 12(6)), and keeping a record of how each was handled (Art. 5(2)): legal "
                "obligation (Article 6(1)(c))"
            ),
            _(
                "Handling complaints to the organisation (UK DPA 2018 s.164A): legal obligation in the UK "
                "(Article 6(1)(c)), otherwise legitimate interests in putting things right (Article 6(1)(f))"
            ),
            _(
                "Keeping the portal and the information in it secure (rate limits, sign-in, the audit trail): "
                "legitimate interests (Article 6(1)(f)) and Art. 32"
            ),
        ),
        data_subjects=(
            _("People who make a request, and the people a request is about"),
            _("Agents acting for someone, and the people an agent names (asked to confirm the agent's authority)"),
            _("People who complain to the organisation"),
            _("Staff who handle requests and complaints"),
        ),
        categories=(
            _("Names and contact details (e-mail and postal address, phone where given)"),
            _("Identifiers given to find a person's records (for example a customer number)"),
            _("What a request or complaint says, the messages about it and each step taken, with who took it"),
            _("Identity and authority documents, and the decision on them"),
            _("Copies of the person's data compiled for an access answer, and the list of what they held"),
            _("Agent and staff accounts: e-mail address, password hash, second sign-in factor"),
            _("IP addresses, briefly, for rate limits; a cookie opening the person's request page"),
            _("Keyed hashes of e-mail addresses on the direct-marketing suppression list"),
        ),
        special_category=_(
            "Not asked for. Identity documents may show some (for example a photo or health details): used only "
            "to confirm identity and deleted as stated below (Art. 5(1)(c))."
        ),
        source=_(
            "The person, their agent, and for an agent's authority the person it names; the organisation's "
            "systems for the data compiled in an answer."
        ),
        recipients=(
            (
                _("%(name)s (processor): delivers the portal's e-mails") % {"name": email_provider}
                if email_provider
                else _("The e-mail delivery provider (processor): delivers the portal's e-mails")
            ),
            (
                _("%(name)s (processor): hosts the portal") % {"name": hosting_provider}
                if hosting_provider
                else _("The hosting provider (processor): hosts the portal")
            ),
            _("The person's agent, where one acts for them"),
            _(
                "Recipients named in the register of data systems, told of a rectification, erasure or "
                "restriction (Art. 19)"
            ),
            _("%(authority)s or a court, where a complaint or claim about a request needs it")
            % {"authority": organisation.supervisory_authority_name},
        ),
        transfers=(
            (settings.DSAR_PRIVACY_TRANSFERS,) if settings.DSAR_PRIVACY_TRANSFERS else (_("None outside the UK/EEA"),)
        ),
        time_limits=portal_time_limits(schedule),
        security=portal_security_measures(),
        is_portal=True,
    )


def system_entries(systems: Iterable) -> list[ProcessingEntry]:
    """One entry per system of the register (its Art. 30(1) record), in the register's words."""
    systems = list(systems)
    ids = {system.name: system.pk for system in systems}
    entries = []
    for disclosure in register.supplementary_information(systems):
        purposes = []
        for purpose in disclosure.purposes:
            line = f"{purpose.description}: {purpose.lawful_basis_label}"
            if purpose.legitimate_interest:
                line += f" ({purpose.legitimate_interest})"
            if purpose.art9_condition_label:
                line += f"; {purpose.art9_condition_label}"
            purposes.append(line)
        recipients = []
        for recipient in disclosure.recipients:
            line = f"{recipient.name} ({recipient.kind_label}): {recipient.disclosed}"
            if recipient.country:
                line += f", {recipient.country}"
            recipients.append(line)
        transfers = []
        for transfer in disclosure.transfers:
            line = transfer.country
            if transfer.recipient_name:
                line += f", {transfer.recipient_name}"
            line += f": {transfer.safeguard_label}"
            if transfer.note:
                line += f" ({transfer.note})"
            transfers.append(line)
        entries.append(
            ProcessingEntry(
                name=disclosure.name,
                description=disclosure.description,
                purposes=tuple(purposes),
                data_subjects=(disclosure.data_subjects,),
                categories=disclosure.categories,
                special_category=(disclosure.art9_condition_label if disclosure.special_category else _("None")),
                source=disclosure.source or _("The person"),
                recipients=tuple(recipients),
                transfers=tuple(transfers) or (_("None outside the UK/EEA"),),
                time_limits=(disclosure.retention,),
                security=(),
                system_id=ids.get(disclosure.name),
            )
        )
    return entries


def sees_portal_entry(user: AbstractBaseUser) -> bool:
    """The portal's entry is part of the whole record: for those who may read every system of the register (the
    DPO, an auditor); a system owner reads the entries of their own systems only."""
    return register.may_use_register(user) and (user.has_perm(register.MANAGE) or user.has_perm(register.VIEW_ALL))


def record_for(user: AbstractBaseUser) -> Record:
    """The record of processing as ``user`` may read it (object-level, as the register's pages): the portal's
    entry first, then every system in use they may see. Read afresh each time (Art. 30: kept up to date)."""
    entries: list[ProcessingEntry] = []
    if sees_portal_entry(user):
        entries.append(portal_entry())
    entries += system_entries(register.systems_visible_to(user).filter(active=True))
    return Record(controller=controller_details(), entries=tuple(entries))


CSV_COLUMNS = (
    "Processing activity",
    "Description",
    "Controller (Art. 30(1)(a))",
    "Controller contact",
    "Representative (Art. 27)",
    "Data protection officer",
    "DPO contact",
    "Purposes and lawful basis (Art. 30(1)(b))",
    "Categories of data subjects (Art. 30(1)(c))",
    "Categories of personal data (Art. 30(1)(c))",
    "Special category data (Art. 9)",
    "Source",
    "Recipients (Art. 30(1)(d))",
    "Transfers and safeguards (Art. 30(1)(e))",
    "Time limits for erasure (Art. 30(1)(f))",
    "Security measures (Art. 30(1)(g))",
)

# A cell a spreadsheet would run as a formula (CSV injection): register text is typed by staff.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str | Iterable[str]) -> str:
    text = value if isinstance(value, str) else "\n".join(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def record_csv_rows(record: Record) -> list[list[str]]:
    """The record as rows of a CSV file (the header first), one row per processing activity, several values of a
    point on lines of their own within its cell (Art. 30(4): made available to the supervisory authority)."""
    controller = record.controller
    rows = [list(CSV_COLUMNS)]
    for entry in record.entries:
        rows.append(
            [
                _cell(value)
                for value in (
                    entry.name,
                    entry.description,
                    controller.name,
                    controller.contact,
                    controller.representative,
                    controller.dpo_name,
                    controller.dpo_contact,
                    entry.purposes,
                    entry.data_subjects,
                    entry.categories,
                    entry.special_category,
                    entry.source,
                    entry.recipients,
                    entry.transfers,
                    entry.time_limits,
                    entry.security or (_("Not recorded in the register"),),
                )
            ]
        )
    return rows
