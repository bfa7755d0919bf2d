"""Test data, built through the services so every request has a real history.

Requests come from the service functions (``submitted_request`` and friends); the rows that hang off a request
(documents, messages, identity checks, an agent's filing) have factories below, for tests that need one in a given
state without walking the whole flow to it.
"""

from datetime import datetime, time

import factory
import pyotp
from allauth.mfa.utils import is_mfa_enabled
from django.contrib.auth import get_user_model
from django.utils import timezone

from agents.models import Agent, AgentFiling, AuthorityType
from dsar_portal.crypto import email_lookup_hash
from dsar_portal.onetime import new_link_token, secret_hash
from dsar_portal.staff_auth import FACTOR_GIVEN_AT_SESSION_KEY, totp_authenticator_add
from identity import services as identity_services
from identity.models import (
    AssuranceLevel,
    EvidenceCheck,
    IdentityVerification,
    SubjectConfirmation,
    VerificationStatus,
    VerificationStep,
)
from requests_app import documents, services
from requests_app.confirmation import email_code_issue
from requests_app.models import (
    DataSubjectRequest,
    DocumentPurpose,
    Message,
    MessageKind,
    RequestDocument,
    RequesterRole,
    Right,
)
from requests_app.scope import AccessScope, AgentAuthority, ObjectionScope, ObjectionType

AGENT_PASSWORD = "correct horse battery staple"


class StaffUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"handler{n}")
    first_name = "Jo"
    last_name = "Smith"
    is_staff = True

    @factory.post_generation
    def second_factor(obj, create, extracted, **kwargs):
        """Every staff account has a second factor (dsar_portal.staff_auth); second_factor=False leaves it out."""
        if create and extracted is not False and not is_mfa_enabled(obj):
            totp_authenticator_add(user=obj, secret=pyotp.random_base32())


def assignment_make(request, assignee, *, assigned_by=None):
    """An assignment as casework.services.request_assign leaves it, without its audit event: the Assignment row and
    the request's own copy of its assignee."""
    from casework.models import Assignment

    DataSubjectRequest.objects.filter(pk=request.pk).update(assignee=assignee)
    return Assignment.objects.create(
        request=request, assignee=assignee, assigned_by=assigned_by, assigned_at=timezone.now()
    )


def give_second_factor(client) -> None:
    """A signed-in test client whose user has just given a second factor (as at sign-in), so step-up passes."""
    session = client.session
    session[FACTOR_GIVEN_AT_SESSION_KEY] = timezone.now().timestamp()
    session.save()


def submission(**overrides) -> services.Submission:
    values = {
        "right": Right.ACCESS,
        "requester_role": RequesterRole.DATA_SUBJECT,
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "identifiers": {"customer_number": "C-1001"},
        "details": AccessScope().as_details(),
        "description": "",
    }
    values.update(overrides)
    return services.Submission(**values)


def at(day, hour: int = 12) -> datetime:
    """An aware datetime on ``day`` in the organisation's time zone."""
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def submitted_request(*, received_on=None, received_at=None, **overrides) -> DataSubjectRequest:
    if received_on is not None:
        received_at = at(received_on)
    return services.request_submit(submission=submission(**overrides), received_at=received_at)


def confirmed_request(**kwargs) -> DataSubjectRequest:
    """A request whose e-mail is confirmed: awaiting identity (or in progress, by policy)."""
    request = submitted_request(**kwargs)
    code = email_code_issue(request=request)
    identity_services.request_confirm_email(request=request, code=code)
    request.refresh_from_db()
    return request


def document_asked_request(**kwargs) -> DataSubjectRequest:
    """A request from an address our records do not hold, whose other identifiers did not match either: we ask
    for a document, with that reason recorded (LAW.md I1)."""
    request = confirmed_request(**kwargs)
    verification = request.identity_verification
    while verification.step == "more_details":
        identity_services.verification_add_details(request=request, identifiers={"customer_number": "NO-SUCH-1"})
        verification.refresh_from_db()
    request.refresh_from_db()
    return request


def in_progress_request(*, actor=None, verified_on=None, **kwargs) -> DataSubjectRequest:
    request = confirmed_request(**kwargs)
    services.request_identity_verified(
        request=request, actor=actor or StaffUserFactory(), evidence_received_on=verified_on
    )
    request.refresh_from_db()
    return request


# --- Helpers for the requests_app tests ----------------------------------------------------


def superuser():
    """A staff user who may see everything in the admin."""
    return StaffUserFactory(is_superuser=True)


def marketing_objection(**overrides) -> services.Submission:
    """An objection to direct marketing: a confirmed e-mail is all the identity it needs."""
    overrides.setdefault("right", Right.OBJECTION)
    overrides.setdefault("details", ObjectionScope(type=ObjectionType.DIRECT_MARKETING).as_details())
    return submission(**overrides)


def in_progress_objection(*, received_on=None, **overrides) -> DataSubjectRequest:
    """A request that is in progress as soon as the e-mail is confirmed, with no identity pause."""
    overrides.setdefault("right", Right.OBJECTION)
    overrides.setdefault("details", ObjectionScope(type=ObjectionType.DIRECT_MARKETING).as_details())
    return confirmed_request(received_on=received_on, **overrides)


def agent_request(**overrides) -> DataSubjectRequest:
    """An access request an agent filed for Pat Client, on a letter of authority."""
    overrides.setdefault("requester_role", RequesterRole.AGENT)
    overrides.setdefault("name", "Sam Solicitor")
    overrides.setdefault("email", "sol@lawfirm.example")
    overrides.setdefault(
        "details",
        {
            **AccessScope().as_details(),
            **AgentAuthority(
                subject_name="Pat Client", relationship="solicitor", authority_type=AuthorityType.LETTER_OF_AUTHORITY
            ).as_details(),
        },
    )
    return submitted_request(**overrides)


# --- Factories for the rows around a request ----------------------------------------------------


class AgentUserFactory(factory.django.DjangoModelFactory):
    """An agent's login: the username is the address's keyed look-up hash and ``email`` stays empty, as
    ``agent_sign_up`` makes it."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: email_lookup_hash(f"agent{n}@lawfirm.example"))
    email = ""
    password = factory.django.Password(AGENT_PASSWORD)


class AgentFactory(factory.django.DjangoModelFactory):
    """An agent whose address is confirmed, who signs in with ``AGENT_PASSWORD`` and codes by e-mail."""

    class Meta:
        model = Agent

    email = factory.Sequence(lambda n: f"agent{n}@lawfirm.example")
    user = factory.SubFactory(
        AgentUserFactory, username=factory.LazyAttribute(lambda o: email_lookup_hash(o.factory_parent.email))
    )
    full_name = "Sam Solicitor"
    organisation_name = "Law & Co"
    role = "Solicitor"
    email_confirmed_at = factory.LazyFunction(timezone.now)


class AgentFilingFactory(factory.django.DjangoModelFactory):
    """A request on an agent's dashboard, filed in the agent's name and address."""

    class Meta:
        model = AgentFiling

    agent = factory.SubFactory(AgentFactory)
    request = factory.LazyAttribute(lambda o: agent_request(name=o.agent.full_name, email=o.agent.email))


class IdentityVerificationFactory(factory.django.DjangoModelFactory):
    """A request waiting for a document for staff to check (the request itself still awaits its e-mail)."""

    class Meta:
        model = IdentityVerification

    request = factory.LazyFunction(submitted_request)
    required_level = AssuranceLevel.EVIDENCE
    status = VerificationStatus.PENDING
    step = VerificationStep.DOCUMENT


class SubjectConfirmationFactory(factory.django.DjangoModelFactory):
    """The question to the data subject about an agent; pass ``token`` to know the link's secret."""

    class Meta:
        model = SubjectConfirmation

    class Params:
        token = factory.LazyFunction(new_link_token)

    request = factory.LazyFunction(agent_request)
    subject_email = "pat@example.com"
    agent_name = "Sam Solicitor of Law & Co"
    token_hash = factory.LazyAttribute(lambda o: secret_hash(o.token, purpose=identity_services.SUBJECT_LINK_PURPOSE))


class RequestDocumentFactory(factory.django.DjangoModelFactory):
    """A real, small PNG stored the way uploads are (validated, encrypted, its file on disk)."""

    class Meta:
        model = RequestDocument

    request = factory.LazyFunction(submitted_request)
    purpose = DocumentPurpose.SUPPORTING
    original_name = "scan.png"

    @classmethod
    def _create(cls, model_class, *, request, purpose, original_name, **fields):
        document = documents.document_store(request=request, upload=png_upload(original_name), purpose=purpose)
        if fields:
            model_class.objects.filter(pk=document.pk).update(**fields)
            document.refresh_from_db()
        return document


class MessageFactory(factory.django.DjangoModelFactory):
    """A receipt sent to the requester and shown on the status page."""

    class Meta:
        model = Message

    request = factory.LazyFunction(submitted_request)
    direction = Message.Direction.TO_REQUESTER
    kind = MessageKind.RECEIPT
    subject = factory.LazyAttribute(lambda o: f"We have received your request ({o.request.reference})")
    body = "We have received your request."
    sent_at = factory.LazyFunction(timezone.now)


class EvidenceCheckFactory(factory.django.DjangoModelFactory):
    """A passport checked by a member of staff."""

    class Meta:
        model = EvidenceCheck

    request = factory.LazyFunction(submitted_request)
    document_kind = "Passport"
    outcome = VerificationStatus.VERIFIED
    checked_by = factory.SubFactory(StaffUserFactory)
    checked_by_name = factory.LazyAttribute(lambda o: o.checked_by.get_full_name())


def png_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    """A real, small PNG image made with Pillow."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, format="PNG")
    return buffer.getvalue()


def png_upload(name: str = "scan.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def code_in(email) -> str:
    """The 6-digit confirmation code in an e-mail we sent."""
    import re

    found = re.search(r"^\s+(\d{6})\s*$", email.body, re.MULTILINE)
    assert found, "no confirmation code in the e-mail"
    return found.group(1)


def status_link_path_in(email) -> str:
    """The path of the private status link in an e-mail we sent (e.g. /status/link/<token>/)."""
    import re

    from django.conf import settings

    found = re.search(re.escape(settings.DSAR_PUBLIC_URL) + r"(/status/link/[A-Za-z0-9_-]+/)", email.body)
    assert found, "no status link in the e-mail"
    return found.group(1)


def in_progress_extendable(*, received_on=None, **overrides) -> DataSubjectRequest:
    """An Art. 21(1) objection, in progress as soon as the e-mail is confirmed (the policy asks no more for it), so
    its clock has no identity pause: for tests of pauses, extensions, fees and refusals, which an objection to direct
    marketing never has (GDPR Art. 21(3))."""
    from identity.policy import policy_get

    policy = policy_get()
    policy.objection_other_level = AssuranceLevel.EMAIL
    policy.save()
    overrides.setdefault("right", Right.OBJECTION)
    overrides.setdefault(
        "details",
        ObjectionScope(
            type=ObjectionType.LEGITIMATE_INTERESTS, processing="Profiling", grounds="My situation"
        ).as_details(),
    )
    return confirmed_request(received_on=received_on, **overrides)
