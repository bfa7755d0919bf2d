"""The demo organisation's register (issue 12): realistic, published as a notice, and loaded twice without harm."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from datasystems import services
from datasystems.models import (
    DataSystem,
    PrivacyNoticeVersion,
    Purpose,
    Recipient,
    Safeguard,
    SystemRecipient,
    Transfer,
)
from demo.register import SYSTEMS
from organisation.selectors import organisation_get

pytestmark = pytest.mark.django_db(transaction=True)


def _counts() -> tuple:
    return tuple(
        model.objects.count()
        for model in (DataSystem, Purpose, Recipient, SystemRecipient, Transfer, PrivacyNoticeVersion)
    )


def test_the_demo_register_loads_twice_without_harm_and_keeps_the_dpos_changes(client, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    counts = _counts()
    assert counts[0] == len(SYSTEMS) == 10
    assert counts[-1] == 1  # the first notice, published from the register
    # The DPO changes a demo system; a second run keeps the change and adds nothing.
    crm = DataSystem.objects.get(name__startswith="Customer relationship")
    services.system_save(system=crm, values={"retention": "Changed by the DPO"}, actor=crm.owner)
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert _counts() == counts
    crm.refresh_from_db()
    assert crm.retention == "Changed by the DPO"
    assert "/staff/systems/" in out.getvalue() and "/privacy-notice/" in out.getvalue()


def test_the_demo_register_is_the_issues_realistic_company(client, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    systems = {system.name: system for system in DataSystem.objects.all()}
    # A third-party source (Art. 14), a processor outside the UK under the SCCs with the UK Addendum (Art. 46),
    # an automated decision with its logic (Art. 22, C-203/22), observed data (Art. 20), manual and demo connectors.
    bought = systems["Business contacts from a data provider"]
    assert "LeadSource Data Ltd" in bought.source
    transfer = Transfer.objects.get(safeguard=Safeguard.UK_ADDENDUM)
    assert (transfer.country, transfer.recipient.name) == ("United States", "Mailwise Inc.")
    assert systems["Product trial accounts"].automated_decisions
    assert systems["Website analytics"].holds_observed_data
    assert {system.connector for system in systems.values()} == {"demo_app", "manual"}
    assert systems["Call recordings and live-chat transcripts"].connector == "manual"
    assert systems["Customer relationship management (CRM)"].owner.groups.filter(name="System owner").exists()
    assert "card" in systems["Billing"].description
    organisation = organisation_get()
    assert organisation.eu_representative_name and organisation.eu_representative_email
    # The public notice names them.
    page = client.get(reverse("privacy_notice:latest")).content.decode()
    for expected in (
        "Mailwise Inc.",
        "UK Addendum",
        "LeadSource Data Ltd",
        organisation.eu_representative_name,
        "PayBridge Payments Ltd",
        "tracking pixel",
        "score",
        # Art. 13(1)(e), 21(4): the ad platform the hashed addresses go to, and profiling for direct marketing.
        "Adverta Ads Ltd",
        "profiling for direct marketing",
    ):
        assert expected in page, expected


def test_the_demo_registers_application_systems_find_a_demo_requester_through_their_connector(settings, tmp_path):
    """`make run` wires the register to the demo CRM: every system searched by the demo_app connector is configured
    correctly and finds a demo requester's data there (issue 12, connector kind 1), and nothing for a stranger."""
    from datasystems.connectors.base import Identifiers, connector_for

    settings.DATA_DIR = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    systems = list(DataSystem.objects.filter(connector="demo_app"))
    assert len(systems) == 6
    alan = Identifiers.of(email="alan@demo.example")
    stranger = Identifiers.of(email="nobody@demo.example")
    for system in systems:
        connector = connector_for(system.connector, system.connector_config)
        connector.check()
        found = connector.search(alan)
        rows = {table.name: list(table.rows) for table in found.tables}
        assert found.searched and any(rows.values()), system.name
        assert not any(list(table.rows) for table in connector.search(stranger).tables), system.name
    # A second load leaves the generated CRM as it is.
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "already filled" in out.getvalue()
