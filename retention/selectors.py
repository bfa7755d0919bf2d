"""Reads for the retention page, the case page, the metrics and the privacy notice (GDPR Art. 5(1)(e), 13(2)(a))."""

from datetime import date

from django.db.models import Q

from casework.metrics import KeptAnswer, KeptFigures
from requests_app.models import DataSubjectRequest, Status

from .models import ClosedCaseFigure, HoldStatus, LegalHold, RecordKind, RetentionRuleChange, RetentionRun
from .schedule import schedule_get


def kept_figures_between(start: date, today: date) -> KeptFigures:
    """The figures deleted cases keep for casework.metrics, for the period from ``start`` to ``today`` (one query):
    answered in the period, identity decided in it, marketing suppressed in it (all by month)."""
    rows = ClosedCaseFigure.objects.filter(
        Q(answered_month__gte=start, answered_month__lte=today)
        | Q(verified_month__gte=start, verified_month__lte=today)
        | Q(suppressed_month__gte=start, suppressed_month__lte=today)
    ).values_list(
        "right",
        "status",
        "refusal_ground",
        "answered_month",
        "answered_in_time",
        "days_to_answer",
        "extension_used",
        "fee_asked",
        "verified_month",
        "hours_to_verify",
        "suppressed_month",
        "hours_to_suppression",
    )
    kept = KeptFigures()
    for (right, status, ground, answered, in_time, days, extended, fee, verified, verify_hours, suppressed,
         suppression_hours) in rows:  # fmt: skip
        if answered is not None and start <= answered <= today:
            kept.answered.append(
                KeptAnswer(
                    right=right,
                    month=answered,
                    in_time=bool(in_time),
                    days=days,
                    extended=extended,
                    refused=status == Status.REFUSED,
                    refusal_ground=ground,
                    fee_asked=fee,
                )
            )
        if verified is not None and start <= verified <= today and verify_hours is not None:
            kept.verify_hours.append(verify_hours)
        if suppressed is not None and start <= suppressed <= today and suppression_hours is not None:
            kept.suppression_hours.append(suppression_hours)
    return kept


def holds_of(request: DataSubjectRequest) -> list[LegalHold]:
    """Every hold of ``request``, the held ones first, newest first."""
    return sorted(
        LegalHold.objects.filter(request=request).select_related("placed_by", "released_by"),
        key=lambda hold: (hold.status != HoldStatus.HELD, -hold.placed_at.timestamp()),
    )


def schedule_changes(limit: int = 50) -> list[RetentionRuleChange]:
    return list(RetentionRuleChange.objects.select_related("changed_by")[:limit])


def runs_recent(limit: int = 10) -> list[RetentionRun]:
    return list(RetentionRun.objects.all()[:limit])


def requests_held_count() -> int:
    return LegalHold.objects.filter(status=HoldStatus.HELD).values("request_id").distinct().count()


def notice_periods() -> dict:
    """The periods the portal's privacy notice states, read from the schedule in force (Art. 13(2)(a)): the notice
    cannot drift from what the deletion job does."""
    schedule = schedule_get()
    agent = schedule[RecordKind.AGENT_ACCOUNT]
    return {
        "case_file_retention_days": schedule[RecordKind.CASE_FILE].days,
        "unconfirmed_retention_days": schedule[RecordKind.UNCONFIRMED_REQUEST].days,
        "agent_retention_days": agent.days,
        "agent_notice_days": agent.notice_days,
        "complaint_retention_days": schedule[RecordKind.COMPLAINT].days,
        "legal_hold_applies": True,
    }
