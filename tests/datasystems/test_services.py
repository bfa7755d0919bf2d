"""The register's rules (GDPR Art. 9, 13, 14, 15, 30) and the privacy notice's versions."""

import pytest
from django.core.exceptions import ValidationError

from datasystems import selectors, services
from datasystems.models import Art9Condition, DataSystem, LawfulBasis, PrivacyNoticeVersion, SystemRecipient
from organisation.selectors import organisation_get

from .conftest import SYSTEM

pytestmark = pytest.mark.django_db


def test_special_category_data_need_an_article_9_condition(dpo):
    with pytest.raises(ValidationError) as error:
        services.system_save(system=None, values={**SYSTEM, "special_category": True}, actor=dpo)
    assert "art9_condition" in error.value.message_dict
    saved = services.system_save(
        system=None,
        values={**SYSTEM, "special_category": True, "art9_condition": Art9Condition.EXPLICIT_CONSENT},
        actor=dpo,
    )
    assert saved.pk


def test_automated_decisions_are_never_recorded_without_their_logic(dpo):
    """C-203/22: the existence of automated decisions comes with meaningful information about the logic."""
    with pytest.raises(ValidationError) as error:
        services.system_save(system=None, values={**SYSTEM, "automated_decisions": True}, actor=dpo)
    assert "automated_logic" in error.value.message_dict


def test_a_system_name_is_unique(dpo, crm):
    with pytest.raises(ValidationError):
        services.system_save(system=None, values=SYSTEM, actor=dpo)
    assert DataSystem.objects.count() == 1


def test_linking_a_recipient_twice_updates_what_they_receive(dpo, crm):
    link = crm.disclosures.get()
    services.system_recipient_link(system=crm, recipient=link.recipient, disclosed="name and e-mail", actor=dpo)
    assert SystemRecipient.objects.get().disclosed == "name and e-mail"


def test_supplementary_information_names_recipients_bases_and_safeguards(crm):
    """Art. 15(1)(a)-(h), 15(2): per system, from the register; recipients by name (C-154/21)."""
    (disclosure,) = selectors.supplementary_information([crm])
    assert disclosure.name == "CRM"
    assert disclosure.categories == ("Name", "E-mail address")
    assert disclosure.from_the_person
    assert [p.lawful_basis for p in disclosure.purposes] == [LawfulBasis.CONTRACT]
    assert "6(1)(b)" in disclosure.purposes[0].lawful_basis_label
    (recipient,) = disclosure.recipients
    assert (recipient.name, recipient.disclosed, recipient.email) == (
        "Mailwise Inc.",
        "your e-mail address",
        "dpo@mailwise.example",
    )
    (transfer,) = disclosure.transfers
    assert transfer.country == "United States"
    assert "UK Addendum" in transfer.safeguard_label


def test_supplementary_information_reads_in_a_fixed_number_of_queries(dpo, crm, billing, django_assert_num_queries):
    systems = list(DataSystem.objects.all())
    with django_assert_num_queries(4):
        assert len(selectors.supplementary_information(systems)) == 2


def test_the_notice_is_generated_from_the_register_and_the_organisation(crm, billing):
    """Art. 13/14: purposes and bases, categories, source, recipients by name, retention, transfers and their
    safeguard, the rights, the DPO, the EU representative, our complaint form and the supervisory authority."""
    organisation = organisation_get()
    organisation.eu_representative_name = "EU Rep Ltd"
    organisation.eu_representative_email = "rep@example.eu"
    organisation.save()
    services.system_save(
        system=billing,
        values={"source": "Bought from LeadSource Data Ltd", "automated_decisions": True, "automated_logic": "A score"},
        actor=crm.owner,
    )
    html = services.notice_render()
    for expected in (
        "CRM",
        "Managing your account",
        "Article 6(1)(b)",
        "Name; E-mail address",
        "Mailwise Inc.",
        "dpo@mailwise.example",
        "6 years after the account closes",
        "United States",
        "UK Addendum",
        "Bought from LeadSource Data Ltd",
        "A score",
        "EU Rep Ltd",
        "rep@example.eu",
        organisation.dpo_email,
        organisation.supervisory_authority_url,
        "/complaints/new/",
        "/privacy/",
        "ask for a person to review it",
    ):
        assert expected in html, expected


def test_a_system_no_longer_in_use_leaves_the_notice(dpo, crm, billing):
    services.system_save(system=billing, values={"active": False}, actor=dpo)
    html = services.notice_render()
    assert "CRM" in html and "Billing" not in html


def test_publishing_makes_numbered_immutable_versions(dpo, crm):
    first = services.notice_publish(actor=dpo, summary="First")
    assert (first.number, first.published_by) == (1, dpo)
    # Nothing changed: nothing new to publish.
    with pytest.raises(services.NoticeUnchanged):
        services.notice_publish(actor=dpo, summary="Again")
    services.purpose_add(
        system=crm, values={"description": "Fraud checks", "lawful_basis": LawfulBasis.LEGAL_OBLIGATION}, actor=dpo
    )
    second = services.notice_publish(actor=dpo, summary="Fraud checks added")
    assert second.number == 2
    assert "Fraud checks" in second.html and "Fraud checks" not in PrivacyNoticeVersion.objects.get(number=1).html
    first.summary = "rewritten"
    with pytest.raises(ValidationError):
        first.save()
    with pytest.raises(ValidationError):
        first.delete()
    assert PrivacyNoticeVersion.objects.count() == 2
    assert selectors.notice_latest() == second


def test_each_role_sees_the_systems_it_may(dpo, auditor, system_owner, handler, crm, billing):
    assert set(selectors.systems_visible_to(dpo)) == {crm, billing}
    assert set(selectors.systems_visible_to(auditor)) == {crm, billing}
    assert list(selectors.systems_visible_to(system_owner)) == [crm]
    assert not selectors.systems_visible_to(handler).exists()


def test_every_change_to_the_register_is_in_its_history(dpo, crm):
    """Art. 5(2): who changed the record of processing, and what; a repeated removal records nothing twice."""
    from datasystems.models import RegisterChange

    purpose = crm.purposes.get()
    services.purpose_remove(system=crm, purpose_id=purpose.pk, actor=dpo)
    services.purpose_remove(system=crm, purpose_id=purpose.pk, actor=dpo)
    services.system_save(system=crm, values={"retention": "7 years"}, actor=dpo)
    services.notice_publish(actor=dpo, summary="First")
    actions = list(RegisterChange.objects.order_by("pk").values_list("action", flat=True))
    assert actions == [
        "system_added",
        "purpose_added",
        "recipient_saved",
        "recipient_linked",
        "transfer_added",
        "purpose_removed",
        "system_changed",
        "notice_published",
    ]
    assert RegisterChange.objects.filter(actor=dpo).count() == len(actions)
    assert RegisterChange.objects.get(action="system_changed").detail == "retention"


def test_the_roles_get_the_registers_permissions_once_its_app_has_migrated(db):
    """casework's post_migrate comes before datasystems' permissions exist: the roles are set on the last app's."""
    from django.apps import apps
    from django.contrib.auth.models import Group

    from casework.roles import AUDITOR, SYSTEM_OWNER, roles_ensure_after_migrate

    Group.objects.all().delete()
    roles_ensure_after_migrate(sender=apps.get_app_config("casework"))
    assert not Group.objects.exists()
    # A system owner's role also holds fulfilment's permission to work search tasks...
    roles_ensure_after_migrate(sender=apps.get_app_config("datasystems"))
    assert not Group.objects.exists()
    roles_ensure_after_migrate(sender=apps.get_app_config("fulfilment"))
    assert not Group.objects.exists()
    # ...and the change engine's permission to carry changes out by hand (issue 13)...
    roles_ensure_after_migrate(sender=apps.get_app_config("changes"))
    assert not Group.objects.exists()
    # ...and retention's legal hold (issue 13), the last app whose permissions the roles hold.
    roles_ensure_after_migrate(sender=apps.get_app_config("retention"))
    auditor = Group.objects.get(name=AUDITOR).permissions.filter(content_type__app_label="datasystems")
    assert set(auditor.values_list("codename", flat=True)) == {"view_datasystem", "view_privacynoticeversion"}
    owner = Group.objects.get(name=SYSTEM_OWNER).permissions.values_list("codename", flat=True)
    assert set(owner) == {"view_own_systems", "work_search_tasks", "work_change_tasks"}
