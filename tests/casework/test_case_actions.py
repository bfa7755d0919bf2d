"""The case page's actions (issue 11): each a form over one service, offered only where it fits, refused with a
message (never an error page) where the law or a race says no, and only for staff who may act on the case."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import services as casework_services
from requests_app import services
from requests_app.models import EventKind, ExtensionBasis, FeeBasis, Outcome, RefusalGround, Status
from tests.factories import in_progress_extendable, in_progress_objection, in_progress_request

pytestmark = pytest.mark.django_db


def _act(client, request, name: str, data: dict):
    prefixed = {f"{name}-{key}": value for key, value in data.items()}
    return client.post(reverse(f"casework:action_{name}", args=[request.reference]), prefixed, follow=True)


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _offered(response) -> set[str]:
    return {form.name for form in response.context["actions"]}


def test_a_dpo_stops_the_clock_of_an_access_request_to_ask_which_data_is_meant(client, dpo):
    request = in_progress_request()
    client.force_login(dpo)
    response = _act(
        client,
        request,
        "clarify",
        {"question": "Which accounts do you mean?", "stops_clock": "on", "condition": "We hold 40 years of records"},
    )
    request.refresh_from_db()
    assert request.status == Status.AWAITING_CLARIFICATION
    assert request.is_clock_paused
    assert "The question was sent and the clock is stopped until the person answers." in _messages(response)


def test_a_question_on_another_right_is_asked_without_stopping_the_clock(client, dpo):
    request = in_progress_extendable()
    client.force_login(dpo)
    page = client.get(reverse("casework:request_detail", args=[request.reference]))
    clarify = next(form for form in page.context["actions"] if form.name == "clarify")
    assert "stops_clock" not in clarify.fields
    response = _act(client, request, "clarify", {"question": "Which processing do you object to?"})
    request.refresh_from_db()
    assert request.status == Status.AWAITING_CLARIFICATION
    assert not request.is_clock_paused
    assert "The question was sent; the clock keeps running." in _messages(response)


def test_a_dpo_resumes_work_without_an_answer(client, dpo):
    request = in_progress_request()
    services.request_clarification_ask(
        request=request, actor=dpo, question="Which?", stops_clock=True, condition="Much data"
    )
    client.force_login(dpo)
    assert _offered(client.get(reverse("casework:request_detail", args=[request.reference]))) >= {"resume"}
    response = _act(
        client, request, "resume", {"on": timezone.localdate().isoformat(), "reason": "No reply; searching all"}
    )
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert not request.is_clock_paused
    assert "Work resumed without an answer." in _messages(response)


def test_a_dpo_extends_on_a_structured_basis(client, dpo):
    request = in_progress_extendable()
    due = request.due_on
    client.force_login(dpo)
    response = _act(
        client,
        request,
        "extend",
        {"months": "1", "basis": [ExtensionBasis.COMPLEXITY], "reasons": "Many systems to search"},
    )
    request.refresh_from_db()
    assert request.extension_months == 1
    assert request.due_on > due
    assert any(text.startswith("The deadline is extended to") for text in _messages(response))


def test_a_dpo_asks_for_a_fee_and_records_its_payment(client, dpo):
    request = in_progress_extendable()
    client.force_login(dpo)
    response = _act(
        client,
        request,
        "fee_request",
        {"amount": "25.00", "basis": FeeBasis.MANIFESTLY_EXCESSIVE, "reasons": "The fifth identical request"},
    )
    request.refresh_from_db()
    assert request.status == Status.AWAITING_FEE
    assert str(request.fee_amount) == "25.00"
    assert any(text.startswith("The person is asked for 25.00") for text in _messages(response))
    assert _offered(response) >= {"fee_paid", "refuse"}
    response = _act(client, request, "fee_paid", {"paid_on": timezone.localdate().isoformat(), "reference": "BACS-1"})
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.fee_paid_on == timezone.localdate()
    assert "The payment is recorded and work goes on." in _messages(response)


def test_a_dpo_refuses_on_a_ground_of_the_right_with_an_internal_note(client, dpo):
    request = in_progress_request()
    client.force_login(dpo)
    response = _act(
        client,
        request,
        "refuse",
        {
            "ground": RefusalGround.MANIFESTLY_EXCESSIVE,
            "reasons": "You asked for the same data every week.",
            "note": "Six identical requests since March.",
        },
    )
    request.refresh_from_db()
    assert request.status == Status.REFUSED
    assert request.refusal_ground == RefusalGround.MANIFESTLY_EXCESSIVE
    assert request.events.filter(kind=EventKind.DECISION_NOTE).exists()
    assert "The request is refused and the person is told why and how to complain." in _messages(response)
    # Besides a note and a message to the person, which fit every request, only reopening is left.
    assert _offered(response) == {"reopen", "note", "message"}


def test_a_dpo_completes_and_then_reopens(client, dpo):
    request = in_progress_request()
    client.force_login(dpo)
    response = _act(client, request, "complete", {"outcome": Outcome.FULFILLED, "summary": "Your data is attached."})
    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    assert request.outcome == Outcome.FULFILLED
    assert "The request is completed (Fulfilled) and the person is told." in _messages(response)
    response = _act(client, request, "reopen", {"reason": "The person found a missing account"})
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.outcome == ""
    assert "The request is open again and the person is told." in _messages(response)


def test_a_partly_fulfilled_completion_records_each_part_not_done(client, dpo):
    request = in_progress_request()
    client.force_login(dpo)
    response = _act(
        client,
        request,
        "complete",
        {
            "outcome": Outcome.PARTLY_FULFILLED,
            "summary": "Most of it is attached.",
            "part1_done": "Sent the account data",
            "part1_not_done": "Did not send the fraud notes",
            "part1_why": "Disclosure would prejudice the prevention of crime",
            "part1_ground": RefusalGround.EXEMPTION,
            "part1_reference": "DPA 2018 Sch. 2 para 2(1)(a)",
        },
    )
    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    assert request.decision_statement["parts"][0]["not_done"] == "Did not send the fraud notes"
    assert "The request is completed (Partly fulfilled) and the person is told." in _messages(response)


def test_a_partly_fulfilled_completion_without_parts_is_refused_and_keeps_what_was_typed(client, dpo):
    request = in_progress_request()
    client.force_login(dpo)
    response = _act(client, request, "complete", {"outcome": Outcome.PARTLY_FULFILLED, "summary": "Most of it."})
    assert response.status_code == 200
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert "Say, for each part not done, what we did, what we did not do, and why." in _messages(response)
    assert "Most of it.</textarea>" in response.content.decode()


def test_extending_an_objection_to_direct_marketing_shows_the_law_and_changes_nothing(client, dpo):
    request = in_progress_objection()
    before = (request.status, request.due_on, request.extension_months, request.events.count())
    client.force_login(dpo)
    page = client.get(reverse("casework:request_detail", args=[request.reference]))
    assert "extend" not in _offered(page) and "fee_request" not in _offered(page)
    response = _act(client, request, "extend", {"months": "2", "basis": [ExtensionBasis.COMPLEXITY], "reasons": "Busy"})
    assert response.status_code == 200
    assert any("An objection to direct marketing is absolute" in text for text in _messages(response))
    request.refresh_from_db()
    assert (request.status, request.due_on, request.extension_months, request.events.count()) == before
    assert "Busy</textarea>" in response.content.decode()


def test_an_action_raced_by_the_requester_withdrawing_shows_a_message_not_an_error(client, dpo):
    request = in_progress_request()
    client.force_login(dpo)
    client.get(reverse("casework:request_detail", args=[request.reference]))
    services.request_withdraw(request=request, reason="Changed my mind")
    response = _act(client, request, "complete", {"outcome": Outcome.FULFILLED, "summary": "Here it is."})
    assert response.status_code == 200
    assert any(
        text.startswith("This request changed while you were working on it: it is now 'Withdrawn'")
        for text in _messages(response)
    )
    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN
    assert request.outcome == ""


def test_an_auditor_cannot_act_and_sees_no_actions(client, auditor):
    request = in_progress_request()
    client.force_login(auditor)
    assert client.get(reverse("casework:request_detail", args=[request.reference])).context["actions"] == []
    response = client.post(
        reverse("casework:action_complete", args=[request.reference]), {"complete-outcome": Outcome.FULFILLED}
    )
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS


def test_a_case_handler_acts_on_their_own_case_but_not_a_colleagues(client, dpo, handler, other_handler):
    mine, theirs = in_progress_request(email="m@example.com"), in_progress_request(email="t@example.com")
    casework_services.request_assign(request=mine, assignee=handler, actor=dpo)
    casework_services.request_assign(request=theirs, assignee=other_handler, actor=dpo)
    client.force_login(handler)
    _act(client, mine, "complete", {"outcome": Outcome.NO_DATA_HELD})
    response = client.post(
        reverse("casework:action_complete", args=[theirs.reference]), {"complete-outcome": Outcome.NO_DATA_HELD}
    )
    assert response.status_code == 404
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == (Status.COMPLETED, Status.IN_PROGRESS)


def test_a_resume_dated_before_the_question_is_refused_with_the_dates_kept(client, dpo):
    request = in_progress_request()
    services.request_clarification_ask(request=request, actor=dpo, question="Which?", stops_clock=True, condition="X")
    client.force_login(dpo)
    early = (timezone.localdate() - timedelta(days=3)).isoformat()
    response = _act(client, request, "resume", {"on": early, "reason": "No reply"})
    assert "The clock cannot resume before the day the question was sent." in _messages(response)
    assert f'value="{early}"' in response.content.decode()
    request.refresh_from_db()
    assert request.status == Status.AWAITING_CLARIFICATION


def test_parts_not_done_typed_under_a_full_completion_are_not_dropped_unseen(client, dpo):
    request = in_progress_request()
    client.force_login(dpo)
    response = _act(
        client, request, "complete", {"outcome": Outcome.FULFILLED, "part1_not_done": "Did not send the notes"}
    )
    assert "Only a partly fulfilled request lists parts not done." in _messages(response)
    assert 'value="Did not send the notes"' in response.content.decode()
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
