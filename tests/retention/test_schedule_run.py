"""The retention jobs (issue 13, Done when): run twice over cases of every age and a held one, they delete exactly
what the schedule says (LAW.md §6(h); GDPR Art. 5(1)(e)), with their files, keeping the metrics' figures."""

import io
from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from agents.models import Agent
from casework import metrics
from complaints.models import Complaint, ComplaintEvent, ComplaintMessage, ComplaintStatus
from complaints.services import ComplaintSubmission, complaint_resolve, complaint_submit, complaint_withdraw
from fulfilment.models import Compilation
from fulfilment.services import ARCHIVES
from identity.models import VerificationStatus
from requests_app.models import (
    DataSubjectRequest,
    MarketingSuppression,
    RefusalGround,
    RequestEvent,
    Right,
    Status,
)
from retention import services
from retention.models import AgentDeletionNotice, ClosedCaseFigure, HoldReason, RecordKind, RetentionRun
from tests.factories import (
    AgentFactory,
    AgentFilingFactory,
    IdentityVerificationFactory,
    RequestDocumentFactory,
    StaffUserFactory,
    at,
    submitted_request,
)

pytestmark = pytest.mark.django_db

_emails = iter(f"person{n}@example.com" for n in range(1000))


def _closed(status: str, *, days_ago: float, now, right: str = Right.ACCESS, **state) -> DataSubjectRequest:
    """A request made through the services, then closed ``days_ago`` before ``now`` in ``status`` (the closing
    itself is what the request tests cover; here only the age matters)."""
    request = submitted_request(email=next(_emails), right=right)
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        status=status, closed_at=now - timedelta(days=days_ago), **state
    )
    request.refresh_from_db()
    return request


def _alive(*requests) -> set[int]:
    return set(DataSubjectRequest.objects.filter(pk__in=[r.pk for r in requests]).values_list("pk", flat=True))


def _run(now, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.retention_run(now=now)


def test_run_twice_over_cases_of_every_age_deletes_exactly_what_the_schedule_says(
    settings, django_capture_on_commit_callbacks
):
    """Defaults of LAW.md §6(h): unconfirmed 90 days, case files 730 days after closure. A day either side of each
    boundary; a held case, and one with an open complaint, long past their period; an open request never."""
    now = timezone.now()
    unconfirmed_young = _closed(Status.CLOSED_UNCONFIRMED, days_ago=89, now=now)
    unconfirmed_old = _closed(Status.CLOSED_UNCONFIRMED, days_ago=91, now=now)
    completed_young = _closed(Status.COMPLETED, days_ago=729, now=now)
    completed_old = _closed(Status.COMPLETED, days_ago=731, now=now)
    refused_old = _closed(Status.REFUSED, days_ago=731, now=now, refusal_ground=RefusalGround.MANIFESTLY_EXCESSIVE)
    withdrawn_old = _closed(Status.WITHDRAWN, days_ago=731, now=now)
    # A completed request is not deleted at the unconfirmed period, however short that is.
    completed_at_unconfirmed_age = _closed(Status.COMPLETED, days_ago=91, now=now)
    held = _closed(Status.COMPLETED, days_ago=2000, now=now)
    services.legal_hold_place(request=held, reason=HoldReason.CLAIM, note="Claim N-1", actor=StaffUserFactory())
    complained = _closed(Status.REFUSED, days_ago=2000, now=now)
    complaint = complaint_submit(
        submission=ComplaintSubmission(name="Ada", email="ada@example.com", text="Refused wrongly.")
    )
    Complaint.objects.filter(pk=complaint.pk).update(request=complained)
    open_request = submitted_request(email=next(_emails))
    DataSubjectRequest.objects.filter(pk=open_request.pk).update(received_at=now - timedelta(days=3000))
    everything = (
        unconfirmed_young,
        unconfirmed_old,
        completed_young,
        completed_old,
        refused_old,
        withdrawn_old,
        completed_at_unconfirmed_age,
        held,
        complained,
        open_request,
    )

    first = _run(now, django_capture_on_commit_callbacks)
    second = _run(now, django_capture_on_commit_callbacks)

    assert _alive(*everything) == {
        unconfirmed_young.pk,
        completed_young.pk,
        completed_at_unconfirmed_age.pk,
        held.pk,
        complained.pk,
        open_request.pk,
    }
    assert first.counts == {"case_file": 3, "held": 2, "unconfirmed_request": 1}
    assert second.counts == {"held": 2}, "a second run deletes nothing more"
    assert RetentionRun.objects.count() == 2
    # The trail went with the cases: no event of a deleted request is left.
    assert not RequestEvent.objects.filter(request_id__in=[unconfirmed_old.pk, completed_old.pk]).exists()
    assert ClosedCaseFigure.objects.count() == 4


def _complaint(*, now, about=None, closed_days_ago=None, withdrawn=False, received_days_ago=None) -> Complaint:
    """A complaint made through the services (about ``about``'s case if given), then, if ``closed_days_ago``, resolved
    or withdrawn through the services and its closing step dated that many days before ``now``."""
    complaint = complaint_submit(
        submission=ComplaintSubmission(name="Ada", email=next(_emails), text="You handled my request badly.")
    )
    if about is not None:
        Complaint.objects.filter(pk=complaint.pk).update(request=about)
    if received_days_ago is not None:
        Complaint.objects.filter(pk=complaint.pk).update(received_at=now - timedelta(days=received_days_ago))
    complaint.refresh_from_db()
    if closed_days_ago is not None:
        staff = StaffUserFactory()
        if withdrawn:
            complaint_withdraw(complaint=complaint, actor=staff, reason="She wrote to withdraw it.")
        else:
            complaint_resolve(complaint=complaint, actor=staff, outcome="We were late, and have changed our process.")
        when = now - timedelta(days=closed_days_ago)
        ComplaintEvent.objects.filter(
            complaint=complaint, to_status__in=[ComplaintStatus.RESOLVED, ComplaintStatus.WITHDRAWN]
        ).update(created_at=when)
        if not withdrawn:
            Complaint.objects.filter(pk=complaint.pk).update(resolved_at=when)
    return complaint


def _complaints_alive(*complaints) -> set[int]:
    return set(Complaint.objects.filter(pk__in=[c.pk for c in complaints]).values_list("pk", flat=True))


def test_run_twice_over_cases_with_complaints_of_every_age_deletes_exactly_what_the_schedule_says(
    django_capture_on_commit_callbacks,
):
    """LAW.md §6(h) and UK DPA 2018 s.164A: a complaint about a case is part of its file; the file's period (730 days)
    runs from the later of the case's closure and the complaint's, an open complaint holds the case, and the complaint
    is deleted with the case. A complaint about no case is deleted its own period (730 days) after it was closed.
    Run twice: the second run deletes nothing more."""
    now = timezone.now()
    # Cases closed long ago, with complaints closed at different times.
    old_complaint_case = _closed(Status.COMPLETED, days_ago=900, now=now)
    old_complaint = _complaint(now=now, about=old_complaint_case, closed_days_ago=850)
    boundary_case = _closed(Status.REFUSED, days_ago=900, now=now)
    boundary_complaint = _complaint(now=now, about=boundary_case, closed_days_ago=731, withdrawn=True)
    recent_complaint_case = _closed(Status.COMPLETED, days_ago=900, now=now)
    recent_complaint = _complaint(now=now, about=recent_complaint_case, closed_days_ago=100)
    just_inside_case = _closed(Status.COMPLETED, days_ago=900, now=now)
    just_inside_complaint = _complaint(now=now, about=just_inside_case, closed_days_ago=729, withdrawn=True)
    open_complaint_case = _closed(Status.COMPLETED, days_ago=2000, now=now)
    open_complaint = _complaint(now=now, about=open_complaint_case, received_days_ago=1500)
    two_complaints_case = _closed(Status.COMPLETED, days_ago=900, now=now)
    two_old = _complaint(now=now, about=two_complaints_case, closed_days_ago=880)
    two_recent = _complaint(now=now, about=two_complaints_case, closed_days_ago=10)
    # A case still within its own period, whatever its complaint's age.
    young_case = _closed(Status.COMPLETED, days_ago=300, now=now)
    young_case_complaint = _complaint(now=now, about=young_case, closed_days_ago=299)
    # Complaints about no case: their own period from their closure; an open one never.
    unlinked_old = _complaint(now=now, closed_days_ago=731)
    unlinked_withdrawn_old = _complaint(now=now, closed_days_ago=1000, withdrawn=True)
    unlinked_young = _complaint(now=now, closed_days_ago=729)
    unlinked_open = _complaint(now=now, received_days_ago=3000)
    cases = (
        old_complaint_case,
        boundary_case,
        recent_complaint_case,
        just_inside_case,
        open_complaint_case,
        two_complaints_case,
        young_case,
    )
    complaints = (
        old_complaint,
        boundary_complaint,
        recent_complaint,
        just_inside_complaint,
        open_complaint,
        two_old,
        two_recent,
        young_case_complaint,
        unlinked_old,
        unlinked_withdrawn_old,
        unlinked_young,
        unlinked_open,
    )

    first = _run(now, django_capture_on_commit_callbacks)
    second = _run(now, django_capture_on_commit_callbacks)

    assert _alive(*cases) == {
        recent_complaint_case.pk,
        just_inside_case.pk,
        open_complaint_case.pk,
        two_complaints_case.pk,
        young_case.pk,
    }
    assert _complaints_alive(*complaints) == {
        recent_complaint.pk,
        just_inside_complaint.pk,
        open_complaint.pk,
        two_old.pk,
        two_recent.pk,
        young_case_complaint.pk,
        unlinked_young.pk,
        unlinked_open.pk,
    }
    assert first.counts == {"case_file": 2, "complaint": 2, "held": 1}
    assert second.counts == {"held": 1}, "a second run deletes nothing more"
    # The complaints went with their cases, their history and notices with them: nothing left unlinked.
    gone = [old_complaint.pk, boundary_complaint.pk, unlinked_old.pk, unlinked_withdrawn_old.pk]
    assert not ComplaintEvent.objects.filter(complaint_id__in=gone).exists()
    assert not ComplaintMessage.objects.filter(complaint_id__in=gone).exists()
    assert not Complaint.objects.filter(request__isnull=True).exclude(pk__in=[unlinked_young.pk, unlinked_open.pk])


def test_once_its_complaint_is_closed_the_case_is_deleted_a_period_later_with_the_complaint(
    django_capture_on_commit_callbacks,
):
    """UK DPA 2018 s.164A: while the complaint is open the case is kept; once it is resolved the case file's period
    runs again from that day, and at its end the case and the complaint are deleted together."""
    now = timezone.now()
    case = _closed(Status.COMPLETED, days_ago=800, now=now)
    complaint = _complaint(now=now, about=case)

    _run(now, django_capture_on_commit_callbacks)
    assert _alive(case) == {case.pk}

    complaint_resolve(complaint=complaint, actor=StaffUserFactory(), outcome="We looked again and were right.")
    _run(now + timedelta(days=1), django_capture_on_commit_callbacks)
    assert _alive(case) == {case.pk}, "the file's period now runs from the complaint's closure"

    _run(now + timedelta(days=731), django_capture_on_commit_callbacks)
    assert _alive(case) == set()
    assert _complaints_alive(complaint) == set()


def test_a_complaint_about_a_never_confirmed_request_is_kept_its_own_period_with_the_request(
    django_capture_on_commit_callbacks,
):
    """A never-confirmed request is deleted 90 days after closure, but a complaint about it is never kept shorter
    than a complaint about nothing (730 days from its closure): the request stays with it until then (s.164A)."""
    now = timezone.now()
    request = _closed(Status.CLOSED_UNCONFIRMED, days_ago=400, now=now)
    complaint = _complaint(now=now, about=request, closed_days_ago=300)
    gone_request = _closed(Status.CLOSED_UNCONFIRMED, days_ago=900, now=now)
    gone_complaint = _complaint(now=now, about=gone_request, closed_days_ago=731)

    _run(now, django_capture_on_commit_callbacks)

    assert _alive(request, gone_request) == {request.pk}
    assert _complaints_alive(complaint, gone_complaint) == {complaint.pk}


def test_a_lengthened_complaint_period_keeps_complaints_about_no_case_longer(django_capture_on_commit_callbacks):
    """The DPO may lengthen the complaint period (never shorten it); the job applies the period in force."""
    now = timezone.now()
    services.retention_rule_set(
        kind=RecordKind.COMPLAINT, days=1095, reason="Claims foreseeable.", actor=StaffUserFactory()
    )
    kept = _complaint(now=now, closed_days_ago=800)
    gone = _complaint(now=now, closed_days_ago=1096)

    _run(now, django_capture_on_commit_callbacks)

    assert _complaints_alive(kept, gone) == {kept.pk}
    with pytest.raises(services.RetentionError, match="shorter than the portal's default"):
        services.retention_rule_set(kind=RecordKind.COMPLAINT, days=100, reason="Less.", actor=StaffUserFactory())


def test_a_released_hold_no_longer_keeps_the_case(django_capture_on_commit_callbacks):
    now = timezone.now()
    case = _closed(Status.COMPLETED, days_ago=800, now=now)
    dpo = StaffUserFactory()
    hold = services.legal_hold_place(request=case, reason=HoldReason.REGULATOR, note="ICO case", actor=dpo)
    _run(now, django_capture_on_commit_callbacks)
    assert _alive(case) == {case.pk}

    services.legal_hold_release(hold=hold, reason="The ICO closed its inquiry.", actor=dpo)
    _run(now, django_capture_on_commit_callbacks)
    assert _alive(case) == set()


def test_a_lengthened_case_file_period_is_respected(django_capture_on_commit_callbacks):
    """LAW.md §6(h): "2 years after closure unless the DPO sets longer" (for example 3 years where claims are
    foreseeable): a case file 800 days old is then kept, one past the longer period deleted."""
    now = timezone.now()
    services.retention_rule_set(
        kind=RecordKind.CASE_FILE, days=1095, reason="Claims foreseeable: 3 years.", actor=StaffUserFactory()
    )
    kept = _closed(Status.COMPLETED, days_ago=800, now=now)
    gone = _closed(Status.COMPLETED, days_ago=1096, now=now)

    _run(now, django_capture_on_commit_callbacks)

    assert _alive(kept, gone) == {kept.pk}


def test_the_marketing_suppression_entry_outlives_its_request(django_capture_on_commit_callbacks):
    """Art. 21(3): the entry that keeps a person off marketing lists is never deleted by retention."""
    now = timezone.now()
    objection = _closed(Status.COMPLETED, days_ago=800, now=now, right=Right.OBJECTION)
    MarketingSuppression.objects.create(email_hash="a" * 64, source_request_id=objection.pk)

    _run(now, django_capture_on_commit_callbacks)

    assert _alive(objection) == set()
    assert MarketingSuppression.objects.filter(source_request_id=objection.pk).exists()


def test_deleting_a_case_removes_its_files_from_the_file_store(settings, django_capture_on_commit_callbacks):
    """Art. 5(1)(e), 32: the encrypted files of the case go with it: documents and a compiled archive."""
    now = timezone.now()
    case = _closed(Status.COMPLETED, days_ago=800, now=now)
    document = RequestDocumentFactory(request=case)
    archive = ARCHIVES.save(io.BytesIO(b"the compiled answer"))
    Compilation.objects.create(request=case, status="assembled", archive_name=archive.name)
    documents_dir = settings.PRIVATE_UPLOAD_DIR / "documents"
    assert (documents_dir / document.storage_key).exists() and ARCHIVES.exists(archive.name)

    _run(now, django_capture_on_commit_callbacks)

    assert not (documents_dir / document.storage_key).exists()
    assert not ARCHIVES.exists(archive.name)


def test_the_metrics_stay_the_same_after_the_cases_are_deleted(settings, django_capture_on_commit_callbacks):
    """Deleting a case keeps the anonymous figures the metrics need (issue 13): every figure of the period is the
    same before and after the deletion, though the cases themselves are gone."""
    settings.DSAR_CASE_FILE_RETENTION_DAYS = 10  # a short deployment default, so cases of the period are deleted
    today = date(2026, 6, 15)
    now = at(today)

    def answered(right, received, answered_on, due, **state):
        request = submitted_request(email=next(_emails), right=right)
        DataSubjectRequest.objects.filter(pk=request.pk).update(
            received_on=received,
            received_at=at(received),
            answered_on=answered_on,
            closed_at=at(answered_on),
            due_on=due,
            **state,
        )
        return request

    answered(Right.ACCESS, date(2026, 5, 1), date(2026, 5, 20), date(2026, 6, 1), status=Status.COMPLETED,
             fee_requested_on=date(2026, 5, 2))  # fmt: skip
    answered(Right.ACCESS, date(2026, 4, 1), date(2026, 5, 10), date(2026, 5, 1), status=Status.REFUSED,
             refusal_ground=RefusalGround.MANIFESTLY_EXCESSIVE, answered_late=True)  # fmt: skip
    erasure = answered(Right.ERASURE, date(2026, 2, 1), date(2026, 4, 15), date(2026, 5, 1), status=Status.COMPLETED,
                       extension_months=2)  # fmt: skip
    IdentityVerificationFactory(
        request=erasure, status=VerificationStatus.VERIFIED, decided_at=at(date(2026, 2, 3), 15)
    )
    answered(Right.OBJECTION, date(2026, 3, 2), date(2026, 3, 2), date(2026, 4, 2), status=Status.COMPLETED,
             suppressed_at=at(date(2026, 3, 2), 17))  # fmt: skip
    recent = answered(Right.ACCESS, date(2026, 6, 1), date(2026, 6, 10), date(2026, 7, 1), status=Status.COMPLETED)
    before = [(table.slug, table.rows) for table in metrics.metrics_tables(today=today)]

    _run(now, django_capture_on_commit_callbacks)

    assert DataSubjectRequest.objects.filter(status__in=[Status.COMPLETED, Status.REFUSED]).count() == 1
    assert _alive(recent) == {recent.pk}
    after = [(table.slug, table.rows) for table in metrics.metrics_tables(today=today)]
    assert after == before
    figures = ClosedCaseFigure.objects.filter(right=Right.ERASURE).get()
    assert figures.extension_used and figures.answered_in_time and figures.hours_to_verify == 51.0
    assert not hasattr(figures, "reference") and not hasattr(figures, "email_hash")


# --- Agent accounts ------------------------------------------------------------------------------------------------


def _agent_unused(days: int, now) -> Agent:
    agent = AgentFactory()
    Agent.objects.filter(pk=agent.pk).update(created_at=now - timedelta(days=days))
    agent.user.__class__.objects.filter(pk=agent.user_id).update(last_login=now - timedelta(days=days))
    return agent


def test_an_unused_agent_account_is_told_then_deleted_after_the_notice_period(django_capture_on_commit_callbacks):
    """LAW.md §6(h): agent accounts are deleted after 2 years without use, with notice: the e-mail goes 30 days
    before; the account goes only once the notice time has passed, and a second run does not e-mail again."""
    now = timezone.now()
    agent = _agent_unused(710, now)
    recent = _agent_unused(600, now)

    first = _run(now, django_capture_on_commit_callbacks)
    _run(now, django_capture_on_commit_callbacks)

    assert first.counts == {"agent_notice": 1}
    assert [message.to for message in mail.outbox] == [[agent.email]]
    assert "will delete it on or after" in mail.outbox[0].body
    assert Agent.objects.filter(pk__in=[agent.pk, recent.pk]).count() == 2

    later = now + timedelta(days=29)
    _run(later, django_capture_on_commit_callbacks)
    assert Agent.objects.filter(pk=agent.pk).exists(), "not before the notice time has passed"

    later = now + timedelta(days=31)
    run = _run(later, django_capture_on_commit_callbacks)
    assert run.counts.get("agent_account") == 1
    assert not Agent.objects.filter(pk=agent.pk).exists()
    assert not agent.user.__class__.objects.filter(pk=agent.user_id).exists()
    assert Agent.objects.filter(pk=recent.pk).exists()


def test_an_agent_account_is_not_deleted_without_its_notice_having_gone(django_capture_on_commit_callbacks):
    """With notice: an account whose e-mail was never sent (the mail server refused it) is not deleted."""
    now = timezone.now()
    agent = _agent_unused(800, now)
    AgentDeletionNotice.objects.create(agent=agent, created_at=now, sent_at=None, delete_after=now)

    _run(now + timedelta(days=60), django_capture_on_commit_callbacks)

    assert Agent.objects.filter(pk=agent.pk).exists()


def test_signing_in_after_the_notice_keeps_the_account(django_capture_on_commit_callbacks):
    now = timezone.now()
    agent = _agent_unused(710, now)
    _run(now, django_capture_on_commit_callbacks)
    agent.user.__class__.objects.filter(pk=agent.user_id).update(last_login=now + timedelta(days=5))

    _run(now + timedelta(days=40), django_capture_on_commit_callbacks)

    assert Agent.objects.filter(pk=agent.pk).exists()


def test_an_agent_whose_filings_are_still_on_record_is_kept(django_capture_on_commit_callbacks):
    """A filing belongs to a case file still kept: the account goes with the last of them, not before."""
    now = timezone.now()
    filing = AgentFilingFactory()
    Agent.objects.filter(pk=filing.agent_id).update(created_at=now - timedelta(days=900))
    filing.__class__.objects.filter(pk=filing.pk).update(created_at=now - timedelta(days=900))

    _run(now, django_capture_on_commit_callbacks)

    assert Agent.objects.filter(pk=filing.agent_id).exists()
    assert not mail.outbox or all(filing.agent.email not in message.to for message in mail.outbox[1:])


def test_a_dpo_may_lengthen_a_period_never_shorten_it_and_every_edit_is_recorded():
    dpo = StaffUserFactory()
    with pytest.raises(services.RetentionError, match="shorter than the portal's default"):
        services.retention_rule_set(kind=RecordKind.CASE_FILE, days=365, reason="Save space.", actor=dpo)
    with pytest.raises(services.RetentionError, match="legal hold"):
        services.retention_rule_set(kind=RecordKind.CASE_FILE, days=5000, reason="Forever.", actor=dpo)
    with pytest.raises(services.RetentionError, match="reason"):
        services.retention_rule_set(kind=RecordKind.CASE_FILE, days=1095, reason=" ", actor=dpo)

    services.retention_rule_set(kind=RecordKind.CASE_FILE, days=1095, reason="Claims foreseeable.", actor=dpo)

    change = services.RetentionRuleChange.objects.get()
    assert (change.from_days, change.to_days, change.changed_by, change.reason) == (
        730,
        1095,
        dpo,
        "Claims foreseeable.",
    )


def test_a_held_case_keeps_its_supporting_documents_past_their_period():
    """The supporting documents go with the case file (requests_app's sweep), but not while the case is held."""
    from requests_app.services import supporting_documents_retention_sweep

    now = timezone.now()
    held = _closed(Status.COMPLETED, days_ago=800, now=now)
    free = _closed(Status.COMPLETED, days_ago=800, now=now)
    held_document = RequestDocumentFactory(request=held)
    free_document = RequestDocumentFactory(request=free)
    services.legal_hold_place(request=held, reason=HoldReason.CLAIM, note="", actor=StaffUserFactory())

    assert supporting_documents_retention_sweep(now=now) == 1

    held_document.refresh_from_db()
    free_document.refresh_from_db()
    assert held_document.deleted_at is None and free_document.deleted_at is not None
