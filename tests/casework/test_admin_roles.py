"""Roles are changed on the people page only: the admin's user page cannot give a group or activate an account."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from casework import roles
from tests.factories import StaffUserFactory, give_second_factor

pytestmark = pytest.mark.django_db


def test_the_admin_user_page_cannot_give_a_role_unlogged(client):
    dpo = StaffUserFactory(username="dpo-admin")
    dpo.groups.add(Group.objects.get(name=roles.DPO))
    colleague = StaffUserFactory(username="colleague")
    client.force_login(dpo)
    give_second_factor(client)
    url = reverse("admin:auth_user_change", args=[colleague.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b"People page" in page.content

    response = client.post(
        url,
        {
            "username": "colleague",
            "first_name": "",
            "last_name": "",
            "email": "",
            "is_staff": "on",
            "is_active": "on",
            "is_superuser": "on",
            "groups": [Group.objects.get(name=roles.DPO).pk],
        },
    )

    assert response.status_code == 302
    colleague.refresh_from_db()
    assert not colleague.is_superuser
    assert not colleague.groups.exists()
