"""The DPO's people page (issue 11, roles): staff and their roles, changed only by the DPO, only after a fresh second
factor (step-up), every change in the accountability log, and never leaving the portal without an active DPO."""

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.urls import reverse

from casework import roles, services
from casework.models import StaffRoleChange
from dsar_portal import crypto
from tests.factories import StaffUserFactory, give_second_factor

pytestmark = pytest.mark.django_db

PEOPLE = reverse("casework:people")


def _form(person, *role_names: str, active: bool = True) -> dict:
    data = {"person": person.pk, f"person-{person.pk}-roles": list(role_names)}
    if active:
        data[f"person-{person.pk}-is_active"] = "on"
    return data


def _role_names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


@pytest.mark.parametrize("who", ["handler", "auditor", "system_owner"])
def test_only_the_dpo_may_open_or_post_the_people_page(client, request, who, handler):
    user = request.getfixturevalue(who)
    client.force_login(user)
    give_second_factor(client)

    assert client.get(PEOPLE).status_code == 403
    assert client.post(PEOPLE, _form(handler, roles.DPO)).status_code == 403
    assert _role_names(handler) == {roles.CASE_HANDLER}
    assert not StaffRoleChange.objects.exists()


def test_the_people_page_asks_for_a_factor_again_without_a_recent_one(client, dpo, handler):
    client.force_login(dpo)  # signed in, but no factor given within the step-up window

    page = client.get(PEOPLE)
    change = client.post(PEOPLE, _form(handler, roles.AUDITOR))

    for response in (page, change):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert _role_names(handler) == {roles.CASE_HANDLER}
    assert not StaffRoleChange.objects.exists()


def test_the_dpo_sees_staff_with_their_roles_and_the_people_link(client, dpo, handler, auditor):
    client.force_login(dpo)
    give_second_factor(client)

    response = client.get(PEOPLE)

    assert response.status_code == 200
    html = response.content.decode()
    assert "handler-a" in html and "auditor" in html and roles.CASE_HANDLER in html
    assert f'href="{PEOPLE}"' in html  # the nav entry


def test_the_people_link_is_the_dpos_only(client, handler):
    client.force_login(handler)
    assert f'href="{PEOPLE}"' not in client.get(reverse("casework:queue")).content.decode()


def test_the_dpo_changes_roles_and_the_change_is_logged_and_shown(client, dpo, handler):
    client.force_login(dpo)
    give_second_factor(client)

    response = client.post(PEOPLE, _form(handler, roles.AUDITOR, roles.SYSTEM_OWNER), follow=True)

    assert response.status_code == 200
    assert _role_names(handler) == {roles.AUDITOR, roles.SYSTEM_OWNER}
    change = StaffRoleChange.objects.get()
    assert (change.user, change.changed_by) == (handler, dpo)
    assert change.from_roles == [roles.CASE_HANDLER]
    assert change.to_roles == sorted([roles.AUDITOR, roles.SYSTEM_OWNER])
    assert change.was_active and change.is_active
    log = response.content.decode().split("Log of role changes")[1]
    assert "handler-a" in log and "Auditor, System owner" in log


def test_the_dpo_deactivates_an_account_and_it_can_no_longer_open_the_staff_area(client, dpo, handler):
    client.force_login(dpo)
    give_second_factor(client)

    client.post(PEOPLE, _form(handler, roles.CASE_HANDLER, active=False))

    handler.refresh_from_db()
    assert not handler.is_active
    change = StaffRoleChange.objects.get()
    assert change.was_active and not change.is_active
    client.force_login(handler)
    assert client.get(reverse("casework:queue")).status_code in (302, 403)


def test_an_unchanged_form_records_nothing(client, dpo, handler):
    client.force_login(dpo)
    give_second_factor(client)
    client.post(PEOPLE, _form(handler, roles.CASE_HANDLER))
    assert not StaffRoleChange.objects.exists()


def test_other_groups_a_person_has_are_kept(dpo, handler):
    other = Group.objects.create(name="Newsletter editors")
    handler.groups.add(other)
    services.staff_roles_set(user=handler, roles_wanted=[roles.AUDITOR], is_active=True, actor=dpo)
    assert _role_names(handler) == {roles.AUDITOR, "Newsletter editors"}


def test_the_last_dpo_cannot_remove_their_own_dpo_role_or_deactivate_themselves(client, dpo):
    client.force_login(dpo)
    give_second_factor(client)

    response = client.post(PEOPLE, _form(dpo, roles.CASE_HANDLER))
    assert response.status_code == 400
    assert "last active DPO" in response.content.decode()
    response = client.post(PEOPLE, _form(dpo, roles.DPO, active=False))
    assert response.status_code == 400

    dpo.refresh_from_db()
    assert _role_names(dpo) == {roles.DPO} and dpo.is_active
    assert not StaffRoleChange.objects.exists()


def test_with_a_second_dpo_a_dpo_may_step_down(client, dpo):
    second = StaffUserFactory(username="dpo-2")
    services.staff_roles_set(user=second, roles_wanted=[roles.DPO], is_active=True, actor=dpo)
    client.force_login(dpo)
    give_second_factor(client)

    response = client.post(PEOPLE, _form(dpo, roles.AUDITOR))

    assert response.status_code == 302
    assert _role_names(dpo) == {roles.AUDITOR}
    # Now dpo-2 is the last DPO, and cannot be removed by anyone.
    with pytest.raises(services.RoleChangeError):
        services.staff_roles_set(user=second, roles_wanted=[], is_active=True, actor=second)


def test_a_deactivated_dpo_does_not_count_as_the_other_dpo(dpo):
    dormant = StaffUserFactory(username="dpo-dormant", is_active=False)
    dormant.groups.add(Group.objects.get(name=roles.DPO))
    with pytest.raises(services.RoleChangeError):
        services.staff_roles_set(user=dpo, roles_wanted=[], is_active=True, actor=dpo)


def test_the_service_refuses_staff_without_the_permission_and_accounts_that_are_not_staff(dpo, handler, auditor):
    with pytest.raises(PermissionError):
        services.staff_roles_set(user=auditor, roles_wanted=[roles.DPO], is_active=True, actor=handler)
    outsider = StaffUserFactory(username="not-staff", is_staff=False)
    with pytest.raises(services.RoleChangeError):
        services.staff_roles_set(user=outsider, roles_wanted=[roles.DPO], is_active=True, actor=dpo)
    with pytest.raises(services.RoleChangeError):
        services.staff_roles_set(user=handler, roles_wanted=["Superuser"], is_active=True, actor=dpo)


def test_after_the_factor_is_given_again_the_role_change_goes_through(client, dpo, handler):
    """allauth keeps the POST sent without a fresh factor and sends it again once the factor is given."""
    secret = crypto.decrypt(Authenticator.objects.get(user=dpo, type=Authenticator.Type.TOTP).data["secret"])
    client.force_login(dpo)

    response = client.post(PEOPLE, _form(handler, roles.AUDITOR))
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert not StaffRoleChange.objects.exists()

    client.post(response["Location"], {"code": pyotp.TOTP(secret).now()})

    assert _role_names(handler) == {roles.AUDITOR}
    assert StaffRoleChange.objects.get().changed_by == dpo


def test_a_form_for_someone_who_is_not_staff_changes_nothing(client, dpo):
    client.force_login(dpo)
    give_second_factor(client)
    outsider = StaffUserFactory(username="outsider", is_staff=False)

    response = client.post(PEOPLE, _form(outsider, roles.DPO), follow=True)

    assert response.status_code == 200
    assert not _role_names(outsider) and not StaffRoleChange.objects.exists()
