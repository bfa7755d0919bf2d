"""What a request asks for, per right: the answers a person files are read back as one typed scope."""

from datetime import date

import pytest
from django.urls import reverse

from identity.models import AssuranceLevel
from identity.policy import policy_get, required_level
from requests_app.forms import FORMS
from requests_app.models import DataSubjectRequest, RequesterRole, Right
from requests_app.scope import (
    AccessFormat,
    AccessScope,
    AgentAuthority,
    AutomatedDecisionScope,
    ConsentWithdrawalScope,
    DecisionSafeguard,
    ErasureGround,
    ErasureScope,
    ObjectionScope,
    ObjectionType,
    PortabilityFormat,
    PortabilityScope,
    RectificationScope,
    RestrictionGround,
    RestrictionScope,
    agent_authority_of,
    scope_from,
    scope_of,
)
from tests.factories import submitted_request

ABOUT_ME = {"requester_role": "data_subject", "name": "Grace Hopper", "email": "grace@example.com"}

# What a person types on each right's form, and the scope the portal reads from it.
FILED = {
    Right.ACCESS: (
        {
            "access_scope": "subset",
            "access_subset": "My orders",
            "date_from": "2024-01-01",
            "date_to": "2024-12-31",
            "access_format": "report_and_files",
            "access_report_pdf": "on",
        },
        AccessScope(
            everything=False,
            subset="My orders",
            date_from=date(2024, 1, 1),
            date_to=date(2024, 12, 31),
            report_pdf=True,
            format=AccessFormat.REPORT_AND_FILES,
        ),
    ),
    Right.RECTIFICATION: (
        {"rectification_wrong": "My surname is Hoper", "rectification_correct": "Hopper"},
        RectificationScope(wrong="My surname is Hoper", correct="Hopper"),
    ),
    Right.ERASURE: (
        {"erasure_grounds": ["consent_withdrawn", "unlawful"], "erasure_scope": "specific", "erasure_specific": "CV"},
        ErasureScope(
            grounds=(ErasureGround.CONSENT_WITHDRAWN, ErasureGround.UNLAWFUL), everything=False, specific="CV"
        ),
    ),
    Right.RESTRICTION: (
        {"restriction_ground": ["legal_claims"], "restriction_data": "Call recordings"},
        RestrictionScope(grounds=(RestrictionGround.LEGAL_CLAIMS,), data="Call recordings"),
    ),
    Right.OBJECTION: (
        {"objection_type": "direct_marketing", "special_category_data": "on"},
        ObjectionScope(type=ObjectionType.DIRECT_MARKETING, special_category_data=True),
    ),
    Right.CONSENT_WITHDRAWAL: (
        {"consent_scope": "specific", "consent_specific": "Newsletters"},
        ConsentWithdrawalScope(everything=False, specific="Newsletters"),
    ),
    Right.AUTOMATED_DECISION: (
        {
            "decision_description": "My loan application was refused",
            "decision_date": "2026-01-05",
            "decision_safeguards": ["human_review", "information"],
            "decision_point_of_view": "My income was misread",
        },
        AutomatedDecisionScope(
            decision="My loan application was refused",
            decided_on=date(2026, 1, 5),
            safeguards=(DecisionSafeguard.HUMAN_REVIEW, DecisionSafeguard.INFORMATION),
            point_of_view="My income was misread",
        ),
    ),
    Right.PORTABILITY: (
        {
            "portability_format": "csv",
            "transmit_to_controller": "on",
            "recipient_name": "Other Bank plc",
            "recipient_contact": "dpo@otherbank.example",
        },
        PortabilityScope(
            format=PortabilityFormat.CSV,
            transmit_to_controller=True,
            recipient_name="Other Bank plc",
            recipient_contact="dpo@otherbank.example",
        ),
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("right", list(FILED))
def test_each_rights_form_is_read_back_as_that_rights_scope(client, right):
    """What the person filed on the public form is what the portal acts on, typed, after storage and encryption."""
    answers, expected = FILED[right]
    response = client.post(reverse("requests_app:request_create", args=[right]), {**ABOUT_ME, **answers})
    assert response.status_code == 302, response.content.decode()[:2000]
    request = DataSubjectRequest.objects.get()
    assert scope_of(request) == expected
    assert agent_authority_of(request) is None


@pytest.mark.parametrize("right", list(FILED))
def test_a_scope_is_stored_exactly_as_the_form_stores_it(right):
    """Code that files a request itself (the demo data) stores the same answers the public form would."""
    answers, expected = FILED[right]
    form = FORMS[right](data={**ABOUT_ME, **answers})
    assert form.is_valid(), form.errors
    assert expected.as_details() == form.details()
    assert scope_from(right=right, details=expected.as_details()) == expected


@pytest.mark.parametrize(
    ("right", "expected"),
    [
        (Right.ACCESS, AccessScope(everything=True, format=AccessFormat.REPORT)),
        (Right.RECTIFICATION, RectificationScope(wrong="", correct="", supplementary_statement="")),
        (Right.ERASURE, ErasureScope(grounds=(), everything=True)),
        (Right.RESTRICTION, RestrictionScope(grounds=(), data="")),
        (Right.OBJECTION, ObjectionScope(type=ObjectionType.LEGITIMATE_INTERESTS)),
        (Right.PORTABILITY, PortabilityScope(format=PortabilityFormat.JSON, transmit_to_controller=False)),
        (Right.CONSENT_WITHDRAWAL, ConsentWithdrawalScope(everything=True, specific="")),
        (Right.AUTOMATED_DECISION, AutomatedDecisionScope(decision="", decided_on=None, safeguards=())),
    ],
)
def test_an_older_request_missing_answers_is_read_with_defaults(right, expected):
    """Requests stored before a question was added still open: a missing answer takes its default."""
    assert scope_from(right=right, details={}) == expected
    assert expected.special_category_data is False


def test_a_partly_answered_older_request_keeps_what_it_has():
    scope = scope_from(right=Right.ACCESS, details={"access_scope": "subset", "access_subset": "My orders"})
    assert scope == AccessScope(everything=False, subset="My orders", format=AccessFormat.REPORT)
    scope = scope_from(right=Right.ERASURE, details={"erasure_grounds": ["objection"]})
    assert scope == ErasureScope(grounds=(ErasureGround.OBJECTION,), everything=True)


def test_unknown_keys_and_retired_choices_are_ignored():
    """A key no form asks any more is ignored, and a choice no longer offered falls back to the default."""
    details = {
        "access_scope": "all",
        "access_format": "printed_copy",
        "date_from": "not a date",
        "retired_question": "yes",
        "agent": {"subject_name": "Pat Client"},
    }
    assert scope_from(right=Right.ACCESS, details=details) == AccessScope(format=AccessFormat.REPORT)
    erasure = scope_from(right=Right.ERASURE, details={"erasure_grounds": ["unlawful", "retired_ground"]})
    assert erasure.grounds == (ErasureGround.UNLAWFUL,)
    restriction = scope_from(right=Right.RESTRICTION, details={"restriction_ground": "retired_ground"})
    assert restriction.grounds == ()


def test_a_restriction_stored_with_one_ground_is_read_as_a_list_of_one():
    """The form once took one case of Art. 18(1); those stored strings still parse, under the same key."""
    older = scope_from(right=Right.RESTRICTION, details={"restriction_ground": "accuracy_contested"})
    assert older.grounds == (RestrictionGround.ACCURACY_CONTESTED,)


def test_the_forms_ask_what_the_law_lets_people_ask():
    """Rectification without knowing the right value, with restriction while checking and the recipients told
    (Arts. 16, 18(1)(a), 19); erasure when unsure of the ground (Art. 17(1)); several restriction grounds
    (Art. 18(1)); objection to research (Art. 21(6)) and to profiling for marketing without reasons (Art. 21(2))."""
    rectification = FORMS[Right.RECTIFICATION](
        data={
            **ABOUT_ME,
            "rectification_wrong": "My address",
            "rectification_restrict": "on",
            "rectification_recipients": "on",
        }
    )
    assert rectification.is_valid(), rectification.errors
    scope = scope_from(right=Right.RECTIFICATION, details=rectification.details())
    assert scope == RectificationScope(wrong="My address", restrict_while_checking=True, recipients_wanted=True)

    erasure = FORMS[Right.ERASURE](data={**ABOUT_ME, "erasure_grounds": ["not_sure"], "erasure_scope": "all"})
    assert erasure.is_valid(), erasure.errors
    assert scope_from(right=Right.ERASURE, details=erasure.details()) == ErasureScope(grounds=(), unsure=True)

    restriction = FORMS[Right.RESTRICTION](
        data={**ABOUT_ME, "restriction_ground": ["accuracy_contested", "objection_pending"]}
    )
    assert restriction.is_valid(), restriction.errors
    assert scope_from(right=Right.RESTRICTION, details=restriction.details()).grounds == (
        RestrictionGround.ACCURACY_CONTESTED,
        RestrictionGround.OBJECTION_PENDING,
    )

    research = FORMS[Right.OBJECTION](data={**ABOUT_ME, "objection_type": "research_statistics"})
    assert not research.is_valid()
    assert set(research.errors) == {"objection_processing", "objection_grounds"}
    profiling = FORMS[Right.OBJECTION](data={**ABOUT_ME, "objection_type": "marketing_profiling"})
    assert profiling.is_valid(), profiling.errors
    assert scope_from(right=Right.OBJECTION, details=profiling.details()).type == ObjectionType.MARKETING_PROFILING


@pytest.mark.django_db
def test_the_portability_form_explains_its_scope(client):
    """Art. 20(1): data provided by the person, processed by automated means on consent or contract; Art. 20(2):
    direct transmission where technically feasible."""
    page = client.get(reverse("requests_app:request_create", args=[Right.PORTABILITY])).content.decode()
    assert "by automated means because you consented" in page
    assert "Where it is technically feasible" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("right", "details", "expected"),
    [
        (Right.CONSENT_WITHDRAWAL, {}, AssuranceLevel.EMAIL),
        (Right.AUTOMATED_DECISION, {}, AssuranceLevel.RECORDS),
        (Right.OBJECTION, {"objection_type": "marketing_profiling"}, AssuranceLevel.EMAIL),
        (Right.OBJECTION, {"objection_type": "research_statistics"}, AssuranceLevel.RECORDS),
    ],
)
def test_the_new_kinds_of_request_need_the_assurance_their_risk_calls_for(right, details, expected):
    """Withdrawing consent is as easy as giving it (Art. 7(3)) and profiling for marketing is under the absolute
    limb (Art. 21(2)-(3)): a confirmed address is enough. A review of an automated decision (Art. 22) may disclose
    how the person was assessed, so it asks what access asks."""
    assert required_level(submitted_request(right=right, details=details)) == expected


@pytest.mark.django_db
def test_an_objection_stored_without_its_type_is_never_treated_as_direct_marketing():
    """Reading an older objection never lowers the identity check the policy asks for (GDPR Art. 21(1) vs 21(2))."""
    policy = policy_get()
    policy.objection_marketing_level = AssuranceLevel.EMAIL
    policy.objection_other_level = AssuranceLevel.RECORDS
    policy.save()
    marketing = submitted_request(right=Right.OBJECTION, details={"objection_type": "direct_marketing"})
    untyped = submitted_request(right=Right.OBJECTION, details={"objection_grounds": "My reasons"})
    assert scope_of(marketing).is_direct_marketing
    assert not scope_of(untyped).is_direct_marketing
    assert required_level(marketing) == AssuranceLevel.EMAIL
    assert required_level(untyped) == AssuranceLevel.RECORDS


@pytest.mark.django_db
def test_an_agents_authority_is_read_with_defaults_for_missing_answers():
    """The authority an agent stated is read back; an agent's request stored without it still counts as one."""
    filed = submitted_request(
        requester_role=RequesterRole.AGENT,
        details={
            "access_scope": "all",
            "agent": {"subject_name": "Pat Client", "relationship": "parent", "extra": "ignored"},
        },
    )
    authority = agent_authority_of(filed)
    assert authority == AgentAuthority(subject_name="Pat Client", relationship="parent", authority_type="")
    assert authority.for_a_child
    assert scope_of(filed) == AccessScope()

    older = submitted_request(requester_role=RequesterRole.AGENT, email="other@example.com", details={})
    assert agent_authority_of(older) == AgentAuthority()
    assert not agent_authority_of(older).for_a_child


def test_erasure_and_restriction_forms_ask_whether_to_name_the_recipients():
    """GDPR Art. 19, second sentence: the person is told who the recipients are if they ask, for an erasure or a
    restriction as for a rectification; not ticked, they are not asked for (and older requests read as not asked)."""
    erasure = FORMS[Right.ERASURE](
        data={**ABOUT_ME, "erasure_grounds": ["not_sure"], "erasure_scope": "all", "erasure_recipients": "on"}
    )
    assert erasure.is_valid(), erasure.errors
    assert scope_from(right=Right.ERASURE, details=erasure.details()).recipients_wanted is True
    restriction = FORMS[Right.RESTRICTION](
        data={**ABOUT_ME, "restriction_ground": ["legal_claims"], "restriction_recipients": "on"}
    )
    assert restriction.is_valid(), restriction.errors
    assert scope_from(right=Right.RESTRICTION, details=restriction.details()).recipients_wanted is True
    assert ErasureScope.parse({}).recipients_wanted is False
    assert RestrictionScope.parse({"restriction_ground": "legal_claims"}).recipients_wanted is False
    assert ErasureScope.parse(ErasureScope(recipients_wanted=True).as_details()).recipients_wanted is True
