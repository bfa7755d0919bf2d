"""Reasons for everything not done (GDPR Art. 12(4); LAW.md R1, R3, N1, N3): a refusal names a ground the law gives
for the right refused, carries what that ground needs, tells the person how to complain, and is recorded as late
when it is; a partly fulfilled request says what was done, what was not, and why."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.urls import reverse

from organisation.selectors import organisation_get
from requests_app import selectors, services
from requests_app.models import DataSubjectRequest, EventKind, Outcome, RefusalGround, Right, Status
from requests_app.scope import ErasureScope
from tests.factories import StaffUserFactory, in_progress_objection, in_progress_request, status_link_path_in

# Real commits: the e-mails go after commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

G = RefusalGround

# --- Through the service: what is stored and what the person reads --------------------------------------------------


def _request(**overrides) -> DataSubjectRequest:
    request = in_progress_request(**overrides)
    mail.outbox.clear()
    return request


def test_an_erasure_kept_for_a_legal_obligation_names_article_17_3_b():
    request = _request(right=Right.ERASURE, details=ErasureScope().as_details())

    services.request_refuse(
        request=request,
        actor=StaffUserFactory(),
        ground=G.ERASURE_LEGAL_OBLIGATION,
        reasons="Tax law requires us to keep invoices for six years.",
    )

    request.refresh_from_db()
    assert request.refusal_ground == G.ERASURE_LEGAL_OBLIGATION
    [email] = mail.outbox
    assert "Art. 17(3)(b)" in email.body
    assert "Tax law requires us to keep invoices for six years." in email.body


def test_a_ground_of_another_right_is_refused_and_nothing_is_sent():
    request = _request()  # access

    with pytest.raises(services.RequestError, match="not a ground"):
        services.request_refuse(
            request=request, actor=StaffUserFactory(), ground=G.ERASURE_LEGAL_CLAIMS, reasons="Litigation."
        )

    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert mail.outbox == []


def test_a_uk_exemption_is_named_with_its_paragraph():
    request = _request()
    staff = StaffUserFactory()
    with pytest.raises(services.RequestError, match="Name the exemption"):
        services.request_refuse(request=request, actor=staff, ground=G.EXEMPTION, reasons="Privileged advice.")
    with pytest.raises(services.RequestError, match="exact reference"):
        services.request_refuse(
            request=request, actor=staff, ground=G.EXEMPTION, reasons="Privileged advice.", exemption="uk_sch2_para19"
        )
    with pytest.raises(services.RequestError, match="Name the exemption"):
        services.request_refuse(
            request=request,
            actor=staff,
            ground=G.EXEMPTION,
            reasons="Privileged advice.",
            exemption="eu_art23",
            reference="§ 29 BDSG",
        )

    services.request_refuse(
        request=request,
        actor=staff,
        ground=G.EXEMPTION,
        reasons="The documents are advice from our solicitors.",
        exemption="uk_sch2_para19",
        reference="DPA 2018 Sch. 2 para 19(a)",
    )

    request.refresh_from_db()
    assert (request.refusal_exemption, request.refusal_reference) == ("uk_sch2_para19", "DPA 2018 Sch. 2 para 19(a)")
    [email] = mail.outbox
    assert "DPA 2018 Sch. 2 para 19: legal professional privilege (DPA 2018 Sch. 2 para 19(a))" in email.body


def test_an_eu_exemption_names_the_national_law_and_the_person_may_complain_where_they_live_or_work():
    """GDPR Art. 23 restrictions are in national law, which must be named; Art. 77(1): any authority where the
    person lives or works."""
    organisation = organisation_get()
    organisation.jurisdiction = "DE"
    organisation.save()
    request = _request()

    with pytest.raises(services.RequestError, match="Name the exemption"):
        services.request_refuse(
            request=request,
            actor=StaffUserFactory(),
            ground=G.EXEMPTION,
            reasons="Kept only for archiving duties.",
            exemption="uk_sch2_para2",
            reference="DPA 2018 Sch. 2 para 2",
        )
    services.request_refuse(
        request=request,
        actor=StaffUserFactory(),
        ground=G.EXEMPTION,
        reasons="Kept only for archiving duties.",
        exemption="eu_art23",
        reference="§ 34(1) BDSG (Germany)",
    )

    [email] = mail.outbox
    assert "GDPR Art. 23: a restriction in national law (§ 34(1) BDSG (Germany))" in email.body
    assert "where you live or work" in email.body
    assert "complain to us first" not in email.body


def test_a_uk_refusal_offers_our_own_complaints_route_first():
    """DPA 2018 s.164A: the controller's complaints route, configurable on the organisation."""
    organisation = organisation_get()
    organisation.complaints_contact = "complaints@example.org"
    organisation.save()
    request = _request()

    services.request_refuse(
        request=request, actor=StaffUserFactory(), ground=G.MANIFESTLY_EXCESSIVE, reasons="Repeated.", note="3rd."
    )

    [email] = mail.outbox
    assert "complain to us first: complaints@example.org" in email.body
    assert organisation.supervisory_authority_name in email.body
    assert "judicial remedy" in email.body
    assert "where you live or work" not in email.body


def test_manifestly_excessive_needs_an_evidence_note_kept_with_the_persons_other_requests():
    """Art. 12(5): the burden is on the controller; the note lists the person's requests found by e-mail hash."""
    earlier = _request(email="Repeat@Example.com")
    stranger = _request(email="someone.else@example.com")
    request = _request(email="repeat@example.com")
    staff = StaffUserFactory()

    assert list(selectors.requests_from_same_person(request=request)) == [earlier]
    with pytest.raises(services.RequestError, match="evidence"):
        services.request_refuse(request=request, actor=staff, ground=G.MANIFESTLY_EXCESSIVE, reasons="Repeated.")

    services.request_refuse(
        request=request,
        actor=staff,
        ground=G.MANIFESTLY_EXCESSIVE,
        reasons="This repeats your request of last week.",
        note="Identical to last week's request, answered in full.",
    )

    request.refresh_from_db()
    assert request.decision_note == "Identical to last week's request, answered in full."
    with connection.cursor() as cursor:
        cursor.execute("SELECT decision_note FROM requests_app_datasubjectrequest WHERE id = %s", [request.pk])
        [raw] = cursor.fetchone()
    assert "Identical" not in raw  # encrypted at rest
    note_event = request.events.get(kind=EventKind.DECISION_NOTE)
    assert earlier.reference in note_event.reason
    assert stranger.reference not in note_event.reason
    [email] = mail.outbox
    assert "answered in full" not in email.body


def test_not_in_a_position_to_identify_needs_the_controllers_demonstration():
    """Art. 11(2): the controller must be able to demonstrate it cannot identify the person."""
    request = _request()
    with pytest.raises(services.RequestError, match="internal note"):
        services.request_refuse(
            request=request, actor=StaffUserFactory(), ground=G.NOT_IN_POSITION_TO_IDENTIFY, reasons="No account."
        )
    services.request_refuse(
        request=request,
        actor=StaffUserFactory(),
        ground=G.NOT_IN_POSITION_TO_IDENTIFY,
        reasons="Our CCTV keeps no names, and the date you gave is outside the 30 days we keep footage.",
        note="Checked CCTV retention log: footage for that date overwritten.",
    )
    [email] = mail.outbox
    assert "Art. 11(2)" in email.body


def test_data_found_accurate_says_the_persons_statement_is_recorded():
    """Art. 16: the person may have a supplementary statement added to data we consider accurate."""
    request = _request(right=Right.RECTIFICATION, details={"rectification_wrong": "DOB", "rectification_correct": "x"})
    with pytest.raises(services.RequestError, match="statement"):
        services.request_refuse(
            request=request, actor=StaffUserFactory(), ground=G.RECTIFICATION_DATA_ACCURATE, reasons="Checked."
        )
    services.request_refuse(
        request=request,
        actor=StaffUserFactory(),
        ground=G.RECTIFICATION_DATA_ACCURATE,
        reasons="Your passport shows the date we hold.",
        statement_recorded="Your note that you disagree is now on your account.",
    )
    request.refresh_from_db()
    assert request.decision_statement == {"statement_recorded": "Your note that you disagree is now on your account."}
    [email] = mail.outbox
    assert "Your note that you disagree is now on your account." in email.body


# --- Neither confirm nor deny (UK) ------------------------------------------------------------------------------------


def _dpo():
    dpo = StaffUserFactory(username="dpo")
    dpo.user_permissions.add(Permission.objects.get(codename="refuse_neither_confirm_nor_deny"))
    return type(dpo).objects.get(pk=dpo.pk)  # fresh permission cache


NCND = {
    "ground": G.EXEMPTION,
    "exemption": "uk_sch2_para2",
    "reference": "DPA 2018 Sch. 2 para 2(1)(a)",
    "note": "Police request under investigation ref 123; telling the person would alert them.",
    "neither_confirm_nor_deny": True,
}


def test_neither_confirm_nor_deny_is_the_dpos_alone_and_needs_an_internal_reason():
    request = _request()
    with pytest.raises(services.RequestError, match="data protection officer"):
        services.request_refuse(request=request, actor=StaffUserFactory(), **NCND)
    with pytest.raises(services.RequestError, match="internal note"):
        services.request_refuse(request=request, actor=_dpo(), **{**NCND, "note": " "})
    with pytest.raises(services.RequestError, match="prejudice"):
        services.request_refuse(
            request=request, actor=_dpo(), **{**NCND, "exemption": "uk_sch2_para24", "reference": "para 24"}
        )
    assert mail.outbox == []


def test_a_neither_confirm_nor_deny_notice_says_nothing_of_the_ground_but_still_how_to_complain(client):
    request = _request()

    services.request_refuse(request=request, actor=_dpo(), **NCND)

    request.refresh_from_db()
    assert request.neither_confirm_nor_deny is True
    [email] = mail.outbox
    assert "We are not able to provide information in response to your request" in email.body
    for secret in ("exemption", "Sch. 2", "crime", "Police", str(G.EXEMPTION.label)):
        assert secret not in email.body
    assert organisation_get().supervisory_authority_name in email.body
    assert "judicial remedy" in email.body
    # The trail keeps the internal reason for the DPO, never the person.
    assert request.events.get(to_status=Status.REFUSED).reason == NCND["note"]
    # The status page does not name the ground either.
    client.get(status_link_path_in(email))
    page = client.get(reverse("requests_app:status_detail", args=[request.reference])).content.decode()
    assert "Refused" in page
    assert str(G.EXEMPTION.label) not in page


def test_neither_confirm_nor_deny_is_not_open_under_eu_law():
    organisation = organisation_get()
    organisation.jurisdiction = "IE"
    organisation.save()
    request = _request()
    with pytest.raises(services.RequestError):
        services.request_refuse(
            request=request, actor=_dpo(), **{**NCND, "exemption": "eu_art23", "reference": "Data Protection Act 2018"}
        )


# --- Partly fulfilled --------------------------------------------------------------------------------------------

KEPT_INVOICES = {
    "done": "We erased your marketing profile and loyalty history.",
    "not_done": "We kept your invoices.",
    "why": "Tax law requires us to keep them for six years.",
    "ground": G.ERASURE_LEGAL_OBLIGATION,
}


def test_partly_fulfilled_needs_what_was_done_what_was_not_and_why_on_a_ground_of_that_right():
    request = _request(right=Right.ERASURE, details=ErasureScope().as_details())
    staff = StaffUserFactory()
    with pytest.raises(services.RequestError):
        services.request_complete(request=request, actor=staff, outcome=Outcome.PARTLY_FULFILLED, summary="Some.")
    with pytest.raises(services.RequestError, match="what we did not do"):
        services.request_complete(
            request=request, actor=staff, outcome=Outcome.PARTLY_FULFILLED, parts=[{**KEPT_INVOICES, "why": ""}]
        )
    with pytest.raises(services.RequestError, match="ground"):
        services.request_complete(
            request=request,
            actor=staff,
            outcome=Outcome.PARTLY_FULFILLED,
            parts=[{**KEPT_INVOICES, "ground": G.PORTABILITY_PUBLIC_TASK}],
        )
    assert mail.outbox == []

    services.request_complete(request=request, actor=staff, outcome=Outcome.PARTLY_FULFILLED, parts=[KEPT_INVOICES])

    request.refresh_from_db()
    assert request.decision_statement["parts"][0]["not_done"] == "We kept your invoices."
    [email] = mail.outbox
    body = email.body
    assert "We have done some of what you asked. Here is what we did, what we did not do, and why." in body
    assert "What we did: We erased your marketing profile and loyalty history." in body
    assert "What we did not do: We kept your invoices." in body
    assert "Why: Tax law requires us to keep them for six years." in body
    assert "Art. 17(3)(b)" in body
    assert organisation_get().supervisory_authority_address in body
    assert "judicial remedy" in body


@pytest.mark.parametrize(("outcome", "wording"), [(Outcome.FULFILLED, "Fulfilled"), (Outcome.NO_DATA_HELD, "No data")])
def test_fulfilled_and_no_data_held_keep_their_plain_wording_and_take_no_parts(outcome, wording):
    request = _request()
    with pytest.raises(services.RequestError):
        services.request_complete(request=request, actor=StaffUserFactory(), outcome=outcome, parts=[KEPT_INVOICES])
    services.request_complete(request=request, actor=StaffUserFactory(), outcome=outcome)
    [email] = mail.outbox
    assert f"Outcome: {wording}" in email.body
    assert "What we did not do" not in email.body


# --- Late answers -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("days_after_due", "late"), [(-5, False), (0, False), (1, True), (40, True)])
def test_a_refusal_sent_after_the_due_date_is_recorded_as_late(days_after_due, late):
    """Art. 12(4): at the latest within one month (as extended); the due date itself is in time."""
    request = _request()
    sent_on = request.due_on + timedelta(days=days_after_due)

    services.request_refuse(
        request=request, actor=StaffUserFactory(), ground=G.MANIFESTLY_EXCESSIVE, reasons="R.", note="N.", on=sent_on
    )

    request.refresh_from_db()
    assert (request.answered_on, request.answered_late) == (sent_on, late)
    assert request.events.filter(kind=EventKind.ANSWERED_LATE).exists() == late


@pytest.mark.parametrize(("days_after_due", "late"), [(0, False), (1, True)])
def test_a_completion_sent_after_the_due_date_is_recorded_as_late(days_after_due, late):
    request = _request()
    sent_on = request.due_on + timedelta(days=days_after_due)

    services.request_complete(request=request, actor=StaffUserFactory(), outcome=Outcome.FULFILLED, on=sent_on)

    request.refresh_from_db()
    assert (request.answered_on, request.answered_late) == (sent_on, late)
    assert request.events.filter(kind=EventKind.ANSWERED_LATE).exists() == late


def test_reopening_clears_the_decision_but_the_trail_keeps_the_note():
    request = _request()
    staff = StaffUserFactory()
    services.request_refuse(
        request=request, actor=staff, ground=G.MANIFESTLY_UNFOUNDED, reasons="R.", note="Threatening letters."
    )
    services.request_reopen(request=request, actor=staff, reason="Refused in error.")

    request.refresh_from_db()
    assert (request.refusal_ground, request.decision_note, request.answered_on) == ("", "", None)
    assert "Threatening letters." in request.events.get(kind=EventKind.DECISION_NOTE).reason


def test_a_direct_marketing_objection_cannot_be_refused_as_excessive():
    request = in_progress_objection()
    with pytest.raises(services.RequestError, match=r"Art\. 21\(3\)"):
        services.request_refuse(
            request=request, actor=StaffUserFactory(), ground=G.MANIFESTLY_EXCESSIVE, reasons="R.", note="N."
        )
