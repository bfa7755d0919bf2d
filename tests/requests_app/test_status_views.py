"""The account-free status page: who can open it, and what the person can do and see there."""

import html as html_lib
import re
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import dateformat, timezone

from identity.models import IdentityVerification, VerificationStatus
from organisation.selectors import organisation_get
from requests_app import services
from requests_app.models import (
    DataSubjectRequest,
    DocumentPurpose,
    ExtensionBasis,
    Message,
    RequestDocument,
    Status,
    StatusLink,
)
from tests.factories import (
    StaffUserFactory,
    code_in,
    confirmed_request,
    in_progress_extendable,
    in_progress_objection,
    png_upload,
    status_link_path_in,
    submitted_request,
)

pytestmark = pytest.mark.django_db(transaction=True)

COMPLEX = [ExtensionBasis.COMPLEXITY]

ABOUT_ME = {
    "requester_role": "data_subject",
    "name": "Grace Hopper",
    "email": "grace@example.com",
}
ACCESS = {"access_scope": "all", "access_format": "report"}
MARKETING = {"objection_type": "direct_marketing"}


@pytest.fixture(autouse=True)
def _documents_at_once(settings):
    """These tests are about documents: an address we do not know is asked for one at once (no detail attempts)."""
    settings.DSAR_MAX_DETAIL_ATTEMPTS = 0


def _file(client, right: str = "access", **data) -> tuple[DataSubjectRequest, str]:
    """File a request in ``client``'s browser; return it and its status page URL."""
    response = client.post(reverse("requests_app:request_create", args=[right]), {**ABOUT_ME, **data})
    assert response.status_code == 302
    return DataSubjectRequest.objects.get(pk=DataSubjectRequest.objects.latest("pk").pk), response["Location"]


def _url(request: DataSubjectRequest, name: str = "status_detail") -> str:
    # The steps identity asks of the person are identity's pages on the same status page.
    app = "identity" if name in {"status_confirm_email", "status_upload", "status_more_details"} else "requests_app"
    return reverse(f"{app}:{name}", args=[request.reference])


def _emails_for(request: DataSubjectRequest) -> list:
    return [m for m in mail.outbox if request.reference in m.subject]


def _open_from_email(client, request: DataSubjectRequest):
    """Open the status page the way the person does: from the link in our latest e-mail."""
    response = client.get(status_link_path_in(_emails_for(request)[-1]))
    assert response.status_code == 302
    return client.get(response["Location"])


def _text(response) -> str:
    return html_lib.unescape(response.content.decode())


def _day(value: date) -> str:
    return dateformat.format(value, "j F Y")


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


# --- Who can open the page --------------------------------------------------------------------------------


def test_the_browser_that_filed_the_request_sees_its_status_page(client):
    request, status_url = _file(client, **ACCESS)

    response = client.get(status_url)

    assert response.status_code == 200
    page = _text(response)
    assert request.reference in page
    assert "Waiting for you to confirm your e-mail address" in page


def test_another_browser_with_only_the_reference_gets_not_found(client):
    request, status_url = _file(client, **ACCESS)
    stranger = Client()

    assert stranger.get(status_url).status_code == 404
    assert stranger.get(_url(request, "status_withdraw")).status_code == 404
    assert stranger.post(_url(request, "status_confirm_email"), {"code": "123456"}).status_code == 404
    assert stranger.post(_url(request, "status_reply"), {"answer": "hi"}).status_code == 404
    assert stranger.post(_url(request, "status_upload"), {"document": png_upload()}).status_code == 404
    assert stranger.post(_url(request, "status_withdraw"), {"reason": ""}).status_code == 404
    request.refresh_from_db()
    assert request.status == Status.AWAITING_EMAIL_CONFIRMATION
    assert not RequestDocument.objects.exists()


def test_a_known_and_an_unknown_reference_look_the_same_to_a_stranger(client):
    request, status_url = _file(client, **ACCESS)
    stranger = Client()

    known = stranger.get(status_url)
    unknown = stranger.get("/status/DSAR-0000-0000-0000-0000/")

    assert known.status_code == unknown.status_code == 404
    assert known.content == unknown.content


def test_the_link_in_our_email_opens_the_page_in_any_browser_and_the_token_leaves_the_address_bar(client):
    request, _status_url = _file(client, **ACCESS)
    phone = Client()
    link = status_link_path_in(_emails_for(request)[-1])

    exchanged = phone.get(link)

    assert exchanged.status_code == 302
    assert exchanged["Location"] == _url(request)  # only the reference from now on
    assert phone.get(exchanged["Location"]).status_code == 200


@pytest.mark.parametrize("token", ["not-a-real-token", "x" * 43])
def test_a_bad_link_says_it_does_not_work(client, token):
    response = client.get(reverse("requests_app:status_link", args=[token]))

    assert response.status_code == 404
    assert "This link does not work" in _text(response)
    assert reverse("requests_app:status_lost_link") in response.content.decode()


def test_an_expired_link_says_it_does_not_work_and_grants_nothing(client):
    request, _status_url = _file(Client(), **ACCESS)
    link = status_link_path_in(_emails_for(request)[-1])
    StatusLink.objects.filter(request=request).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get(link)

    assert response.status_code == 404
    assert "This link does not work" in _text(response)
    assert client.get(_url(request)).status_code == 404


# --- Confirming the e-mail address --------------------------------------------------------------------------


def test_a_wrong_code_shows_an_error_and_400(client):
    request, status_url = _file(client, **ACCESS)
    code = code_in(_emails_for(request)[-1])

    response = client.post(_url(request, "status_confirm_email"), {"code": _wrong(code)})

    assert response.status_code == 400
    page = _text(response)
    assert "That code is not right. Check the e-mail and try again." in page
    assert 'href="#id_code"' in page
    request.refresh_from_db()
    assert request.status == Status.AWAITING_EMAIL_CONFIRMATION


def test_a_code_that_is_not_six_digits_is_explained(client):
    request, _status_url = _file(client, **ACCESS)

    response = client.post(_url(request, "status_confirm_email"), {"code": "12ab"})

    assert response.status_code == 400
    assert "Enter the 6 digits from the e-mail." in _text(response)


def test_the_right_code_confirms_and_the_page_says_what_happens_next(client):
    request, status_url = _file(client, **ACCESS)
    code = code_in(_emails_for(request)[-1])

    response = client.post(_url(request, "status_confirm_email"), {"code": code}, follow=True)

    assert response.status_code == 200
    page = _text(response)
    assert "Thank you. Your e-mail address is confirmed." in page
    assert "Checking your identity" in page
    request.refresh_from_db()
    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION


# --- Withdrawing ---------------------------------------------------------------------------------------------


def test_the_requester_can_withdraw_from_the_status_page(client):
    request, status_url = _file(client, "objection", **MARKETING)
    assert reverse("requests_app:status_withdraw", args=[request.reference]) in client.get(status_url).content.decode()

    form = client.get(_url(request, "status_withdraw"))
    assert form.status_code == 200
    assert request.reference in _text(form)

    response = client.post(_url(request, "status_withdraw"), {"reason": "I sorted it out by phone."}, follow=True)

    assert response.status_code == 200
    page = _text(response)
    assert "Your request has been withdrawn." in page
    assert "You withdrew this request." in page
    assert _url(request, "status_withdraw") not in response.content.decode()  # no withdraw link any more
    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN
    assert [m.subject.split(" (")[0] for m in _emails_for(request)][-1] == "Your request has been withdrawn"

    # Coming back to the withdraw page afterwards just shows the status.
    again = client.get(_url(request, "status_withdraw"))
    assert again.status_code == 302 and again["Location"] == status_url


# --- Clarification ---------------------------------------------------------------------------------------------


def test_the_clarification_question_can_be_answered_and_the_clock_resumes_on_the_page(client):
    request = confirmed_request()
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        status=Status.IN_PROGRESS, clock_paused_on=None, clock_pause_reason=""
    )
    request.refresh_from_db()
    asked_on = timezone.localdate() - timedelta(days=5)
    services.request_clarification_ask(
        request=request,
        actor=StaffUserFactory(),
        question="Which newsletter do you get?",
        asked_on=asked_on,
        stops_clock=True,
        condition="Ten years of marketing history held.",
    )
    request.refresh_from_db()
    due_before = request.due_on

    paused = _open_from_email(client, request)
    page = _text(paused)
    assert "Waiting for your reply" in page
    assert "Which newsletter do you get?" in page  # the question, in the messages
    notice = re.search(r'<div class="alert alert-info" id="pause-notice">(.*?)</div>', page, re.DOTALL)
    assert notice, "no pause notice while the clock is paused"
    assert "The time limit is paused." in notice.group(1)
    assert "We asked you to clarify your request" in notice.group(1)
    assert f"since {_day(asked_on)}" in notice.group(1)
    assert f'id="due-date">{_day(due_before)}' in page

    empty = client.post(_url(request, "status_reply"), {"answer": ""})
    assert empty.status_code == 400
    assert 'href="#id_answer"' in empty.content.decode()

    response = client.post(_url(request, "status_reply"), {"answer": "The weekly offers, please."}, follow=True)

    assert response.status_code == 200
    page = _text(response)
    assert "Thank you. We have your reply and will carry on with your request." in page
    assert 'id="pause-notice"' not in page
    assert "In progress" in page
    assert "The weekly offers, please." in page  # the reply is in the messages
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.paused_days == 6  # asked 5 days ago, answered today: both days excluded (UK Art. 12A)
    assert request.due_on > due_before  # moved later by the paused days (then to a working day)
    assert request.due_date_changes.latest("pk").previous_due_on == due_before
    assert f'id="due-date">{_day(request.due_on)}' in page


def test_a_question_that_does_not_stop_the_clock_says_the_time_limit_keeps_running(client):
    """For an objection (or an access request without the statutory condition) the clock runs while we wait for an
    answer (UK GDPR Art. 12A, EDPB 01/2022 §5.3: only access clarification stops it), so the page must not say it is
    paused, and gives the date we still answer by."""
    request = in_progress_extendable()
    services.request_clarification_ask(request=request, actor=StaffUserFactory(), question="Which processing?")
    request.refresh_from_db()
    assert request.status == Status.AWAITING_CLARIFICATION and not request.is_clock_paused

    page = _text(_open_from_email(client, request))

    sentence = re.search(r'<p id="clarification-clock">(.*?)</p>', page, re.DOTALL).group(1)
    assert "paused" not in sentence
    assert "The time limit keeps running while we wait" in sentence
    assert f"at the latest by {_day(request.due_on)}" in sentence
    assert 'id="pause-notice"' not in page


def test_a_question_that_stops_the_clock_says_it_is_paused_until_we_hear(client):
    """An access question with the statutory condition recorded stops the clock, and the page says so."""
    request = confirmed_request()
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        status=Status.IN_PROGRESS, clock_paused_on=None, clock_pause_reason=""
    )
    request.refresh_from_db()
    services.request_clarification_ask(
        request=request,
        actor=StaffUserFactory(),
        question="Which years?",
        stops_clock=True,
        condition="Twenty years of records held.",
    )

    page = _text(_open_from_email(client, request))

    sentence = re.search(r'<p id="clarification-clock">(.*?)</p>', page, re.DOTALL).group(1)
    assert "The time limit is paused until we hear from you." in sentence
    assert "keeps running" not in sentence


def test_a_reply_with_a_document_is_kept(client):
    request = in_progress_extendable()
    services.request_clarification_ask(request=request, actor=StaffUserFactory(), question="Send the letter?")
    _open_from_email(client, request)

    response = client.post(_url(request, "status_reply"), {"answer": "Attached.", "document": png_upload("letter.png")})

    assert response.status_code == 302
    assert RequestDocument.objects.get(request=request).purpose == DocumentPurpose.CLARIFICATION


def test_a_reply_when_nothing_was_asked_is_refused_with_a_reason(client):
    request = in_progress_objection()
    _open_from_email(client, request)

    response = client.post(_url(request, "status_reply"), {"answer": "Unprompted."})

    assert response.status_code == 400
    assert "This request is not waiting for a reply." in _text(response)
    assert not Message.objects.filter(request=request, direction=Message.Direction.FROM_REQUESTER).exists()


# --- Documents for identity ----------------------------------------------------------------------------------------


def test_a_document_can_be_sent_while_we_check_identity(client):
    request, status_url = _file(client, **ACCESS)  # an address we do not know: we ask for a document
    client.post(_url(request, "status_confirm_email"), {"code": code_in(_emails_for(request)[-1])})
    request.refresh_from_db()
    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION
    assert 'action="' + _url(request, "status_upload") in client.get(status_url).content.decode()

    response = client.post(_url(request, "status_upload"), {"document": png_upload("passport.png")}, follow=True)

    assert response.status_code == 200
    page = _text(response)
    assert "Thank you. We have your document and will review it." in page
    assert "Proof of identity" in page  # listed under "Documents you sent"
    document = RequestDocument.objects.get(request=request)
    assert document.purpose == DocumentPurpose.IDENTITY_EVIDENCE
    assert IdentityVerification.objects.get(request=request).status == VerificationStatus.EVIDENCE_RECEIVED


def test_an_unreadable_identity_document_is_refused_with_a_clear_message(client):
    request, _status_url = _file(client, **ACCESS)
    client.post(_url(request, "status_confirm_email"), {"code": code_in(_emails_for(request)[-1])})
    fake = SimpleUploadedFile("passport.jpg", b"not an image", content_type="image/jpeg")

    response = client.post(_url(request, "status_upload"), {"document": fake})

    assert response.status_code == 400
    assert "We can only accept a PDF, JPEG or PNG file." in _text(response)
    assert not RequestDocument.objects.exists()


def test_a_document_is_refused_when_we_have_not_asked_for_one(client):
    request = in_progress_objection()
    _open_from_email(client, request)

    response = client.post(_url(request, "status_upload"), {"document": png_upload()})

    assert response.status_code == 400
    assert "We have not asked for a document on this request." in _text(response)
    assert not RequestDocument.objects.exists()


# --- Lost link ------------------------------------------------------------------------------------------------------


def test_the_lost_link_form_answers_the_same_whether_or_not_anything_matches(client):
    request = in_progress_objection(email="grace@example.com")
    mail.outbox.clear()
    url = reverse("requests_app:status_lost_link")

    matching = Client().post(url, {"reference": request.reference, "email": "grace@example.com"}, follow=True)
    sent_after_match = len(mail.outbox)
    wrong_email = Client().post(url, {"reference": request.reference, "email": "mallory@example.com"}, follow=True)
    wrong_reference = Client().post(
        url, {"reference": "DSAR-0000-0000-0000-0000", "email": "grace@example.com"}, follow=True
    )

    assert sent_after_match == 1
    assert len(mail.outbox) == 1  # nothing for the two that did not match
    for response in (matching, wrong_email, wrong_reference):
        assert response.status_code == 200
        assert response.redirect_chain == [(reverse("requests_app:status_lost_link_sent"), 302)]
    assert matching.content == wrong_email.content == wrong_reference.content
    assert "If the reference and e-mail address match a request, we have sent a link" in _text(matching)


def test_the_new_link_works_and_a_reference_typed_loosely_still_matches(client):
    request = in_progress_objection(email="grace@example.com")
    mail.outbox.clear()
    loose = request.reference.lower().replace("-", " ")

    client.post(reverse("requests_app:status_lost_link"), {"reference": loose, "email": " Grace@Example.com "})

    [email] = mail.outbox
    assert email.to == ["grace@example.com"]
    assert email.subject.startswith("Your link to follow your request")
    page = _open_from_email(Client(), request)
    assert page.status_code == 200
    assert request.reference in _text(page)


def test_the_lost_link_form_explains_missing_fields(client):
    response = client.post(reverse("requests_app:status_lost_link"), {"reference": "", "email": "nope"})
    assert response.status_code == 400
    page = _text(response)
    assert 'href="#id_reference"' in page and 'href="#id_email"' in page
    assert mail.outbox == []


# --- What the page shows ---------------------------------------------------------------------------------------


def test_the_page_shows_the_messages_we_sent(client):
    request = in_progress_extendable()
    services.request_extend(
        request=request,
        actor=StaffUserFactory(),
        months=1,
        basis=COMPLEX,
        reasons="We hold your data in three systems.",
    )

    page = _text(_open_from_email(client, request))

    messages = re.search(r'<ol class="timeline" id="messages">(.*?)</ol>', page, re.DOTALL).group(1)
    for subject in (
        "Confirm your e-mail address",
        "We have received your request",
        "We need more time",
    ):
        assert f"{subject} ({request.reference})" in messages
    assert "We hold your data in three systems." in messages


def test_the_page_shows_the_legal_due_date_and_any_extension(client):
    request = in_progress_extendable(received_on=date(2026, 3, 2))
    _open_from_email(client, request)

    page = _text(client.get(_url(request)))
    assert 'id="due-date">2 April 2026' in page  # Mon 2 Mar 2026 + 1 month = Thu 2 Apr

    services.request_extend(
        request=request, actor=StaffUserFactory(), months=1, basis=COMPLEX, reasons="Complex.", on=date(2026, 3, 10)
    )
    page = _text(client.get(_url(request)))
    assert 'id="due-date">5 May 2026 (extended by 1 month)' in page  # 2 May is a Saturday, 4 May a bank holiday


def test_no_due_date_is_shown_before_the_email_is_confirmed(client):
    _request, status_url = _file(client, **ACCESS)
    assert 'id="due-date"' not in client.get(status_url).content.decode()


def test_while_we_wait_for_identity_in_the_uk_the_page_says_the_clock_restarts(client):
    request = confirmed_request()
    page = _text(_open_from_email(client, request))

    notice = re.search(r'id="pause-notice">(.*?)</div>', page, re.DOTALL).group(1)
    assert "The time limit is paused." in notice
    assert "We asked you for proof of identity" in notice
    assert "The one-month time limit starts again from the day we receive what we need from you." in notice


def test_while_we_wait_for_identity_in_the_eu_the_page_says_the_date_moves(client):
    organisation = organisation_get()
    organisation.jurisdiction = "IE"
    organisation.save()
    request = confirmed_request()
    page = _text(_open_from_email(client, request))

    notice = re.search(r'id="pause-notice">(.*?)</div>', page, re.DOTALL).group(1)
    assert "We asked you for proof of identity" in notice
    assert "The date above moves later by the days the time limit is paused." in notice


def test_no_pause_notice_once_the_request_has_ended(client):
    request = confirmed_request()
    services.request_refuse(
        request=request, actor=StaffUserFactory(), ground="identity_not_verified", reasons="No document came."
    )

    page = _text(_open_from_email(client, request))

    assert 'id="pause-notice"' not in page
    assert "Refused" in page
    assert "Information Commissioner's Office" in page
    assert "judicial remedy" in page


def test_a_forged_access_cookie_opens_nothing(client):
    """The browser's list of requests it may open is signed: writing a reference into it by hand fails."""
    from requests_app.status_access import COOKIE

    request = submitted_request()
    client.cookies[COOKIE] = request.reference
    assert client.get(reverse("requests_app:status_detail", args=[request.reference])).status_code == 404
    client.cookies[COOKIE] = f"{request.reference}:forgedsignature"
    assert client.get(reverse("requests_app:status_detail", args=[request.reference])).status_code == 404
