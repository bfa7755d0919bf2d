"""The register's staff pages and the public privacy notice."""

import pytest
from django.urls import reverse

from datasystems import services
from datasystems.models import DataSystem, Purpose, Recipient, Transfer

pytestmark = pytest.mark.django_db

NEW_SYSTEM = {
    "name": "Call recordings",
    "description": "Calls to our helpline",
    "data_subjects": "Callers",
    "personal_data_categories": "Voice recording\nPhone number\n",
    "retention": "90 days",
    "holds_provided_data": "on",
    "connector": "manual",
    "connector_config": "{}",
    "active": "on",
}


def test_the_dpo_adds_a_system_through_the_form(client, dpo):
    client.force_login(dpo)
    assert client.get(reverse("datasystems:system_new")).status_code == 200
    response = client.post(reverse("datasystems:system_new"), NEW_SYSTEM)
    system = DataSystem.objects.get()
    assert response.status_code == 302 and response.url == reverse("datasystems:system_detail", args=[system.pk])
    assert system.personal_data_categories == ["Voice recording", "Phone number"]
    assert system.connector == "manual"
    page = client.get(response.url)
    assert "Voice recording; Phone number" in page.content.decode()


def test_a_wrong_system_form_comes_back_with_what_was_typed(client, dpo):
    client.force_login(dpo)
    response = client.post(
        reverse("datasystems:system_new"),
        {**NEW_SYSTEM, "automated_decisions": "on", "automated_logic": "", "retention": ""},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Describe the logic of the automated decisions." in html
    assert "There is a problem" in html
    assert "Calls to our helpline" in html and "Voice recording\nPhone number" in html
    assert not DataSystem.objects.exists()


def test_a_secret_in_the_connector_configuration_is_refused(client, dpo):
    client.force_login(dpo)
    for config in ('{"password": "hunter2"}', '{"url": "postgres://crm:hunter2@db/crm"}'):
        response = client.post(reverse("datasystems:system_new"), {**NEW_SYSTEM, "connector_config": config})
        assert response.status_code == 400
        assert "looks like a secret" in response.content.decode()
    ok = client.post(
        reverse("datasystems:system_new"), {**NEW_SYSTEM, "connector_config": '{"url_env": "CRM_DATABASE_URL"}'}
    )
    assert ok.status_code == 302
    assert DataSystem.objects.get().connector_config == {"url_env": "CRM_DATABASE_URL"}


def test_the_dpo_changes_a_system_and_a_taken_name_is_refused(client, dpo, crm, billing):
    client.force_login(dpo)
    path = reverse("datasystems:system_edit", args=[billing.pk])
    page = client.get(path).content.decode()
    assert "Billing" in page
    response = client.post(path, {**NEW_SYSTEM, "name": "CRM"})
    assert response.status_code == 400
    # The heading keeps the saved name; the field keeps what was typed.
    assert "Change: Billing" in response.content.decode() and 'value="CRM"' in response.content.decode()
    billing.refresh_from_db()
    assert billing.name == "Billing"
    assert client.post(path, {**NEW_SYSTEM, "name": "Billing", "retention": "7 years"}).status_code == 302
    billing.refresh_from_db()
    assert billing.retention == "7 years"


def test_purposes_recipients_and_transfers_are_added_and_removed_without_javascript(client, dpo, crm):
    client.force_login(dpo)
    detail = reverse("datasystems:system_detail", args=[crm.pk])
    # Legitimate interests without the interest (Art. 13(1)(d)): sent back with what was typed.
    response = client.post(
        reverse("datasystems:purpose_add", args=[crm.pk]),
        {"purpose-description": "Fraud prevention", "purpose-lawful_basis": "legitimate_interests"},
    )
    assert response.status_code == 400
    assert "Say which legitimate interest is pursued." in response.content.decode()
    assert 'value="Fraud prevention"' in response.content.decode()
    response = client.post(
        reverse("datasystems:purpose_add", args=[crm.pk]),
        {
            "purpose-description": "Fraud prevention",
            "purpose-lawful_basis": "legitimate_interests",
            "purpose-legitimate_interest": "preventing fraud",
        },
    )
    assert response.status_code == 302 and response.url == detail
    purpose = Purpose.objects.get(description="Fraud prevention")
    host = services.recipient_save(
        recipient=None,
        values={"name": "Host Ltd", "kind": "processor", "role": "Hosting", "email": "dpo@host.example"},
        actor=dpo,
    )
    assert (
        client.post(
            reverse("datasystems:recipient_link", args=[crm.pk]),
            {"recipient-recipient": host.pk, "recipient-disclosed": "everything, to store it"},
        ).status_code
        == 302
    )
    assert crm.disclosures.filter(recipient=host).exists()
    bad = client.post(reverse("datasystems:transfer_add", args=[crm.pk]), {"transfer-country": "India"})
    assert bad.status_code == 400 and 'value="India"' in bad.content.decode()
    assert (
        client.post(
            reverse("datasystems:transfer_add", args=[crm.pk]),
            {"transfer-country": "India", "transfer-safeguard": "idta"},
        ).status_code
        == 302
    )
    page = client.get(detail).content.decode()
    assert "Fraud prevention" in page and "Host Ltd" in page and "India" in page
    assert "Purpose added: Fraud prevention" in page  # the system's history
    client.post(reverse("datasystems:purpose_remove", args=[crm.pk, purpose.pk]))
    link = crm.disclosures.get(recipient=host)
    client.post(reverse("datasystems:recipient_unlink", args=[crm.pk, link.pk]))
    transfer = Transfer.objects.get(country="India")
    client.post(reverse("datasystems:transfer_remove", args=[crm.pk, transfer.pk]))
    assert not Purpose.objects.filter(pk=purpose.pk).exists()
    assert not crm.disclosures.filter(recipient=host).exists()
    assert not Transfer.objects.filter(pk=transfer.pk).exists()


def test_a_recipient_form_keeps_what_was_typed(client, dpo):
    client.force_login(dpo)
    response = client.post(reverse("datasystems:recipient_new"), {"name": "Post Co", "email": "not-an-address"})
    assert response.status_code == 400
    assert 'value="Post Co"' in response.content.decode()
    assert not Recipient.objects.exists()


def test_the_auditor_reads_the_register_but_changes_nothing(client, auditor, crm):
    client.force_login(auditor)
    page = client.get(reverse("datasystems:system_detail", args=[crm.pk])).content.decode()
    assert "Mailwise Inc." in page and "Change this system" not in page and "Add a purpose" not in page
    assert client.get(reverse("datasystems:system_edit", args=[crm.pk])).status_code == 403


def test_a_system_owner_reads_only_their_systems(client, system_owner, crm, billing):
    client.force_login(system_owner)
    listing = client.get(reverse("datasystems:system_list")).content.decode()
    assert "CRM" in listing and "Billing" not in listing
    assert client.get(reverse("datasystems:system_detail", args=[crm.pk])).status_code == 200
    assert client.get(reverse("datasystems:system_detail", args=[billing.pk])).status_code == 404
    # The nav shows the register, not the queue they may not open.
    assert ">Queue</a>" not in listing and ">Data systems</a>" in listing


def test_the_dpo_previews_then_publishes_and_the_public_page_shows_the_latest_and_history(client, dpo, crm):
    client.force_login(dpo)
    preview = client.get(reverse("datasystems:notice_publish"))
    assert preview.status_code == 200 and "Mailwise Inc." in preview.content.decode()
    assert client.post(reverse("datasystems:notice_publish"), {"summary": ""}).status_code == 400
    assert client.post(reverse("datasystems:notice_publish"), {"summary": "First"}).status_code == 302
    services.system_save(system=crm, values={"retention": "Seven years"}, actor=dpo)
    # Nothing typed wrong but nothing changed? Here something changed: a second version.
    assert client.post(reverse("datasystems:notice_publish"), {"summary": "Retention"}).status_code == 302
    unchanged = client.post(reverse("datasystems:notice_publish"), {"summary": "Again"}, follow=True)
    assert "nothing new to publish" in unchanged.content.decode()
    client.logout()
    latest = client.get(reverse("privacy_notice:latest")).content.decode()
    assert "Version 2, published on" in latest and "Seven years" in latest
    assert reverse("privacy_notice:version", args=[1]) in latest
    assert reverse("identity:privacy_notice") in latest
    first = client.get(reverse("privacy_notice:version", args=[1])).content.decode()
    assert "This is an earlier version." in first and "6 years after the account closes" in first
    assert client.get(reverse("privacy_notice:version", args=[9])).status_code == 404


def test_before_any_version_the_public_page_says_so(client):
    response = client.get(reverse("privacy_notice:latest"))
    assert response.status_code == 200
    assert "has not published its privacy notice here yet" in response.content.decode()


def test_every_public_page_links_to_the_privacy_notice(client):
    for path in (reverse("requests_app:start"), reverse("identity:privacy_notice"), reverse("privacy_notice:latest")):
        assert f'href="{reverse("privacy_notice:latest")}"' in client.get(path).content.decode(), path
