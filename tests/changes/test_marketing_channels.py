"""An objection to direct marketing stops every channel that markets (GDPR Art. 21(2)-(3); LAW.md §6(e)): e-mail, SMS,
post, phone, ad-platform audiences and profiling for direct marketing; the channels travel in the run's payload to
every connector; the time to suppression is measured against the same-or-next-working-day target."""

from datetime import date, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from changes import objections, services
from changes.models import ChangeRun, RunStatus
from datasystems.change_rules import ChangeRuleError, tables_for
from datasystems.connectors.changes import ALL_MARKETING_CHANNELS, ChangeKind, MarketingChannel
from datasystems.connectors.demo_app import DEMOCRM_CONFIG
from datasystems.models import LawfulBasis, Purpose
from demo.register import SYSTEMS, democrm_tables
from democrm import processing
from democrm.generate import democrm_generate
from democrm.models import AdAudienceMember, Customer, MarketingPreference, MarketingProfile
from tests.factories import give_second_factor, in_progress_objection

from .conftest import EMAIL, system

pytestmark = pytest.mark.django_db

ALAN = "C-1001"
ALAN_EMAIL = "alan@demo.example"

PROFILES = {
    "name": "profiles",
    "marketing": {"set": {"profiling_stopped": True}, "channel": "profiling"},
}
AUDIENCES = {"name": "audiences", "marketing": {"set": {"excluded": True}, "channel": "audiences"}}
NEWSLETTER = {"name": "customers", "marketing": {"set": {"email_opt_in": False}}}


# --- The rules ----------------------------------------------------------------------------------------------------


def test_every_channel_is_stopped_when_the_objection_names_none():
    config = {"tables": [PROFILES, AUDIENCES, NEWSLETTER]}
    tables = tables_for(config, ChangeKind.SUPPRESS_MARKETING)
    assert [table.table for table in tables] == ["profiles", "audiences", "customers"]
    assert tables_for(config, ChangeKind.SUPPRESS_MARKETING, channels=ALL_MARKETING_CHANNELS) == tables


def test_an_objection_naming_channels_reaches_only_their_tables_and_the_tables_of_every_channel():
    config = {"tables": [PROFILES, AUDIENCES, NEWSLETTER]}
    tables = tables_for(config, ChangeKind.SUPPRESS_MARKETING, channels=("email", "profiling"))
    assert [table.table for table in tables] == ["profiles", "customers"]


def test_a_marketing_rule_naming_an_unknown_channel_is_refused():
    config = {"tables": [{"name": "fax", "marketing": {"set": {"fax_ok": False}, "channel": "fax"}}]}
    with pytest.raises(ChangeRuleError, match='marketing "channel" must be one of email, sms'):
        tables_for(config, ChangeKind.SUPPRESS_MARKETING)


def test_the_demo_register_stops_every_channel_somewhere():
    """Art. 21(3) in every system that markets: each MarketingChannel is served by a table of the demo register
    (the consent history's channel column holds e-mail, SMS, post and phone)."""
    covered: set[str] = set()
    for spec in SYSTEMS:
        for table in spec["connector_config"].get("tables", []):
            rule = table.get("marketing")
            if not rule:
                continue
            if "append" in rule:
                covered |= set(MarketingPreference.Channel.values)
            else:
                covered.add(rule.get("channel") or "every channel")
    assert covered >= {channel.value for channel in MarketingChannel}


# --- The run's payload --------------------------------------------------------------------------------------------


def test_a_direct_marketing_objection_stops_every_channel_and_says_so_to_each_connector(
    crm, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = in_progress_objection(email=EMAIL)
    run = ChangeRun.objects.get(request=request, kind=ChangeKind.SUPPRESS_MARKETING)
    assert run.payload == {"channels": list(ALL_MARKETING_CHANNELS)}
    assert set(run.payload["channels"]) == {"email", "sms", "post", "phone", "audiences", "profiling"}
    assert services.instruction_for(run, crm).channels == ALL_MARKETING_CHANNELS


def test_systems_serving_only_channels_not_objected_to_are_left_out_of_the_run(crm):
    adverts = system("Adverts", "fake", {"tables": [AUDIENCES]})
    profiling = system("Profiling", "fake", {"tables": [PROFILES]})
    for target in (adverts, profiling):
        Purpose.objects.create(system=target, description="Ads", lawful_basis=LawfulBasis.LEGITIMATE_INTERESTS)
    chosen = services.systems_for(ChangeKind.SUPPRESS_MARKETING, {"channels": ["email"]})
    assert {target.name for target in chosen} == {"CRM"}
    every = services.systems_for(ChangeKind.SUPPRESS_MARKETING, {"channels": list(ALL_MARKETING_CHANNELS)})
    assert {target.name for target in every} == {"CRM", "Adverts", "Profiling"}


# --- The demo shop: audiences and profiling ---------------------------------------------------------------------


@pytest.fixture
def demo_shop(db):
    democrm_generate(people=4, rows_per_person=12, as_of=date(2026, 11, 1), demo_people=True, demo_rows_per_person=12)
    systems = []
    for name, table in (("Marketing profiling", "marketing_profiles"), ("Advertising audiences", "ad_audiences")):
        systems.append(system(name, "demo_app", democrm_tables(table, match_on=table)))
        Purpose.objects.create(
            system=systems[-1], description=name, lawful_basis=LawfulBasis.LEGITIMATE_INTERESTS, for_marketing=True
        )
    return systems


def test_an_objection_takes_the_person_out_of_ad_audiences_and_marketing_profiling_and_no_one_else(
    demo_shop, django_capture_on_commit_callbacks
):
    alan = Customer.objects.get(customer_number=ALAN)
    MarketingProfile.objects.filter(customer=alan).update(segment="loyal")
    audience = AdAudienceMember.objects.get(customer=alan).audience
    assert processing.audience_upload(audience).filter(customer=alan).exists()
    assert processing.marketing_targets("loyal").filter(pk=alan.pk).exists()
    others_uploaded = set(processing.audience_upload(audience).exclude(customer=alan).values_list("pk", flat=True))
    others_profiled = set(processing.marketing_profiling_population().exclude(pk=alan.pk).values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        request = in_progress_objection(
            name="Alan Turing", email=ALAN_EMAIL, identifiers={"customer_number": ALAN, "account_email": ALAN_EMAIL}
        )
    run = ChangeRun.objects.get(request=request, kind=ChangeKind.SUPPRESS_MARKETING)
    assert run.status == RunStatus.DONE
    assert sorted(run.jobs.values_list("system__name", flat=True)) == ["Advertising audiences", "Marketing profiling"]

    profile = MarketingProfile.objects.get(customer=alan)
    assert profile.profiling_stopped is True and profile.segment == "" and profile.offer_propensity is None
    assert AdAudienceMember.objects.get(customer=alan).excluded is True
    assert not processing.audience_upload(audience).filter(customer=alan).exists()
    assert not processing.marketing_profiling_population().filter(pk=alan.pk).exists()
    assert not processing.marketing_targets("loyal").filter(pk=alan.pk).exists()
    assert set(processing.audience_upload(audience).values_list("pk", flat=True)) == others_uploaded
    assert set(processing.marketing_profiling_population().values_list("pk", flat=True)) == others_profiled
    assert services.instruction_for(run, demo_shop[0]).channels == ALL_MARKETING_CHANNELS


def test_the_demo_crm_configuration_names_the_channel_of_its_audience_and_profiling_tables():
    rules = {table["name"]: table.get("marketing") for table in DEMOCRM_CONFIG["tables"]}
    assert rules["ad_audiences"]["channel"] == MarketingChannel.AUDIENCES
    assert rules["marketing_profiles"]["channel"] == MarketingChannel.PROFILING


# --- Time to suppression against the target ---------------------------------------------------------------------


def _london(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(year, month, day, hour, minute), timezone=timezone.get_default_timezone())


@pytest.mark.parametrize(
    ("received", "suppressed", "target_on", "met", "hours"),
    [
        # Friday evening in November: the target is the end of Monday.
        (_london(2026, 11, 27, 19), _london(2026, 11, 30, 9), date(2026, 11, 30), True, 62.0),
        (_london(2026, 11, 27, 19), _london(2026, 12, 1, 9), date(2026, 11, 30), False, 86.0),
        # Friday evening before the August bank holiday (Monday 31 August 2026 in England): the end of Tuesday.
        (_london(2026, 8, 28, 20), _london(2026, 9, 1, 17), date(2026, 9, 1), True, 93.0),
        # Thursday before Good Friday and Easter Monday 2026: the end of Tuesday 7 April.
        (_london(2026, 4, 2, 16), _london(2026, 4, 8, 9), date(2026, 4, 7), False, 137.0),
        # The same day is better still.
        (_london(2026, 11, 25, 10), _london(2026, 11, 25, 10, 30), date(2026, 11, 26), True, 0.5),
    ],
)
def test_time_to_suppression_is_measured_against_the_end_of_the_next_working_day(
    received, suppressed, target_on, met, hours
):
    request = in_progress_objection(email=EMAIL, received_at=received)
    assert request.target_on == target_on  # the case's own target, set on receipt
    request.suppressed_at = suppressed
    timing = objections.suppression_timing(request)
    assert timing.target_on == target_on
    assert timing.met is met
    assert timing.hours == hours


def test_the_case_page_shows_the_channels_stopped_and_the_time_to_suppression_against_its_target(
    crm, dpo, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = in_progress_objection(email=EMAIL)
    client.force_login(dpo)
    give_second_factor(client)
    page = client.get(reverse("casework:request_detail", args=[request.reference])).content.decode()
    assert "e-mail, text message, post, telephone, advertising audiences, profiling for marketing" in page, (
        "the channels stopped"
    )
    assert "Same or next working day: by the end of" in page
    assert "Suppressed in 0.0 h (0 working days): <strong>target met</strong>" in page
