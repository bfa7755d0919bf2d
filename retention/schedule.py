"""The retention schedule: how long the portal keeps each kind of its own records (GDPR Art. 5(1)(e); LAW.md §6(h)).

Four periods are the DPO's to set here, and the deletion job enforces them (``retention.services``):

- requests closed with the e-mail never confirmed (default ``DSAR_UNCONFIRMED_RETENTION_DAYS``, 90 days);
- closed case files (default ``DSAR_CASE_FILE_RETENTION_DAYS``, 2 years after closure);
- agent accounts not used (default ``DSAR_AGENT_RETENTION_DAYS``, 2 years, with an e-mail
  ``DSAR_AGENT_DELETION_NOTICE_DAYS`` before);
- closed complaints not about a case (default ``DSAR_COMPLAINT_RETENTION_DAYS``, the case file's default).

A complaint about a case (UK DPA 2018 s.164A) is part of that case file (LAW.md §6(g): the case pack holds
"complaints and reopenings"; §6(h): the file is kept for complaints and claims) and is deleted with it. While it is
open it holds the case; once closed, the case file's period runs from the later of the case's closure and the
complaint's, since the outcome of the complaint is what a complaint to the authority (Art. 77) or a claim (Art. 79,
82) would then be about. From the complaint's closure the complaint period counts instead where it is longer (a
complaint is never kept shorter for being about a case, a never-confirmed request's 90 days for one). Complaints
about no case are deleted on the complaint period alone.

The DPO may lengthen a period, never shorten it below the deployment's default: the default is the documented
choice in the record of processing (Art. 30(1)(f)) that the jobs keyed to it rely on (status links end and
supporting documents go at the default case-file period, so a case file is never deleted before them), and it
covers the windows in which a complaint (UK DPA 2018 s.164A; Art. 77) or a claim (Art. 79, 82) about the request
may come. A longer general period is capped (``DSAR_CASE_FILE_RETENTION_MAX_DAYS``, six years, the
limitation period for claims in England and Wales): a case needing longer gets a legal hold.

The other records are deleted by the app that owns them, on their own schedule; the page lists them with where
they are enforced (``referenced_periods``), so the schedule is whole without doing their work twice.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from identity import policy as identity_policy

from .models import RecordKind, RetentionRule


@dataclass(frozen=True)
class Period:
    kind: str
    label: str
    days: int
    default_days: int
    minimum_days: int
    maximum_days: int
    basis: str
    starts: str
    notice_days: int | None = None
    edited: bool = False


def _defaults() -> dict[str, dict]:
    case_default = settings.DSAR_CASE_FILE_RETENTION_DAYS
    return {
        RecordKind.UNCONFIRMED_REQUEST: {
            "days": settings.DSAR_UNCONFIRMED_RETENTION_DAYS,
            "maximum": max(settings.DSAR_UNCONFIRMED_RETENTION_DAYS, case_default),
            "starts": _("after closure, or after the closure of a complaint about the request if that is later"),
            "basis": _(
                "Art. 5(1)(c), (e): the address may not be the person's, so only long enough to answer a question "
                "or complaint about the closure (LAW.md §6(h))."
            ),
        },
        RecordKind.CASE_FILE: {
            "days": case_default,
            "maximum": max(case_default, settings.DSAR_CASE_FILE_RETENTION_MAX_DAYS),
            "starts": _("after closure, or after the closure of a complaint about the case if that is later"),
            "basis": _(
                "Art. 5(1)(e), 5(2): kept to show how the request was handled if a complaint (UK DPA 2018 s.164A, "
                "Art. 77) or a claim (Art. 79, 82) comes; longer only where claims are foreseeable (England and "
                "Wales 6 years, Scotland 5), or by a legal hold on the case (LAW.md §6(h)). A complaint about the "
                "case is part of its file and deleted with it; while open, it holds the case; once closed, the file is "
                "kept at least the complaint period from then."
            ),
        },
        RecordKind.AGENT_ACCOUNT: {
            "days": settings.DSAR_AGENT_RETENTION_DAYS,
            "maximum": max(settings.DSAR_AGENT_RETENTION_DAYS, settings.DSAR_CASE_FILE_RETENTION_MAX_DAYS),
            "starts": _("after the last use"),
            "basis": _(
                "Art. 5(1)(c), (e): an account nobody uses is not needed; the agent is e-mailed before it is "
                "deleted and keeps it by signing in (LAW.md §6(h))."
            ),
        },
        RecordKind.COMPLAINT: {
            "days": settings.DSAR_COMPLAINT_RETENTION_DAYS,
            "maximum": max(settings.DSAR_COMPLAINT_RETENTION_DAYS, settings.DSAR_CASE_FILE_RETENTION_MAX_DAYS),
            "starts": _("after the complaint is closed"),
            "basis": _(
                "Art. 5(1)(e), 5(2): the complaints register of UK DPA 2018 s.164A, kept to show how a complaint "
                "was handled if the person then goes to the authority (Art. 77) or to court (Art. 79, 82). A "
                "complaint about a case goes with that case file, kept at least this period after the complaint is "
                "closed (LAW.md §6(h))."
            ),
        },
    }


def period_get(kind: str) -> Period:
    """The period in force for ``kind``: the DPO's if set, else the deployment's default from settings."""
    return schedule_get()[kind]


def schedule_get() -> dict[str, Period]:
    """Every period the deletion job enforces, keyed by ``RecordKind`` value, in the kinds' order (one query)."""
    rules = {rule.kind: rule for rule in RetentionRule.objects.all()}
    periods = {}
    for kind, default in _defaults().items():
        rule = rules.get(kind)
        notice_default = settings.DSAR_AGENT_DELETION_NOTICE_DAYS if kind == RecordKind.AGENT_ACCOUNT else None
        periods[kind.value] = Period(
            kind=kind.value,
            label=str(kind.label),
            days=max(rule.days, default["days"]) if rule else default["days"],
            default_days=default["days"],
            minimum_days=default["days"],
            maximum_days=default["maximum"],
            basis=str(default["basis"]),
            starts=str(default["starts"]),
            notice_days=(rule.notice_days if rule and rule.notice_days else notice_default),
            edited=rule is not None,
        )
    return periods


@dataclass(frozen=True)
class ReferencedPeriod:
    label: str
    period: str
    basis: str
    enforced_by: str


def referenced_periods() -> list[ReferencedPeriod]:
    """The periods other apps enforce on their own records, stated from where they enforce them."""
    evidence_hours = identity_policy.policy_get().evidence_retention_hours
    return [
        ReferencedPeriod(
            _("Identity and authority evidence"),
            _("%(hours)s hours after the decision, or after the request ends") % {"hours": evidence_hours},
            _("Art. 5(1)(c), (e); EDPB Guidelines 01/2022 (LAW.md §6(h), I2)"),
            "identity.services.evidence_purge (identity.tasks.purge_decided_evidence)",
        ),
        ReferencedPeriod(
            _("Compiled answers (archives) on the portal"),
            _("%(days)s days from release: the archive deleted, its manifest kept with the case file")
            % {"days": settings.DSAR_DOWNLOAD_DAYS},
            _("Art. 5(1)(e), 32: no second store of everything (LAW.md §6(h))"),
            "fulfilment.delivery (fulfilment.tasks.expire_releases, DSAR_DOWNLOAD_DAYS)",
        ),
        ReferencedPeriod(
            _("Supporting and clarification documents"),
            _("%(days)s days after closure, or with the case file if that goes first")
            % {"days": settings.DSAR_CASE_FILE_RETENTION_DAYS},
            _("Art. 5(1)(c), (e): with the case file, or shorter (LAW.md §6(h), I2)"),
            "requests_app.services.supporting_documents_retention_sweep",
        ),
        ReferencedPeriod(
            _("Status links and codes"),
            _("Time-limited; ended with the case file's default period"),
            _("Art. 5(1)(e), 32 (LAW.md §6(h))"),
            "requests_app.correspondence (requests_app.tasks.end_status_links_past_retention)",
        ),
        ReferencedPeriod(
            _("Direct-marketing suppression entries"),
            _("Never deleted by this schedule: kept while the organisation markets (a keyed hash only)"),
            _("Art. 21(3); ICO direct marketing guidance (LAW.md §6(h))"),
            "requests_app.models.MarketingSuppression",
        ),
        ReferencedPeriod(
            _("Anonymous figures of deleted cases"),
            _("Indefinitely: no identifier, month precision"),
            _("Recital 26: not personal data (LAW.md §6(h))"),
            "retention.models.ClosedCaseFigure",
        ),
    ]
