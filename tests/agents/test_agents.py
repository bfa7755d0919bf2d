"""Authorised agents: accounts with two-step sign-in, filing for someone, and the subject's own say."""

import html
import io
import re

import pyotp
import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from agents import services as agent_services
from agents.models import Agent
from dsar_portal.crypto import email_lookup_hash
from identity import services as identity_services
from identity.models import SubjectConfirmation
from requests_app.models import DataSubjectRequest, DocumentPurpose, EventKind, RefusalGround, Status
from tests.factories import StaffUserFactory

# Real commits: codes and links arrive by e-mail sent after commit.
pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"


def _code(mail) -> str:
    return re.search(r"^\s+(\d{6})\s*$", mail.body, re.M).group(1)


def _link(mail, settings) -> str:
    return re.search(r"https?://\S+", mail.body).group(0).replace(settings.DSAR_PUBLIC_URL, "")


def _png(name="authority.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _sign_up(client, mailoutbox, email="sol@lawfirm.example") -> Agent:
    response = client.post(
        reverse("agents:sign_up"),
        {
            "full_name": "Sam Solicitor",
            "email": email,
            "organisation_name": "Law & Co",
            "role": "Solicitor",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    client.post(reverse("agents:confirm_email"), {"code": _code(mailoutbox[-1])})
    return Agent.objects.get(user__username=email_lookup_hash(email))


def _sign_in(client, mailoutbox, email="sol@lawfirm.example") -> None:
    response = client.post(reverse("agents:sign_in"), {"email": email, "password": PASSWORD})
    assert response["Location"] == reverse("agents:second_factor")
    response = client.post(reverse("agents:second_factor"), {"code": _code(mailoutbox[-1])})
    assert response["Location"] == reverse("agents:dashboard")


def _agent_client(client, mailoutbox, email="sol@lawfirm.example") -> Agent:
    agent = _sign_up(client, mailoutbox, email)
    _sign_in(client, mailoutbox, email)
    return agent


def _file(client, right="access", **extra):
    data = {
        "subject_name": "Pat Client",
        # The subject's identifiers: the organisation holds Pat's address (tests/agents/conftest.py).
        "customer_number": "C-2002",
        "agent_relationship": "solicitor",
        "authority_type": "letter_of_authority",
        "authority_document": _png(),
        "access_scope": "all",
        "access_format": "report",
        **extra,
    }
    return client.post(reverse("agents:request_create", args=[right]), data)


def _reviewer():
    user = StaffUserFactory(first_name="Jane", last_name="Smith")
    for codename in ("view_staff_area", "act_on_request", "decide_verification", "view_evidence"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return type(user).objects.get(pk=user.pk)


# --- Accounts ------------------------------------------------------------------------------------


def test_an_agent_signs_up_confirms_the_address_and_signs_in_with_a_second_factor(client, mailoutbox):
    agent = _sign_up(client, mailoutbox)
    assert agent.email_confirmed_at is not None

    client.post(reverse("agents:sign_in"), {"email": "sol@lawfirm.example", "password": PASSWORD})
    # Password alone is not enough.
    assert client.get(reverse("agents:dashboard"))["Location"] == reverse("agents:sign_in")

    wrong = client.post(reverse("agents:second_factor"), {"code": "000000"})
    assert wrong.status_code == 400
    client.post(reverse("agents:second_factor"), {"code": _code(mailoutbox[-1])})
    assert client.get(reverse("agents:dashboard")).status_code == 200


def test_signing_up_with_an_address_that_has_an_account_reveals_nothing(client, mailoutbox):
    _sign_up(client, mailoutbox)
    client.logout()
    response = client.post(
        reverse("agents:sign_up"),
        {"full_name": "Someone Else", "email": "SOL@lawfirm.example", "role": "x", "password": PASSWORD},
    )
    assert response["Location"] == reverse("agents:confirm_email")
    assert Agent.objects.count() == 1
    assert "already has one" in mailoutbox[-1].body


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(client, mailoutbox):
    _sign_up(client, mailoutbox)
    wrong_password = client.post(reverse("agents:sign_in"), {"email": "sol@lawfirm.example", "password": "nope"})
    unknown = client.post(reverse("agents:sign_in"), {"email": "nobody@example.com", "password": PASSWORD})
    assert wrong_password.status_code == unknown.status_code == 400
    message = "The e-mail address or password is not right"
    assert message in wrong_password.content.decode() and message in unknown.content.decode()


def test_an_agent_can_switch_to_an_authenticator_app_and_a_code_works_once(client, mailoutbox):
    agent = _agent_client(client, mailoutbox)
    client.post(reverse("agents:reauthenticate"), {"password": PASSWORD})
    client.get(reverse("agents:security"))
    secret = client.session["agent_new_totp_secret"]
    client.post(reverse("agents:security"), {"code": pyotp.TOTP(secret).now()})
    agent.refresh_from_db()
    assert agent.uses_authenticator

    client.post(reverse("agents:sign_out"))
    sent_before = len(mailoutbox)
    client.post(reverse("agents:sign_in"), {"email": "sol@lawfirm.example", "password": PASSWORD})
    assert len(mailoutbox) == sent_before  # no e-mailed code when the app is used
    # The code used to turn the app on cannot be replayed; wait for the next one.
    agent.totp_last_step = None
    agent.save()
    code = pyotp.TOTP(secret).now()
    assert client.post(reverse("agents:second_factor"), {"code": code})["Location"] == reverse("agents:dashboard")
    client.post(reverse("agents:sign_out"))
    client.post(reverse("agents:sign_in"), {"email": "sol@lawfirm.example", "password": PASSWORD})
    assert client.post(reverse("agents:second_factor"), {"code": code}).status_code == 400


# --- Filing and the subject's answer ---------------------------------------------------------------


def test_an_agent_files_for_a_subject_who_is_asked_to_confirm(client, mailoutbox, settings):
    agent = _agent_client(client, mailoutbox)
    response = _file(client)
    assert response["Location"] == reverse("agents:dashboard")

    request = DataSubjectRequest.objects.get()
    assert request.agent_filing.agent == agent
    assert request.status == Status.AWAITING_IDENTITY_VERIFICATION
    assert request.documents.get().purpose == DocumentPurpose.AUTHORITY
    assert request.details["agent"]["subject_name"] == "Pat Client"
    to_subject = [m for m in mailoutbox if m.to == ["pat@example.com"]]
    assert len(to_subject) == 1 and "Law & Co" in to_subject[0].body

    # The subject confirms; staff then verify the authority.
    subject_page = _link(to_subject[0], settings)
    assert "Is someone acting for you?" in client.get(subject_page).content.decode()
    client.post(subject_page, {"answer": "confirm"})
    assert SubjectConfirmation.objects.get().answer == "confirmed"
    assert request.events.filter(kind=EventKind.SUBJECT_CONFIRMED_AGENT).exists()

    identity_services.verification_decide(
        request=request, actor=_reviewer(), outcome="verified", document_kind="letter of authority"
    )
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    # By default the response goes to the data subject.
    assert request.identity_verification.response_to_agent is False


def test_a_subject_who_denies_the_agent_stops_the_request(client, mailoutbox, settings):
    _agent_client(client, mailoutbox)
    _file(client)
    request = DataSubjectRequest.objects.get()
    subject_page = _link([m for m in mailoutbox if m.to == ["pat@example.com"]][0], settings)

    client.post(subject_page, {"answer": "deny"})
    request.refresh_from_db()
    assert request.status == Status.REFUSED
    assert request.refusal_ground == RefusalGround.SUBJECT_DENIED_AGENT
    assert request.events.filter(kind=EventKind.SUBJECT_DENIED_AGENT).exists()
    assert "do not act for them" in mailoutbox[-1].body
    assert mailoutbox[-1].to == ["sol@lawfirm.example"]
    # A second answer changes nothing.
    client.post(subject_page, {"answer": "confirm"})
    assert SubjectConfirmation.objects.get().answer == "denied"


def test_staff_cannot_verify_while_the_subject_has_not_answered(client, mailoutbox):
    _agent_client(client, mailoutbox)
    _file(client)
    request = DataSubjectRequest.objects.get()
    with pytest.raises(identity_services.VerificationError):
        identity_services.verification_decide(
            request=request, actor=_reviewer(), outcome="verified", document_kind="letter of authority"
        )


def test_staff_may_record_that_the_authority_covers_delivery_to_the_agent(client, mailoutbox):
    _agent_client(client, mailoutbox)
    _file(client, customer_number="")
    request = DataSubjectRequest.objects.get()
    assert not SubjectConfirmation.objects.exists()
    identity_services.verification_decide(
        request=request,
        actor=_reviewer(),
        outcome="verified",
        document_kind="power of attorney",
        response_to_agent=True,
    )
    request.refresh_from_db()
    assert request.identity_verification.response_to_agent is True


def test_a_parent_asking_for_a_child_flags_the_case_for_the_childs_maturity(client, mailoutbox):
    _agent_client(client, mailoutbox)
    _file(
        client,
        agent_relationship="parent",
        authority_type="parental_responsibility",
        child_age="13",
        child_in_scotland="yes",
    )
    request = DataSubjectRequest.objects.get()
    assert request.identity_verification.child_maturity_review is True
    client.force_login(_reviewer())
    page = client.get(reverse("casework:request_detail", args=[request.reference])).content.decode()
    assert "record your decision on the child" in page
    assert "presumed competent (DPA 2018 s.208)" in page


def test_staff_see_the_authority_the_agent_stated_and_what_to_check_for_it(client, mailoutbox):
    _agent_client(client, mailoutbox)
    _file(client)
    request = DataSubjectRequest.objects.get()
    client.force_login(_reviewer())
    page = client.get(reverse("casework:request_detail", args=[request.reference])).content.decode()
    assert "solicitor" in page and "letter_of_authority" in page
    assert 'id="authority-checklist"' in page and "Signed by the data subject" in page
    assert "consider the child&#x27;s maturity" not in page and "consider the child's maturity" not in page


def test_filing_without_proof_of_authority_is_refused_with_a_clear_error(client, mailoutbox):
    _agent_client(client, mailoutbox)
    response = _file(client, authority_document="")
    assert response.status_code == 400
    assert "Proof of your authority" in response.content.decode()
    assert 'value="Pat Client"' in response.content.decode()
    assert not DataSubjectRequest.objects.exists()


# --- Each agent sees only their own cases ------------------------------------------------------------


def test_an_agent_cannot_open_another_agents_request(client, mailoutbox, django_user_model):
    _agent_client(client, mailoutbox)
    _file(client)
    theirs = DataSubjectRequest.objects.get()
    client.post(reverse("agents:sign_out"))

    _agent_client(client, mailoutbox, email="other@rights.example")
    dashboard = client.get(reverse("agents:dashboard")).content.decode()
    assert theirs.reference not in dashboard
    assert client.get(reverse("agents:request_open", args=[theirs.reference])).status_code == 404
    assert client.get(reverse("requests_app:status_detail", args=[theirs.reference])).status_code == 404


def test_an_agent_follows_their_request_on_its_status_page(client, mailoutbox):
    _agent_client(client, mailoutbox)
    _file(client)
    request = DataSubjectRequest.objects.get()
    response = client.get(reverse("agents:request_open", args=[request.reference]))
    assert response["Location"] == reverse("requests_app:status_detail", args=[request.reference])
    assert request.reference in client.get(response["Location"]).content.decode()


def test_agent_codes_are_sent_once_even_if_the_task_runs_twice(client, mailoutbox):
    agent = _sign_up(client, mailoutbox)
    code = agent.codes.first()
    before = len(mailoutbox)
    assert agent_services.agent_code_deliver(code_id=code.pk) is False
    assert len(mailoutbox) == before


def test_staff_see_the_checklist_for_the_agents_type_of_authority(client, mailoutbox):
    _agent_client(client, mailoutbox)
    _file(client, authority_type="power_of_attorney")
    request = DataSubjectRequest.objects.get()
    client.force_login(_reviewer())
    page = client.get(reverse("casework:request_detail", args=[request.reference])).content.decode()
    assert "registered with the Office of the Public Guardian" in page
    assert "Sealed order of a court" not in page


def test_a_signed_in_agent_cannot_reach_the_evidence_or_the_staff_pages(client, mailoutbox):
    _agent_client(client, mailoutbox)
    _file(client)
    request = DataSubjectRequest.objects.get()
    document = request.documents.get()
    evidence_url = reverse(
        "casework:evidence_document", args=[request.reference, document.storage_key.removesuffix(".bin")]
    )
    case_url = reverse("casework:request_detail", args=[request.reference])
    # Even the agent who sent the document cannot read it back through the staff view.
    assert client.get(evidence_url).status_code == 403
    assert client.get(case_url).status_code == 403
    assert not request.events.filter(kind=EventKind.DOCUMENT_VIEWED).exists()


def test_signing_out_removes_this_browsers_access_to_the_agents_status_pages(client, mailoutbox):
    _agent_client(client, mailoutbox)
    _file(client)
    request = DataSubjectRequest.objects.get()
    status_url = client.get(reverse("agents:request_open", args=[request.reference]))["Location"]
    assert client.get(status_url).status_code == 200

    client.post(reverse("agents:sign_out"))
    assert client.get(status_url).status_code == 404


def test_the_agents_filing_page_explains_the_right_as_the_public_form_does(client, mailoutbox):
    """An agent filing a portability request reads the same explanation of its scope (Art. 20(1)) as a person on the
    public form; a right without one shows none."""
    from requests_app.forms import PortabilityForm

    _agent_client(client, mailoutbox)
    explanation = str(PortabilityForm.explanation)
    public = html.unescape(client.get(reverse("requests_app:request_create", args=["portability"])).content.decode())
    assert explanation in public

    page = html.unescape(client.get(reverse("agents:request_create", args=["portability"])).content.decode())

    assert f'<p id="right-explanation">{explanation}</p>' in page
    access = client.get(reverse("agents:request_create", args=["access"])).content.decode()
    assert 'id="right-explanation"' not in access
