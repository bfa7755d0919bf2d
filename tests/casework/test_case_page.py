"""The case page (issue 11): internal notes, messages to the requester from the DPO's templates in their language,
every document in the one timeline, and the identity check as a panel scoped to the case, with step-up for
evidence and a trail row for every view."""

import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation

from casework import selectors, services
from casework.models import CaseNote, MessageTemplate, MessageTemplateTranslation
from dsar_portal.staff_auth import FACTOR_GIVEN_AT_SESSION_KEY
from identity.models import VerificationStatus
from requests_app import services as request_services
from requests_app.models import DataSubjectRequest, DocumentPurpose, EventKind, Message, MessageKind, Status
from tests.casework.test_received_another_way import _log
from tests.factories import (
    confirmed_request,
    document_asked_request,
    give_second_factor,
    in_progress_request,
    png_upload,
    status_link_path_in,
    submitted_request,
)

pytestmark = pytest.mark.django_db


def _act(client, request, name: str, data: dict, **kwargs):
    prefixed = {f"{name}-{key}": value for key, value in data.items()}
    return client.post(reverse(f"casework:action_{name}", args=[request.reference]), prefixed, **kwargs)


def _page(client, request, **query):
    return client.get(reverse("casework:request_detail", args=[request.reference]), query)


# --- Internal notes ----------------------------------------------------------------------------------------


def test_a_note_is_kept_encrypted_in_the_case_file_shown_in_the_timeline_and_never_sent(client, handler, mailoutbox):
    request = in_progress_request(name="Grace Hopper")
    messages_before, mails_before = request.messages.count(), len(mailoutbox)
    client.force_login(handler)

    response = _act(client, request, "note", {"text": "Rang her back; she means the 2019 account."}, follow=True)

    assert "The note is added to the case file." in response.content.decode()
    note = CaseNote.objects.get(request=request)
    assert note.author == handler and note.text == "Rang her back; she means the 2019 account."
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT text FROM {CaseNote._meta.db_table} WHERE id = %s", [note.pk])
        assert "2019 account" not in cursor.fetchone()[0]
    # The trail says a note was added and by whom, never what it says.
    event = request.events.get(kind=EventKind.NOTE_ADDED)
    assert event.actor == handler and event.reason == ""
    # Nothing went to the person.
    assert request.messages.count() == messages_before and len(mailoutbox) == mails_before
    html = _page(client, request).content.decode()
    assert "Internal note" in html and "she means the 2019 account" in html
    assert [entry.kind for entry in selectors.case_timeline(request)].count("note") == 1


def test_an_empty_note_is_refused_with_what_to_fix(client, handler):
    request = in_progress_request()
    client.force_login(handler)
    response = _act(client, request, "note", {"text": "  "})
    assert response.status_code == 200
    assert response.context["actions"][0].errors
    assert not CaseNote.objects.exists()


def test_an_auditor_sees_that_a_note_was_written_but_not_what_it_says(client, handler, auditor):
    request = in_progress_request()
    services.note_add(request=request, actor=handler, text="Private thoughts about the requester")
    client.force_login(auditor)
    html = _page(client, request).content.decode()
    assert "Internal note" in html
    assert "Private thoughts" not in html
    with pytest.raises(PermissionError):
        services.note_add(request=request, actor=auditor, text="An auditor's note")


# --- Messages from templates -------------------------------------------------------------------------------


def test_default_templates_are_there_for_the_dpo_to_edit():
    names = set(MessageTemplate.objects.values_list("name", flat=True))
    assert {"Acknowledgement", "Asking for a call-back", "Update on progress"} <= names
    assert all(template.translations.filter(language="en").exists() for template in MessageTemplate.objects.all())


def test_the_language_the_person_used_is_recorded_at_intake(client):
    with translation.override("fr"):
        request = submitted_request(email="francoise@example.com")
    assert request.language == "fr"
    response = client.post(
        reverse("requests_app:request_create", args=["access"]),
        {
            "requester_role": "data_subject",
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "access_scope": "all",
            "access_format": "report",
        },
    )
    assert response.status_code == 302
    assert DataSubjectRequest.objects.get(requester_name__isnull=False, pk__gt=request.pk).language == "en"


def test_a_request_logged_by_staff_is_in_the_portals_language_not_the_staff_members(handler, settings):
    with translation.override("fr"):
        request = _log(handler)
    assert request.language == settings.LANGUAGE_CODE


def _template_with_french():
    template = MessageTemplate.objects.get(name="Asking for a call-back")
    MessageTemplateTranslation.objects.create(
        template=template,
        language="fr",
        subject="Pouvons-nous vous appeler ?",
        body="Bonjour {name},\n\nPourriez-vous nous rappeler au sujet de {reference} ?",
    )
    return template


def test_the_template_is_picked_in_the_persons_language_and_falls_back_to_the_default():
    template = _template_with_french()
    assert selectors.template_text_for(template, "fr").subject == "Pouvons-nous vous appeler ?"
    assert selectors.template_text_for(template, "fr-ca").language == "fr"
    assert selectors.template_text_for(template, "de").language == "en"
    assert selectors.template_text_for(template, "").language == "en"


def test_picking_a_template_prefills_the_message_in_the_persons_language(client, handler):
    template = _template_with_french()
    request = in_progress_request(name="Françoise Sagan")
    DataSubjectRequest.objects.filter(pk=request.pk).update(language="fr")
    client.force_login(handler)

    response = _page(client, request, template=template.pk)

    form = next(form for form in response.context["actions"] if form.name == "message")
    assert form.prefilled and form.language == "fr"
    assert form.initial["subject"] == "Pouvons-nous vous appeler ?"
    assert (
        form.initial["body"]
        == f"Bonjour Françoise Sagan,\n\nPourriez-vous nous rappeler au sujet de {request.reference} ?"
    )
    html = response.content.decode()
    assert "Pourriez-vous nous rappeler" in html and 'id="action-message" open' in html


def test_a_message_goes_through_the_correspondence_to_the_requester_and_into_the_timeline(
    client, handler, mailoutbox, django_capture_on_commit_callbacks
):
    request = in_progress_request(email="grace@example.com")
    template = MessageTemplate.objects.get(name="Update on progress")
    client.force_login(handler)
    with django_capture_on_commit_callbacks(execute=True):
        response = _act(
            client,
            request,
            "message",
            {"template": template.pk, "subject": "An update on your request", "body": "We found your 2019 file."},
            follow=True,
        )
    assert "The message is sent to the requester and is on their status page." in response.content.decode()
    message = request.messages.get(kind=MessageKind.STAFF_MESSAGE)
    assert message.subject == f"An update on your request ({request.reference})"
    assert message.body.startswith("We found your 2019 file.")
    assert mailoutbox[-1].to == ["grace@example.com"]
    assert "We found your 2019 file." in mailoutbox[-1].body
    assert "/status/" in mailoutbox[-1].body  # the usual link to follow the request
    written = request.events.get(kind=EventKind.MESSAGE_WRITTEN)
    assert written.actor == handler and "Update on progress" in written.reason
    assert request.events.filter(kind=EventKind.MESSAGE_SENT).exists()
    timeline = selectors.case_timeline(request)
    assert any(entry.kind == "message" and entry.item == message for entry in timeline)
    # The person reads it on their status page, through the link the e-mail brought.
    requester = Client()
    status_page = requester.get(status_link_path_in(mailoutbox[-1]), follow=True).content.decode()
    assert "We found your 2019 file." in status_page and "An update on your request" in status_page


def test_a_postal_requester_gets_the_message_as_a_letter_to_post(client, handler, mailoutbox):
    request = _log(handler)
    client.force_login(handler)
    before = len(mailoutbox)
    response = _act(
        client, request, "message", {"subject": "Please call us", "body": "Call 0800 000 000."}, follow=True
    )
    assert "The message is ready to post" in response.content.decode()
    letter = request.messages.get(kind=MessageKind.STAFF_MESSAGE)
    assert letter.by_post and letter.posted_on is None
    assert len(mailoutbox) == before
    assert letter in response.context["letters_to_post"]
    assert "[your private link" not in letter.body


def test_a_template_left_with_a_gap_to_fill_is_not_sent(client, handler):
    request = in_progress_request()
    client.force_login(handler)
    response = _act(
        client,
        request,
        "message",
        {"subject": "An update", "body": "[Say what has been done and what is left.]"},
    )
    assert response.status_code == 200
    form = next(form for form in response.context["actions"] if form.name == "message")
    assert "body" in form.errors
    assert 'value="An update"' in response.content.decode()  # what was typed is kept
    assert not request.messages.filter(kind=MessageKind.STAFF_MESSAGE).exists()


def test_no_message_to_an_address_the_person_has_not_confirmed(handler):
    request = submitted_request(email="unconfirmed@example.com")
    from casework.actions import MessageForm

    assert not MessageForm.fits(request)
    with pytest.raises(request_services.RequestError, match="not confirmed"):
        services.requester_message_send(request=request, actor=handler, subject="Hello", body="Hello")
    assert not request.messages.filter(kind=MessageKind.STAFF_MESSAGE).exists()


# --- The DPO's template pages ------------------------------------------------------------------------------


def test_the_dpo_writes_a_template_and_a_clash_of_names_keeps_what_was_typed(client, dpo):
    client.force_login(dpo)
    response = client.post(
        reverse("casework:message_template_new"),
        {"name": "Fee reminder", "subject_en": "About the fee", "body_en": "Dear {name}, the fee is still due."},
    )
    assert response.status_code == 302
    template = MessageTemplate.objects.get(name="Fee reminder")
    assert template.translations.get(language="en").subject == "About the fee"
    assert "Fee reminder" in client.get(reverse("casework:message_templates")).content.decode()

    clash = client.post(
        reverse("casework:message_template_new"),
        {"name": "Fee reminder", "subject_en": "Another", "body_en": "Another text"},
    )
    assert clash.status_code == 400
    assert "Another template has this name." in clash.content.decode()
    assert "Another text" in clash.content.decode()

    edited = client.post(
        reverse("casework:message_template_edit", args=[template.pk]),
        {"name": "Fee reminder", "subject_en": "About your fee", "body_en": "The fee is due."},
    )
    assert edited.status_code == 302
    assert template.translations.get(language="en").subject == "About your fee"


def test_the_default_language_text_is_required(client, dpo):
    client.force_login(dpo)
    response = client.post(reverse("casework:message_template_new"), {"name": "Empty", "subject_en": "Only a subject"})
    assert response.status_code == 400
    assert not MessageTemplate.objects.filter(name="Empty").exists()


def test_only_the_dpo_may_save_a_template(handler):
    with pytest.raises(PermissionError):
        services.message_template_save(template=None, name="Mine", texts={"en": ("S", "B")}, actor=handler)


# --- Documents in the timeline -----------------------------------------------------------------------------


def test_every_document_is_in_the_timeline_by_name_kind_and_time_never_its_content(client, handler, auditor):
    request = _log(handler, scan=png_upload("letter-from-grace.png"))
    client.force_login(handler)
    html = _page(client, request).content.decode()
    assert "Document received:" in html and "Supporting document" in html and "letter-from-grace.png" in html
    document = request.documents.get()
    # A link to the guarded view (permission, step-up, a trail row), never the file itself.
    assert reverse("casework:evidence_document", args=[request.reference, document.storage_key[:-4]]) in html

    client.force_login(auditor)
    html = _page(client, request).content.decode()
    assert "Document received:" in html and "Supporting document" in html
    assert "letter-from-grace.png" not in html  # the file's name may be personal data
    assert "/evidence/" not in html  # auditors never see evidence


# --- The identity panel --------------------------------------------------------------------------------------


def _evidence(request):
    from identity import services as identity_services

    return identity_services.request_evidence_upload(
        request=request, document=png_upload(), purpose=DocumentPurpose.IDENTITY_EVIDENCE
    )


def test_a_handler_decides_identity_from_the_case_page(client, handler):
    request = document_asked_request(email="stranger@example.com")
    _evidence(request)
    client.force_login(handler)
    html = _page(client, request).content.decode()
    assert reverse("casework:verification_decide", args=[request.reference]) in html
    assert 'value="verified"' in html

    response = client.post(
        reverse("casework:verification_decide", args=[request.reference]),
        {"outcome": "verified", "document_kind": "passport"},
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "casework:request_detail", args=[request.reference]
    )
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    assert request.identity_verification.status == VerificationStatus.VERIFIED


def test_a_decision_with_something_missing_is_shown_again_on_the_case_page(client, handler):
    request = document_asked_request(email="stranger@example.com")
    _evidence(request)
    client.force_login(handler)
    response = client.post(
        reverse("casework:verification_decide", args=[request.reference]),
        {"outcome": "more_needed", "message": ""},
    )
    assert response.status_code == 400
    assert response.context["verification_form"].errors
    request.refresh_from_db()
    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION


def test_evidence_asks_for_a_factor_again_and_every_view_is_in_the_trail_auditors_read(
    client, handler, auditor, settings
):
    request = document_asked_request(email="stranger@example.com")
    document = _evidence(request)
    url = reverse("casework:evidence_document", args=[request.reference, document.storage_key.removesuffix(".bin")])
    client.force_login(handler)
    assert url in _page(client, request).content.decode()

    # No factor given recently: step up first, nothing shown, nothing recorded.
    session = client.session
    session[FACTOR_GIVEN_AT_SESSION_KEY] = time.time() - settings.ACCOUNT_REAUTHENTICATION_TIMEOUT - 1
    session.save()
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert not request.events.filter(kind=EventKind.DOCUMENT_VIEWED).exists()

    give_second_factor(client)
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200 and response["Cache-Control"] == "no-store"
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert request.events.filter(kind=EventKind.DOCUMENT_VIEWED, actor=handler).count() == 2

    client.force_login(auditor)
    give_second_factor(client)
    html = _page(client, request).content.decode()
    assert "Document viewed" in html  # the evidence-views log ...
    assert url not in html
    assert client.get(url).status_code == 403  # ... never the evidence


def test_the_queue_finds_evidence_to_review(client, handler):
    waiting = document_asked_request(email="stranger@example.com")
    _evidence(waiting)
    other = confirmed_request(email="other@example.com")
    client.force_login(handler)
    html = client.get(reverse("casework:queue"), {"evidence_to_review": "on"}).content.decode()
    assert waiting.reference in html and other.reference not in html


# --- Cost ------------------------------------------------------------------------------------------------------


def test_the_case_page_costs_the_same_however_many_notes_documents_and_messages(
    client, handler, django_assert_max_num_queries
):
    request = document_asked_request(email="stranger@example.com")
    client.force_login(handler)
    path = reverse("casework:request_detail", args=[request.reference])

    def _grow():
        for n in range(4):
            services.note_add(request=request, actor=handler, text=f"note {n}")
            _evidence(request)
            Message.objects.create(
                request=request, direction="from_requester", kind="requester_reply", subject="s", body="b"
            )

    _grow()
    client.get(path)
    with django_assert_max_num_queries(30) as few:
        assert client.get(path).status_code == 200
    _grow()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(path).status_code == 200


def test_a_decision_raced_by_a_colleague_gives_a_message_not_an_error_page(client, handler, dpo):
    from identity import services as identity_services

    request = document_asked_request(email="stranger@example.com")
    _evidence(request)
    client.force_login(handler)
    _page(client, request)  # the handler opens the panel ...
    identity_services.verification_decide(request=request, actor=dpo, outcome="verified", document_kind="passport")
    response = client.post(  # ... and decides after the DPO did
        reverse("casework:verification_decide", args=[request.reference]),
        {"outcome": "more_needed", "message": "A clearer copy, please."},
    )
    assert response.status_code == 400
    shown = [str(message) for message in response.context["messages"]]
    assert "Check the identity decision: it was not recorded." in shown
    assert response.context["verification_form"].non_field_errors()
    request.refresh_from_db()
    assert request.identity_verification.status == VerificationStatus.VERIFIED


def test_the_due_date_in_a_template_is_written_in_the_messages_language(client, handler):
    template = MessageTemplate.objects.get(name="Acknowledgement")
    MessageTemplateTranslation.objects.create(
        template=template, language="fr", subject="Votre demande", body="Réponse au plus tard le {due_date}."
    )
    request = in_progress_request()
    DataSubjectRequest.objects.filter(pk=request.pk).update(language="fr")
    request.refresh_from_db()
    client.force_login(handler)
    form = next(f for f in _page(client, request, template=template.pk).context["actions"] if f.name == "message")
    with translation.override("fr"):
        expected = formats.date_format(request.due_on, "j F Y")
    assert form.initial["body"] == f"Réponse au plus tard le {expected}."
    assert expected.split()[1] not in {
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    }
