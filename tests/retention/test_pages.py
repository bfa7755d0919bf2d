"""The retention page (the DPO's) and legal holds on the case page (LAW.md §6(h); GDPR Art. 5(1)(e), 5(2))."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint
from complaints.services import ComplaintSubmission, complaint_submit
from requests_app.models import DataSubjectRequest, EventKind, RequestEvent, Status
from retention.models import HoldStatus, LegalHold, RecordKind, RetentionRule, RetentionRuleChange
from tests.factories import give_second_factor, in_progress_request, submitted_request

pytestmark = pytest.mark.django_db


def _signed_in(client, user):
    client.force_login(user)
    give_second_factor(client)
    return client


def test_only_the_dpo_opens_the_retention_page(client, dpo, handler, auditor):
    for user in (handler, auditor):
        assert _signed_in(client, user).get(reverse("retention:schedule")).status_code == 403
    page = _signed_in(client, dpo).get(reverse("retention:schedule"))
    assert page.status_code == 200


def test_the_page_shows_each_period_its_basis_and_how_many_are_due(client, dpo):
    """Each period with its article, the periods other jobs enforce, and the counts due and kept."""
    now = timezone.now()
    for days_ago in (100, 120, 10):
        request = submitted_request(email=f"p{days_ago}@example.com")
        DataSubjectRequest.objects.filter(pk=request.pk).update(
            status=Status.CLOSED_UNCONFIRMED, closed_at=now - timedelta(days=days_ago)
        )
    page = _signed_in(client, dpo).get(reverse("retention:schedule")).content.decode()

    assert "90 days after closure" in page and "730 days after closure" in page
    assert "2 to delete; 0 past the period but kept" in page
    assert "Art. 5(1)(e)" in page and "s.164A" in page and "Art. 21(3)" in page
    assert "fulfilment.tasks.expire_releases" in page  # the download window, referenced not duplicated
    assert "requests_app.services.supporting_documents_retention_sweep" in page
    assert "Art. 30(1)(f)" in page  # the portal's entry in the record of processing


def test_the_dpo_lengthens_a_period_with_a_reason_and_the_edit_is_recorded(client, dpo):
    client = _signed_in(client, dpo)
    url = reverse("retention:rule_set", args=[RecordKind.CASE_FILE])

    refused = client.post(url, {"case_file-days": "100", "case_file-reason": "Shorter"})
    assert refused.status_code == 400
    assert "shorter than the portal&#x27;s default of 730 days" in refused.content.decode()
    assert 'value="100"' in refused.content.decode()  # what was typed is kept
    assert not RetentionRule.objects.exists()

    response = client.post(url, {"case_file-days": "1095", "case_file-reason": "Claims foreseeable."})

    assert response.status_code == 302
    assert RetentionRule.objects.get(kind=RecordKind.CASE_FILE).days == 1095
    change = RetentionRuleChange.objects.get()
    assert (change.from_days, change.to_days, change.changed_by) == (730, 1095, dpo)
    page = client.get(reverse("retention:schedule")).content.decode()
    assert "1095 days after closure" in page and "Claims foreseeable." in page


def test_a_case_handler_cannot_change_the_schedule(client, handler):
    url = reverse("retention:rule_set", args=[RecordKind.CASE_FILE])
    response = _signed_in(client, handler).post(url, {"case_file-days": "1095", "case_file-reason": "x"})
    assert response.status_code == 403
    assert not RetentionRule.objects.exists()


def test_a_case_handler_places_a_hold_from_the_case_page_and_it_is_in_the_trail(client, handler):
    request = in_progress_request()
    client = _signed_in(client, handler)
    case_url = reverse("casework:request_detail", args=[request.reference])
    assert "Place a legal hold" in client.get(case_url).content.decode()

    missing = client.post(reverse("retention:hold_place", args=[request.reference]), {"reason": "other", "note": ""})
    assert missing.status_code == 400 and "Say why the case is held." in missing.content.decode()

    response = client.post(
        reverse("retention:hold_place", args=[request.reference]), {"reason": "claim", "note": "Claim N-42"}
    )

    assert response.status_code == 302
    hold = LegalHold.objects.get(request=request)
    assert (hold.status, hold.reason, hold.placed_by) == (HoldStatus.HELD, "claim", handler)
    event = RequestEvent.objects.get(request=request, kind=EventKind.LEGAL_HOLD_PLACED)
    assert event.actor == handler and "Claim N-42" in event.reason
    assert "A claim or litigation" in client.get(case_url).content.decode()


def test_releasing_a_hold_is_the_dpos_and_needs_a_reason(client, handler, dpo):
    request = in_progress_request()
    from retention.services import legal_hold_place

    hold = legal_hold_place(request=request, reason="complaint", note="", actor=dpo)
    url = reverse("retention:hold_release", args=[request.reference, hold.pk])

    assert _signed_in(client, handler).post(url, {"reason": "Done"}).status_code == 403
    client = _signed_in(client, dpo)
    without = client.post(url, {"reason": ""})
    assert without.status_code == 400
    hold.refresh_from_db()
    assert hold.status == HoldStatus.HELD

    assert client.post(url, {"reason": "The complaint was answered and closed."}).status_code == 302
    hold.refresh_from_db()
    assert (hold.status, hold.released_by, hold.release_reason) == (
        HoldStatus.RELEASED,
        dpo,
        "The complaint was answered and closed.",
    )
    event = RequestEvent.objects.get(request=request, kind=EventKind.LEGAL_HOLD_RELEASED)
    assert event.reason == "The complaint was answered and closed." and event.actor == dpo
    # A second release (another tab) is a message, not an error.
    assert client.post(url, {"reason": "Again"}).status_code == 302


def test_the_case_page_shows_that_an_open_complaint_keeps_the_case(client, dpo):
    request = in_progress_request()
    complaint = complaint_submit(submission=ComplaintSubmission(name="Ada", email="ada@example.com", text="Slow."))
    Complaint.objects.filter(pk=complaint.pk).update(request=request)
    page = _signed_in(client, dpo).get(reverse("casework:request_detail", args=[request.reference]))
    assert "An open complaint about this request" in page.content.decode()


def test_a_hold_cannot_be_placed_on_a_case_the_user_may_not_see(client, handler, other_handler):
    from tests.factories import assignment_make

    request = in_progress_request()
    assignment_make(request, other_handler)
    response = _signed_in(client, handler).post(
        reverse("retention:hold_place", args=[request.reference]), {"reason": "claim", "note": ""}
    )
    assert response.status_code == 404
    assert not LegalHold.objects.exists()


def test_the_privacy_notice_states_the_schedule_in_force(client, dpo):
    """Art. 13(2)(a): the notice shows the periods the deletion job enforces, a lengthened one included."""
    from retention.services import retention_rule_set

    retention_rule_set(kind=RecordKind.CASE_FILE, days=1095, reason="Claims foreseeable.", actor=dpo)
    retention_rule_set(kind=RecordKind.AGENT_ACCOUNT, days=900, notice_days=45, reason="Longer.", actor=dpo)

    page = client.get(reverse("identity:privacy_notice")).content.decode()

    assert "kept 1095 days after the request is closed" in page
    assert "An agent's account: deleted when it has not been used for 900 days. We e-mail the agent 45 days" in page
    assert "deleted 14 days after it is ready" in page
    assert "a claim or a regulator" in page


def test_the_privacy_notice_states_how_long_complaints_are_kept(client, dpo):
    """Art. 13(2)(a), 13(1)(c): complainants are told what is kept about their complaint, why, and for how long: with
    the request's file when it is about one, else the complaint period in force."""
    from retention.services import retention_rule_set

    page = client.get(reverse("identity:privacy_notice")).content.decode()
    assert "people who complain to us" in page
    assert "section 164A" in page
    assert "A complaint about a request made here: kept with the file of that request and deleted with it" in page
    assert "Any other complaint: deleted 730 days after it is closed." in page

    retention_rule_set(kind=RecordKind.COMPLAINT, days=1200, reason="Claims foreseeable.", actor=dpo)

    page = client.get(reverse("identity:privacy_notice")).content.decode()
    assert "Any other complaint: deleted 1200 days after it is closed." in page
    assert "is never less than 1200 days from then" in page


def test_the_schedule_page_has_the_complaint_period_with_how_many_are_due(client, dpo):
    """The DPO sees and sets the complaint period like the others; complaints about a case are counted with it."""
    from complaints.services import complaint_resolve

    complaint = complaint_submit(submission=ComplaintSubmission(name="Ada", email="ada@example.com", text="Slow."))
    complaint_resolve(complaint=complaint, actor=dpo, outcome="Sorry.")
    Complaint.objects.filter(pk=complaint.pk).update(resolved_at=timezone.now() - timedelta(days=800))
    complaint.events.update(created_at=timezone.now() - timedelta(days=800))
    client = _signed_in(client, dpo)

    page = client.get(reverse("retention:schedule")).content.decode()
    assert "Closed complaints not about a case" in page
    assert "730 days after the complaint is closed" in page
    assert "1 to delete (complaints about a case go with its file)" in page
    assert "or after the closure of a complaint about the case if that is later" in page

    response = client.post(
        reverse("retention:rule_set", args=[RecordKind.COMPLAINT]),
        {"complaint-days": "900", "complaint-reason": "Claims foreseeable."},
    )
    assert response.status_code == 302
    assert RetentionRule.objects.get(kind=RecordKind.COMPLAINT).days == 900


def test_the_case_page_says_when_the_case_files_period_ends_counted_from_a_complaint(client, dpo):
    """Art. 5(1)(e): staff see when a closed case will be deleted; a complaint about it closed later moves the day
    to the complaint's closure plus the period."""
    from complaints.services import complaint_resolve

    request = in_progress_request()
    closed_at = timezone.now() - timedelta(days=100)
    DataSubjectRequest.objects.filter(pk=request.pk).update(status=Status.COMPLETED, closed_at=closed_at)
    client = _signed_in(client, dpo)
    case_url = reverse("casework:request_detail", args=[request.reference])

    page = client.get(case_url).content.decode()
    ends = timezone.localdate(closed_at + timedelta(days=730))
    assert f"Its retention period ends on {ends:%-d %B %Y}." in page

    complaint = complaint_submit(submission=ComplaintSubmission(name="Ada", email="ada@example.com", text="Wrong."))
    Complaint.objects.filter(pk=complaint.pk).update(request=request)
    complaint.refresh_from_db()
    complaint_resolve(complaint=complaint, actor=dpo, outcome="We looked again.")

    page = client.get(case_url).content.decode()
    ends = timezone.localdate() + timedelta(days=730)
    assert f"Its retention period ends on {ends:%-d %B %Y}, counted from the closure of a complaint about it." in page
