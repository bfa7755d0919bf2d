"""The record of processing (GDPR Art. 30(1)) with the portal's own entry (LAW.md §6(g) "a RoPA entry for the portal
itself"; issue 13 "the organisation's own record of processing for the portal states these periods"): a page and a
CSV file for the staff who may read the register, each system checked against what they may see."""

import csv
import io

import pytest
from django.urls import reverse

from datasystems import services as register_services
from datasystems.models import DataSystem
from datasystems.selectors import active_systems
from organisation.selectors import organisation_get
from retention import record
from retention.models import RecordKind
from retention.services import retention_rule_set
from tests.factories import give_second_factor

pytestmark = pytest.mark.django_db

RECORD = reverse("record:record")
CSV = reverse("record:record_csv")


def _signed_in(client, user):
    client.force_login(user)
    give_second_factor(client)
    return client


def _csv(response) -> list[dict[str, str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_dpo_reads_the_whole_record_the_portal_first_then_every_system_in_use(client, dpo, crm, billing):
    """Art. 30(1)(a)-(g) for the portal; each register system in the register's words; a system no longer in use is
    not a processing activity any more."""
    DataSystem.objects.filter(pk=billing.pk).update(active=False)

    page = _signed_in(client, dpo).get(RECORD).content.decode()

    organisation = organisation_get()
    assert organisation.name in page and organisation.contact_email in page  # (a) the controller
    assert organisation.dpo_name in page and organisation.dpo_email in page  # (a) the DPO
    assert "DSAR Portal: handling data protection rights requests and complaints" in page
    assert "Article 6(1)(c)" in page and "s.164A" in page  # (b) purposes with their basis
    assert "People who complain to the organisation" in page  # (c) data subjects
    assert "Identity and authority documents" in page  # (c) categories
    assert "The hosting provider (processor)" in page  # (d) recipients
    assert "Closed case files: 730 days after closure" in page  # (f) from the schedule in force
    assert "Closed complaints not about a case: 730 days after the complaint is closed" in page
    assert "Identity and authority evidence: 24 hours after the decision" in page  # (f) periods enforced elsewhere
    assert "AES-256-GCM" in page and "second factor" in page  # (g) security measures
    # The register's systems, in the register's words.
    assert "CRM" in page and "Managing your account: Contract with the person (Article 6(1)(b))" in page
    assert "Mailwise Inc. (Processor" in page and "UK Addendum" in page and "6 years after the account closes" in page
    assert "Billing" not in page
    assert page.index("DSAR Portal: handling") < page.index("Managing your account")


def test_a_period_changed_on_the_retention_page_is_in_the_record_at_once(client, dpo):
    """Art. 30(1)(f) and 5(2): the record states the period the deletion job enforces, not a copy made earlier."""
    client = _signed_in(client, dpo)
    assert "Closed case files: 730 days after closure" in client.get(RECORD).content.decode()

    response = client.post(
        reverse("retention:rule_set", args=[RecordKind.CASE_FILE]),
        {"case_file-days": "1095", "case_file-reason": "Claims foreseeable."},
    )
    assert response.status_code == 302

    page = client.get(RECORD).content.decode()
    assert (
        "Closed case files: 1095 days after closure" in page
        and "730 days after closure" not in page.split("Closed case files:")[1].split("</li>")[0]
    )
    rows = _csv(client.get(CSV))
    assert "Closed case files: 1095 days after closure" in rows[0]["Time limits for erasure (Art. 30(1)(f))"]


def test_the_record_downloads_as_csv_one_row_per_processing_activity(client, dpo, crm, settings):
    """Art. 30(4): what the DPO hands to the supervisory authority. The providers and transfers the privacy notice
    names are the portal's recipients and transfers; a cell a spreadsheet would run as a formula is made text."""
    settings.DSAR_PRIVACY_EMAIL_PROVIDER = "Mailer Ltd"
    settings.DSAR_PRIVACY_TRANSFERS = "Mailer Ltd stores e-mail logs in the USA under the UK Addendum."
    DataSystem.objects.filter(pk=crm.pk).update(description='=HYPERLINK("http://evil.example")')

    response = _signed_in(client, dpo).get(CSV)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="record-of-processing-' in response["Content-Disposition"]
    rows = _csv(response)
    assert [row["Processing activity"] for row in rows] == [
        "DSAR Portal: handling data protection rights requests and complaints",
        "CRM",
    ]
    portal, crm_row = rows
    assert portal["Controller (Art. 30(1)(a))"] == organisation_get().name
    assert portal["DPO contact"] == organisation_get().dpo_email
    assert "Mailer Ltd (processor): delivers the portal's e-mails" in portal["Recipients (Art. 30(1)(d))"]
    assert portal["Transfers and safeguards (Art. 30(1)(e))"] == settings.DSAR_PRIVACY_TRANSFERS
    limits = portal["Time limits for erasure (Art. 30(1)(f))"].split("\n")
    assert "Requests closed with the e-mail address never confirmed: 90 days after closure" in limits[0]
    assert any(line.startswith("Agent accounts not used: 730 days after the last use") for line in limits)
    assert any("Direct-marketing suppression entries" in line for line in limits)
    assert "AES-256-GCM" in portal["Security measures (Art. 30(1)(g))"]
    assert crm_row["Description"] == '\'=HYPERLINK("http://evil.example")'
    assert crm_row["Transfers and safeguards (Art. 30(1)(e))"].startswith("United States, Mailwise Inc.: UK Addendum")
    assert crm_row["Time limits for erasure (Art. 30(1)(f))"] == "6 years after the account closes"
    assert crm_row["Security measures (Art. 30(1)(g))"] == "Not recorded in the register"


def test_an_auditor_reads_the_whole_record_a_system_owner_only_their_systems(
    client, auditor, system_owner, crm, billing
):
    """Object-level, as the register's pages: the auditor every entry; a system owner the systems they own and not
    the portal's entry (it is nobody's system of theirs), in the page and in the file."""
    page = _signed_in(client, auditor).get(RECORD).content.decode()
    assert "DSAR Portal: handling" in page and "CRM" in page and "Billing" in page

    client = _signed_in(client, system_owner)
    page = client.get(RECORD).content.decode()
    assert "CRM" in page and "Billing" not in page and "DSAR Portal: handling" not in page
    assert [row["Processing activity"] for row in _csv(client.get(CSV))] == ["CRM"]


def test_staff_who_may_not_read_the_register_cannot_read_the_record(client, handler):
    assert _signed_in(client, handler).get(RECORD).status_code == 403
    assert client.get(CSV).status_code == 403
    client.logout()
    assert client.get(RECORD).status_code == 302  # to the sign-in page


def test_the_portal_is_not_a_system_of_the_register_so_fulfilment_never_searches_it(client, dpo, crm):
    """Access and erasure fulfilment iterate the register's systems with connectors; the portal's entry is
    generated, never stored as one of them."""
    _signed_in(client, dpo).get(RECORD)
    _signed_in(client, dpo).get(CSV)

    assert list(active_systems()) == [crm]
    assert record.portal_entry().system_id is None


def test_the_register_change_shows_in_the_record_at_once(client, dpo, crm):
    """Art. 30(1): kept up to date; a recipient added in the register is in the record the next time it is read."""
    client = _signed_in(client, dpo)
    partner = register_services.recipient_save(
        recipient=None,
        values={"name": "Courier Co", "kind": "controller", "role": "Delivers orders", "email": "dp@courier.example"},
        actor=dpo,
    )
    register_services.system_recipient_link(system=crm, recipient=partner, disclosed="your address", actor=dpo)

    assert "Courier Co (Controller (decides its own use)): your address" in client.get(RECORD).content.decode()


def test_the_schedule_page_states_the_portals_time_limits_and_links_the_record(client, dpo):
    retention_rule_set(kind=RecordKind.COMPLAINT, days=1000, reason="Claims foreseeable.", actor=dpo)
    page = _signed_in(client, dpo).get(reverse("retention:schedule")).content.decode()
    assert "Closed complaints not about a case: 1000 days after the complaint is closed" in page
    assert f'href="{RECORD}"' in page
