"""The demo a newcomer gets from `make run`: loaded twice without harm, and the printed login works."""

import io
import re
from datetime import timedelta
from decimal import Decimal

import pyotp
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from agents.models import Agent
from dsar_portal.crypto import email_lookup_hash
from identity.models import IdentityVerification, SubjectConfirmation
from requests_app.models import (
    DataSubjectRequest,
    EventKind,
    Exemption,
    ExtensionBasis,
    FeeBasis,
    MarketingSuppression,
    Outcome,
    PauseReason,
    RefusalGround,
    Right,
    Status,
)
from requests_app.scope import DecisionSafeguard, scope_of

pytestmark = pytest.mark.django_db(transaction=True)


def _load_demo() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_the_demo_has_requests_in_different_states_and_a_working_dpo_login(client, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    printed = _load_demo()
    password = re.search(r"user: dpo\s+password: (\S+)", printed).group(1)
    statuses = set(DataSubjectRequest.objects.values_list("status", flat=True))
    assert {Status.AWAITING_EMAIL_CONFIRMATION, Status.IN_PROGRESS, Status.COMPLETED, Status.REFUSED} <= statuses

    secret = re.search(r"TOTP\): secret (\S+)", printed).group(1)
    assert re.search(r"otpauth://totp/\S+secret=" + secret, printed)
    assert (settings.DATA_DIR / "demo-dpo-totp").read_text().strip() == secret

    response = client.post(reverse("account_login"), {"login": "dpo", "password": password, "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    # The DPO can work the queue, identity checks included.
    assert client.get(reverse("casework:queue"), {"awaiting_verification": "on"}).status_code == 200


def test_loading_the_demo_twice_does_no_harm(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    first = _load_demo()
    count = DataSubjectRequest.objects.count()
    second = _load_demo()
    assert DataSubjectRequest.objects.count() == count
    assert re.search(r"password: (\S+)", first).group(1) == re.search(r"password: (\S+)", second).group(1)


def _example(email: str, right: str) -> DataSubjectRequest:
    """The demo's example for one line of its list: the latest request of ``right`` from ``email``."""
    return (
        DataSubjectRequest.objects.filter(email_hash=email_lookup_hash(email), right=right)
        .order_by("-received_at")
        .first()
    )


def test_the_demo_shows_a_lawful_example_of_each_rule_and_lists_them_after_the_login(settings, tmp_path):
    """Issue 10's rules, each with an example a newcomer can open: clarification on the statutory condition,
    resuming without an answer, fees, a structured extension, an absolute objection, right-specific refusals, a
    partly fulfilled statement, two regimes, the two new kinds, an agent and a parent for a child."""
    settings.DATA_DIR = tmp_path
    printed = _load_demo()
    today = timezone.localdate()

    stopped = _example("claude@demo.example", Right.ACCESS)
    assert stopped.status == Status.AWAITING_CLARIFICATION
    assert stopped.clock_pause_reason == PauseReason.CLARIFICATION
    pause = stopped.events.get(kind=EventKind.CLOCK_PAUSED)
    assert "Needed to identify the information or processing activities" in pause.reason

    resumed = _example("margaret@demo.example", Right.ACCESS)
    assert resumed.status == Status.IN_PROGRESS and resumed.clock_paused_on is None
    assert resumed.paused_days > 0
    assert resumed.events.get(kind=EventKind.CLOCK_RESUMED).reason.startswith("Resumed without an answer")

    awaiting_fee = _example("ada@demo.example", Right.ACCESS)
    assert awaiting_fee.status == Status.AWAITING_FEE
    assert (awaiting_fee.fee_basis, awaiting_fee.fee_amount, awaiting_fee.fee_currency) == (
        FeeBasis.FURTHER_COPY,
        Decimal("10.00"),
        "GBP",
    )
    assert awaiting_fee.fee_requested_on is not None and awaiting_fee.fee_paid_on is None
    # A further copy: the same person's first copy was given, free.
    first_copy = DataSubjectRequest.objects.filter(email_hash=awaiting_fee.email_hash).exclude(pk=awaiting_fee.pk).get()
    assert (first_copy.status, first_copy.outcome, first_copy.fee_amount) == (Status.COMPLETED, Outcome.FULFILLED, None)

    paid = _example("edsger@demo.example", Right.ACCESS)
    assert paid.status == Status.IN_PROGRESS
    assert paid.fee_paid_on == today - timedelta(days=12)
    assert paid.clock_started_on == paid.fee_paid_on  # UK GDPR Art. 12A: the month starts again on payment
    assert paid.events.filter(kind=EventKind.FEE_PAID).exists()

    extended = _example("barbara@demo.example", Right.ACCESS)
    assert extended.extension_months == 2 and extended.extension_basis == [ExtensionBasis.COMPLEXITY]

    objection = _example("katherine@demo.example", Right.OBJECTION)
    assert objection.status == Status.COMPLETED and objection.suppressed_at is not None
    assert objection.working_days_to_suppression <= 1
    assert MarketingSuppression.objects.filter(email_hash=objection.email_hash).exists()

    erasure = _example("donald@demo.example", Right.ERASURE)
    assert (erasure.status, erasure.refusal_ground) == (Status.REFUSED, RefusalGround.ERASURE_LEGAL_OBLIGATION)
    exempt = _example("frances@demo.example", Right.ACCESS)
    assert (exempt.status, exempt.refusal_ground, exempt.refusal_exemption) == (
        Status.REFUSED,
        RefusalGround.EXEMPTION,
        Exemption.UK_SCH2_PARA24,
    )
    assert "Sch. 2 para 24" in exempt.refusal_reference
    partly = _example("hedy@demo.example", Right.ACCESS)
    assert (partly.status, partly.outcome) == (Status.COMPLETED, Outcome.PARTLY_FULFILLED)
    [part] = partly.decision_statement["parts"]
    assert part["ground"] == RefusalGround.EXEMPTION and "Sch. 2 para 16" in part["reference"]
    refusals_and_completions = DataSubjectRequest.objects.filter(status__in=[Status.REFUSED, Status.COMPLETED])
    assert not refusals_and_completions.filter(answered_late=True).exists()

    both = _example("kay@demo.example", Right.RESTRICTION)
    assert (both.jurisdiction, both.second_jurisdiction, both.status) == ("GB-ENG", "IE", Status.IN_PROGRESS)

    withdrawal = _example("radia@demo.example", Right.CONSENT_WITHDRAWAL)
    assert withdrawal.status == Status.COMPLETED
    assert scope_of(withdrawal).specific.startswith("Sharing my purchase history")
    automated = _example("annie@demo.example", Right.AUTOMATED_DECISION)
    assert automated.status == Status.IN_PROGRESS
    assert DecisionSafeguard.HUMAN_REVIEW in scope_of(automated).safeguards and scope_of(automated).point_of_view

    by_agent = _example("sam.patel@demo.example", Right.ACCESS)
    assert by_agent.status == Status.AWAITING_IDENTITY_VERIFICATION
    confirmation = SubjectConfirmation.objects.get(request=by_agent)
    # Asked at the address the organisation holds for customer C-1003, never one the agent gave.
    assert confirmation.subject_email == "katherine@demo.example"
    assert confirmation.answer == SubjectConfirmation.Answer.PENDING

    for_child = _example("priya@demo.example", Right.ACCESS)
    assert for_child.status == Status.AWAITING_IDENTITY_VERIFICATION
    check = IdentityVerification.objects.get(request=for_child)
    assert check.child_maturity_review and check.child_in_scotland and check.child_competence == ""

    listed = printed.split("Staff login:", 1)[1]
    for request in (stopped, resumed, awaiting_fee, paid, extended, objection, erasure, exempt, partly, both):
        assert request.reference in listed
    for request in (withdrawal, automated, by_agent, for_child):
        assert request.reference in listed


def test_loading_the_demo_again_creates_no_request_agent_or_suppression(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    first = _load_demo()
    counts = (DataSubjectRequest.objects.count(), Agent.objects.count(), MarketingSuppression.objects.count())
    assert counts[1:] == (2, 1)  # the solicitor and the parent; Katherine Johnson's objection
    second = _load_demo()
    assert (DataSubjectRequest.objects.count(), Agent.objects.count(), MarketingSuppression.objects.count()) == counts
    assert first.split("Staff login:", 1)[1] == second.split("Staff login:", 1)[1]


def test_the_demo_has_an_erasure_planned_in_every_system_waiting_for_approval(settings, tmp_path):
    """Issue 13: a newcomer opens an erasure planned from the register's rules and approves it on the case page."""
    from changes.models import ChangeRun, RunStatus

    settings.DATA_DIR = tmp_path
    _load_demo()
    erasure = _example("edsger@demo.example", Right.ERASURE)
    assert erasure.status == Status.IN_PROGRESS
    run = ChangeRun.objects.get(request=erasure)
    assert (run.kind, run.status) == ("erase", RunStatus.AWAITING_APPROVAL)
    assert run.rows_estimate > 0
    assert {job.system.name for job in run.jobs.all()} >= {"Customer relationship management (CRM)", "Billing"}
