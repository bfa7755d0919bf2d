"""Filing a request through the public forms, as a person in a browser would (Django test client)."""

import html as html_lib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from requests_app import documents
from requests_app.models import DataSubjectRequest, DocumentPurpose, EventKind, RequestDocument, Status
from tests.factories import png_bytes, png_upload

pytestmark = pytest.mark.django_db(transaction=True)

ABOUT_ME = {
    "requester_role": "data_subject",
    "name": "Grace Hopper",
    "email": "grace@example.com",
    "customer_number": "C-2002",
    "description": "I was a customer between 2019 and 2022.",
}

VALID = {
    "access": {
        "access_scope": "subset",
        "access_subset": "My orders and calls with customer service",
        "date_from": "2024-01-01",
        "date_to": "2024-12-31",
        "access_format": "report_and_files",
    },
    "rectification": {
        "rectification_wrong": "My surname is spelt Hoper",
        "rectification_correct": "Hopper, with two p's",
        "supplementary_statement": "",
    },
    "erasure": {
        "erasure_grounds": ["consent_withdrawn", "no_longer_necessary"],
        "erasure_scope": "specific",
        "erasure_specific": "My marketing profile",
    },
    "restriction": {"restriction_ground": "accuracy_contested", "restriction_data": "My postal address"},
    "objection": {
        "objection_type": "legitimate_interests",
        "objection_processing": "Profiling for targeted adverts",
        "objection_grounds": "I work in a sensitive job and do not want a profile kept.",
    },
    "portability": {
        "portability_format": "csv",
        "transmit_to_controller": "on",
        "recipient_name": "Other Bank plc",
        "recipient_contact": "dpo@otherbank.example",
    },
}

# What is stored is what was typed, except the checkbox, which the form turns into a boolean.
EXPECTED_DETAILS = {
    **VALID,
    # The report as a PDF too: unticked, stored as no.
    "access": {**VALID["access"], "access_report_pdf": False},
    "rectification": {**VALID["rectification"], "rectification_restrict": False, "rectification_recipients": False},
    # Several cases of Art. 18(1) may apply, so the answer is stored as a list.
    "restriction": {
        **VALID["restriction"],
        "restriction_ground": ["accuracy_contested"],
        "restriction_recipients": False,
    },
    "erasure": {**VALID["erasure"], "erasure_recipients": False},
    "portability": {**VALID["portability"], "transmit_to_controller": True},
}


def _url(right: str) -> str:
    return reverse("requests_app:request_create", args=[right])


def _post(client, right: str, data: dict, **extra):
    return client.post(_url(right), {**ABOUT_ME, **data}, **extra)


def _summary(page: str) -> str:
    found = re.search(r'<div class="error-summary".*?</div>', page, re.DOTALL)
    assert found, "no error summary on the page"
    return found.group(0)


def _assert_error(response, field_id: str, message: str) -> None:
    """The summary at the top names the problem and links to the field, which exists on the page."""
    page = response.content.decode()
    summary = html_lib.unescape(_summary(page))
    link = re.search(rf'<a href="#{re.escape(field_id)}">([^<]*)</a>', summary)
    assert link, f"no link to #{field_id} in the error summary:\n{summary}"
    assert message in link.group(1)
    assert f'id="{field_id}"' in page, f"the summary links to #{field_id}, which is not on the page"


def _assert_kept(response, *typed: str) -> None:
    page = html_lib.unescape(response.content.decode())
    for value in typed:
        assert value in page, f"{value!r} typed by the person was lost"


def _checked(response, name: str, value: str) -> bool:
    page = response.content.decode()
    for tag in re.findall(r"<input[^>]*>", page):
        if f'name="{name}"' in tag and f'value="{value}"' in tag:
            return "checked" in tag
    raise AssertionError(f"no input {name}={value}")


# --- One valid request for each right --------------------------------------------------------------------


@pytest.mark.parametrize("right", list(VALID))
def test_a_valid_request_is_filed_with_its_details_and_opens_the_status_page(client, right, mailoutbox):
    response = _post(client, right, VALID[right])

    request = DataSubjectRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("requests_app:status_detail", args=[request.reference])
    assert request.right == right
    assert request.status == Status.AWAITING_EMAIL_CONFIRMATION
    assert request.requester_name == "Grace Hopper"
    assert request.requester_email == "grace@example.com"
    assert request.identifiers == {"customer_number": "C-2002"}
    assert request.description == "I was a customer between 2019 and 2022."
    assert request.details == EXPECTED_DETAILS[right]
    assert request.events.filter(kind=EventKind.SUBMITTED).count() == 1
    assert len(mailoutbox) == 1

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert request.reference in page.content.decode()


@pytest.mark.parametrize("right", list(VALID))
def test_the_address_of_the_status_page_holds_only_the_reference(client, right):
    """No name, e-mail or detail ever goes into a URL (they end up in logs and browser history)."""
    response = _post(client, right, VALID[right])

    location = response["Location"]
    reference = DataSubjectRequest.objects.get().reference
    assert re.fullmatch(rf"/status/{reference}/", location)
    for private in ("grace", "Hopper", "example.com", "C-2002"):
        assert private.lower() not in location.lower()


def test_an_unknown_right_is_not_found(client):
    assert client.get(_url("forget-me-not")).status_code == 404


@pytest.mark.parametrize("right", list(VALID))
def test_each_form_page_loads(client, right):
    response = client.get(_url(right))
    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()


# --- Invalid submissions: 400, a summary linking to each problem, and nothing typed is lost ------------------


def test_missing_name_and_email_are_explained_and_the_rest_is_kept(client):
    response = _post(client, "access", {**VALID["access"], "name": "", "email": "not-an-address"})

    assert response.status_code == 400
    assert not DataSubjectRequest.objects.exists()
    _assert_error(response, "id_name", "This field is required.")
    _assert_error(response, "id_email", "Enter a valid email address.")
    _assert_kept(
        response,
        'value="not-an-address"',
        'value="C-2002"',
        "I was a customer between 2019 and 2022.",
        "My orders and calls with customer service",
        'value="2024-01-01"',
        'value="2024-12-31"',
    )
    assert _checked(response, "access_format", "report_and_files")
    assert _checked(response, "access_scope", "subset")
    assert "<title>Error:" in response.content.decode()


def test_access_to_some_data_needs_a_description(client):
    response = _post(client, "access", {**VALID["access"], "access_subset": ""})

    assert response.status_code == 400
    assert not DataSubjectRequest.objects.exists()
    _assert_error(response, "id_access_subset", "Describe the data you would like.")
    _assert_kept(response, 'value="Grace Hopper"', 'value="grace@example.com"', 'value="2024-01-01"')


def test_access_to_all_data_needs_no_description(client):
    response = _post(client, "access", {**VALID["access"], "access_scope": "all", "access_subset": ""})
    assert response.status_code == 302


def test_access_date_range_must_end_on_or_after_its_start(client):
    response = _post(client, "access", {**VALID["access"], "date_from": "2024-06-01", "date_to": "2024-05-31"})

    assert response.status_code == 400
    assert not DataSubjectRequest.objects.exists()
    _assert_error(response, "id_date_to", "The end date must be on or after the start date.")
    _assert_kept(response, 'value="2024-06-01"', 'value="2024-05-31"')


def test_access_date_range_of_a_single_day_is_fine(client):
    response = _post(client, "access", {**VALID["access"], "date_from": "2024-06-01", "date_to": "2024-06-01"})
    assert response.status_code == 302


def test_access_start_date_cannot_be_in_the_future(client):
    response = _post(client, "access", {**VALID["access"], "date_from": "2999-01-01", "date_to": ""})

    assert response.status_code == 400
    _assert_error(response, "id_date_from", "The start date cannot be in the future.")


def test_erasure_needs_at_least_one_ground(client):
    data = {**VALID["erasure"]}
    del data["erasure_grounds"]
    response = _post(client, "erasure", data)

    assert response.status_code == 400
    assert not DataSubjectRequest.objects.exists()
    _assert_error(response, "id_erasure_grounds_0", "This field is required.")
    _assert_kept(response, "My marketing profile")
    assert _checked(response, "erasure_scope", "specific")


def test_erasure_of_specific_data_needs_to_say_which(client):
    response = _post(client, "erasure", {**VALID["erasure"], "erasure_specific": ""})

    assert response.status_code == 400
    _assert_error(response, "id_erasure_specific", "Describe the data you want erased.")
    assert _checked(response, "erasure_grounds", "consent_withdrawn")
    assert _checked(response, "erasure_grounds", "no_longer_necessary")
    assert not _checked(response, "erasure_grounds", "unlawful")


def test_erasure_of_all_data_needs_no_list(client):
    response = _post(client, "erasure", {**VALID["erasure"], "erasure_scope": "all", "erasure_specific": ""})
    assert response.status_code == 302


def test_restriction_needs_a_ground(client):
    response = _post(client, "restriction", {"restriction_data": "My postal address"})

    assert response.status_code == 400
    assert not DataSubjectRequest.objects.exists()
    _assert_error(response, "id_restriction_ground_0", "This field is required.")
    _assert_kept(response, "My postal address")


def test_an_objection_on_legitimate_interests_needs_the_processing_and_the_reasons(client):
    response = _post(
        client,
        "objection",
        {"objection_type": "legitimate_interests", "objection_processing": "", "objection_grounds": ""},
    )

    assert response.status_code == 400
    assert not DataSubjectRequest.objects.exists()
    _assert_error(response, "id_objection_processing", "Tell us which use of your data you object to.")
    _assert_error(response, "id_objection_grounds", "Give your reasons for objecting.")
    assert _checked(response, "objection_type", "legitimate_interests")


def test_an_objection_to_direct_marketing_needs_no_reasons(client):
    """GDPR Art. 21(2)-(3): the right to object to direct marketing is absolute."""
    response = _post(
        client, "objection", {"objection_type": "direct_marketing", "objection_processing": "", "objection_grounds": ""}
    )

    assert response.status_code == 302
    request = DataSubjectRequest.objects.get()
    assert request.details["objection_type"] == "direct_marketing"


def test_an_objection_needs_its_type(client):
    response = _post(client, "objection", {"objection_processing": "Adverts"})
    assert response.status_code == 400
    _assert_error(response, "id_objection_type_0", "This field is required.")


@pytest.mark.parametrize(
    ("missing", "field_id", "message"),
    [
        ("recipient_name", "id_recipient_name", "Enter the name of the organisation to send it to."),
        ("recipient_contact", "id_recipient_contact", "Tell us how to reach that organisation."),
    ],
)
def test_sending_data_directly_to_another_organisation_needs_its_name_and_contact(client, missing, field_id, message):
    response = _post(client, "portability", {**VALID["portability"], missing: ""})

    assert response.status_code == 400
    assert not DataSubjectRequest.objects.exists()
    _assert_error(response, field_id, message)
    kept = {"recipient_name": "Other Bank plc", "recipient_contact": "dpo@otherbank.example"}
    kept.pop(missing)
    _assert_kept(response, *kept.values())
    assert _checked(response, "portability_format", "csv")
    assert 'name="transmit_to_controller"' in response.content.decode()
    assert re.search(r'<input[^>]*name="transmit_to_controller"[^>]*checked', response.content.decode())


def test_portability_to_myself_needs_no_recipient(client):
    response = _post(client, "portability", {"portability_format": "json"})
    assert response.status_code == 302
    assert DataSubjectRequest.objects.get().details["transmit_to_controller"] is False


def test_acting_for_someone_else_is_routed_to_an_agent_account(client):
    """Agents receive someone else's data, so they file from an account with a second factor."""
    response = _post(client, "restriction", {**VALID["restriction"], "requester_role": "agent"})

    assert response.status_code == 400
    assert not DataSubjectRequest.objects.exists()
    _assert_error(response, "id_requester_role_0", "Requests for someone else are made from an agent account")
    assert _checked(response, "requester_role", "agent")
    page = response.content.decode()
    assert '<details class="mb-3" open>' in page  # the agent section is shown open
    assert f'href="{reverse("agents:sign_up")}"' in page
    _assert_kept(response, ABOUT_ME["name"])


def test_a_request_about_sensitive_data_is_marked_so(client):
    response = _post(client, "access", {**VALID["access"], "special_category_data": "on"})
    assert response.status_code == 302
    assert DataSubjectRequest.objects.get().details["special_category_data"] is True


# --- The supporting document for a correction --------------------------------------------------------------


def test_a_real_png_is_accepted_and_stored_encrypted(client, settings):
    upload = png_upload("bank-letter.png")
    response = _post(client, "rectification", {**VALID["rectification"], "supporting_document": upload})

    assert response.status_code == 302
    request = DataSubjectRequest.objects.get()
    document = RequestDocument.objects.get(request=request)
    assert document.purpose == DocumentPurpose.SUPPORTING
    assert document.content_type == "image/png"
    assert document.original_name == "bank-letter.png"
    on_disk = (settings.PRIVATE_UPLOAD_DIR / "documents" / document.storage_key).read_bytes()
    assert b"\x89PNG" not in on_disk
    assert b"IHDR" not in on_disk
    assert documents.document_read(document) == png_bytes()
    assert request.events.filter(kind=EventKind.DOCUMENT_UPLOADED).count() == 1
    assert "supporting_document" not in request.details


def test_a_text_file_renamed_to_pdf_is_refused_with_a_clear_message(client, settings):
    fake = SimpleUploadedFile("statement.pdf", b"Just some text, not a PDF at all.\n", content_type="application/pdf")
    response = _post(client, "rectification", {**VALID["rectification"], "supporting_document": fake})

    assert response.status_code == 400
    assert not DataSubjectRequest.objects.exists()
    assert not RequestDocument.objects.exists()
    _assert_error(response, "id_supporting_document", "We can only accept a PDF, JPEG or PNG file.")
    _assert_kept(response, "My surname is spelt Hoper", "Hopper, with two p's")
    assert "Please choose your file again." in response.content.decode()
    upload_dir = settings.PRIVATE_UPLOAD_DIR
    assert not upload_dir.exists() or not any(upload_dir.iterdir())


# --- Flood control ----------------------------------------------------------------------------------------


LIMITED = "We have received a lot of requests from you in a short time."


def test_the_eleventh_request_from_one_client_within_the_hour_is_refused(client, mailoutbox):
    for n in range(10):
        response = _post(client, "restriction", {**VALID["restriction"], "email": f"person{n}@example.com"})
        assert response.status_code == 302, n

    response = _post(client, "restriction", {**VALID["restriction"], "email": "person10@example.com"})

    assert response.status_code == 429
    assert LIMITED in html_lib.unescape(response.content.decode())
    assert DataSubjectRequest.objects.count() == 10
    assert len(mailoutbox) == 10
    _assert_kept(response, 'value="person10@example.com"', "My postal address")


def test_correcting_mistakes_never_counts_towards_the_limit(client, settings):
    settings.DSAR_RATE_LIMITS = {**settings.DSAR_RATE_LIMITS, "submit_per_client": (2, 3600)}
    for _ in range(5):
        assert _post(client, "restriction", {**VALID["restriction"], "email": "not-an-address"}).status_code == 400
    assert _post(client, "restriction", VALID["restriction"]).status_code == 302


def test_a_lower_client_limit_applies_per_client(client, settings):
    settings.DSAR_RATE_LIMITS = {**settings.DSAR_RATE_LIMITS, "submit_per_client": (2, 3600)}
    for n in range(2):
        assert _post(client, "restriction", {**VALID["restriction"], "email": f"p{n}@example.com"}).status_code == 302

    refused = _post(client, "restriction", {**VALID["restriction"], "email": "p2@example.com"})
    other_client = _post(
        client, "restriction", {**VALID["restriction"], "email": "p3@example.com"}, REMOTE_ADDR="203.0.113.9"
    )

    assert refused.status_code == 429
    assert LIMITED in html_lib.unescape(refused.content.decode())
    assert other_client.status_code == 302
    assert DataSubjectRequest.objects.count() == 3


def test_requests_for_one_email_address_are_limited_across_clients(client, settings):
    settings.DSAR_RATE_LIMITS = {**settings.DSAR_RATE_LIMITS, "submit_per_email": (2, 86400)}
    for n in range(2):
        response = _post(client, "restriction", VALID["restriction"], REMOTE_ADDR=f"203.0.113.{n + 1}")
        assert response.status_code == 302

    # The same address, typed differently, from yet another client.
    refused = _post(
        client, "restriction", {**VALID["restriction"], "email": "GRACE@Example.com"}, REMOTE_ADDR="203.0.113.50"
    )
    other_address = _post(
        client, "restriction", {**VALID["restriction"], "email": "ada@example.com"}, REMOTE_ADDR="203.0.113.51"
    )

    assert refused.status_code == 429
    assert LIMITED in html_lib.unescape(refused.content.decode())
    assert other_address.status_code == 302
    assert DataSubjectRequest.objects.count() == 3


def test_only_a_form_with_a_file_field_is_sent_as_multipart(client):
    rectification = client.get(reverse("requests_app:request_create", args=["rectification"])).content.decode()
    access = client.get(reverse("requests_app:request_create", args=["access"])).content.decode()
    assert 'enctype="multipart/form-data"' in rectification
    assert 'enctype="multipart/form-data"' not in access
