"""The register says, per system, what erasure, restriction, rectification and a marketing objection mean there
(issue 13): the DPO sets the rules in the connector configuration and the backups' roll-off, a malformed rule is
refused on save, and the system's page shows them in words."""

import copy
import html
import json
import re

import pytest
from django.urls import reverse

from datasystems import services
from datasystems.connectors.demo_app import DEMOCRM_CONFIG
from datasystems.models import DataSystem, RegisterChange

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Customer database",
    "description": "Customer accounts and orders",
    "data_subjects": "Customers",
    "personal_data_categories": "Name\nE-mail address\n",
    "retention": "6 years after the last order",
    "holds_provided_data": "on",
    "connector": "demo_app",
    "active": "on",
}


def _config(**erasure_of_orders) -> dict:
    config = copy.deepcopy(DEMOCRM_CONFIG)
    orders = next(table for table in config["tables"] if table["name"] == "orders")
    orders["erasure"] = erasure_of_orders
    return config


def _text(response) -> str:
    """What a reader sees: the page without its tags, entities decoded, spaces collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(body))


def test_a_table_kept_without_an_article_17_3_ground_is_refused_and_the_form_keeps_what_was_typed(client, dpo):
    client.force_login(dpo)
    typed = json.dumps(_config(action="keep", reason="We like them"))
    response = client.post(reverse("datasystems:system_new"), {**FORM, "connector_config": typed})
    assert response.status_code == 400
    page = _text(response)
    assert 'Table "orders": data kept or anonymised needs an Article 17(3) ground' in page
    assert "We like them" in page and "Customer accounts and orders" in page
    assert not DataSystem.objects.exists()


def test_a_rule_naming_a_column_the_system_does_not_have_is_refused_by_the_connectors_own_check(client, dpo):
    client.force_login(dpo)
    typed = _config(
        action="anonymise",
        fields={"shoe_size": "null"},
        ground="erasure_legal_obligation",
        reason="Invoices are kept six years.",
    )
    response = client.post(reverse("datasystems:system_new"), {**FORM, "connector_config": json.dumps(typed)})
    assert response.status_code == 400
    page = _text(response)
    assert "The connector refuses this configuration" in page and "shoe_size" in page
    assert not DataSystem.objects.exists()


def test_the_dpo_saves_the_rules_and_the_backups_roll_off_and_the_history_names_the_changed_rules(client, dpo):
    client.force_login(dpo)
    response = client.post(
        reverse("datasystems:system_new"),
        {**FORM, "connector_config": json.dumps(DEMOCRM_CONFIG), "backup_roll_off_days": "35"},
    )
    assert response.status_code == 302
    system = DataSystem.objects.get()
    assert system.backup_roll_off_days == 35
    assert system.connector_config == DEMOCRM_CONFIG

    # The orders are now kept whole: the history says whose rules changed, not every field of the form.
    changed = _config(action="keep", ground="erasure_legal_obligation", reason="Invoices are kept six years.")
    edit = reverse("datasystems:system_edit", args=[system.pk])
    response = client.post(edit, {**FORM, "connector_config": json.dumps(changed), "backup_roll_off_days": ""})
    assert response.status_code == 302, _text(response)[-3000:]
    system.refresh_from_db()
    assert system.backup_roll_off_days == 0  # empty: the system keeps no backups
    last = RegisterChange.objects.filter(system=system).latest("pk")
    assert last.action == RegisterChange.Action.SYSTEM_CHANGED and last.actor == dpo
    assert last.detail == "backup_roll_off_days, change rules of orders"


def test_the_systems_page_says_in_words_what_each_right_does_in_each_table(client, dpo):
    system = services.system_save(
        system=None,
        values={
            **{key: value for key, value in FORM.items() if key not in ("holds_provided_data", "active")},
            "personal_data_categories": ["Name"],
            "connector_config": DEMOCRM_CONFIG,
            "backup_roll_off_days": 35,
        },
        actor=dpo,
    )
    client.force_login(dpo)
    page = _text(client.get(reverse("datasystems:system_detail", args=[system.pk])))
    assert "What erasure, restriction and objection mean here" in page
    # Erasure: anonymised field by field, kept, or deleted, with the Art. 17(3) exception and why.
    assert "orders Kept, anonymised in place: delivery_address emptied payment_reference replaced by a keyed hash" in (
        page
    )
    assert "name set to “Erased customer”" in page
    assert "order_lines Kept as it is. Exception: We must keep the data to comply with a legal obligation" in page
    assert "Why: Invoices and what they were for are accounting records we must keep for six years" in page
    assert "accounts Deleted." in page
    # Restriction, corrections and the marketing objection.
    assert "The flag restricted is set, and cleared when the restriction is lifted." in page
    assert "May change name, phone, date_of_birth, address_line, city, postcode, country." in page
    assert (
        "Adds a row for each channel (channel) with consent no, source “Objection to direct marketing”; "
        "earlier rows stay as the record of consent." in page
    )
    # Art. 21(2)-(3): the marketing profile stops and is cleared; the ad audience entry is excluded.
    assert (
        "Sets offer_propensity to empty, profiling_stopped to yes, segment to empty. (Marketing channel: profiling.)"
        in page
    )
    assert "Sets excluded to yes. (Marketing channel: audiences.)" in page
    assert "until they roll off 35 days later" in page
    section = page.split("What erasure, restriction and objection mean here")[1].split("Purposes and lawful bases")[0]
    assert "keyed_hash" not in section and "erasure_legal_obligation" not in section and "{" not in section


def test_a_manual_systems_page_gives_its_owners_task_and_the_written_method(client, dpo, billing):
    services.system_save(
        system=billing,
        values={"erasure_method": "Finance deletes the account in Sage.", "restriction_method": "Mark it on hold."},
        actor=dpo,
    )
    client.force_login(dpo)
    page = _text(client.get(reverse("datasystems:system_detail", args=[billing.pk])))
    assert "The system's owner makes each change by hand" in page
    assert "How erasure works there Finance deletes the account in Sage." in page
    assert "How restriction works there Mark it on hold." in page
    assert "No backups recorded." in page


def test_only_the_dpo_changes_the_rules(client, crm, handler, auditor, system_owner):
    edit = reverse("datasystems:system_edit", args=[crm.pk])
    values = {**FORM, "name": "CRM", "connector_config": json.dumps(DEMOCRM_CONFIG), "backup_roll_off_days": "9"}
    for user in (handler, auditor, system_owner):
        client.force_login(user)
        assert client.post(edit, values).status_code == 403
    crm.refresh_from_db()
    assert crm.backup_roll_off_days == 0 and crm.connector_config != DEMOCRM_CONFIG
    # The owner and the auditor still read the rules on the system's page.
    for user in (auditor, system_owner):
        client.force_login(user)
        assert "What erasure, restriction and objection mean here" in _text(
            client.get(reverse("datasystems:system_detail", args=[crm.pk]))
        )
