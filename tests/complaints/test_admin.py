"""Staff read complaints in the admin; only those allowed see what the complainant wrote."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from complaints import services
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def _staff(*perms):
    user = StaffUserFactory()
    user.user_permissions.add(
        Permission.objects.get(codename="view_complaint"),
        *(Permission.objects.get(codename=codename) for codename in perms),
    )
    return user


def _complaint():
    return services.complaint_submit(
        submission=services.ComplaintSubmission(name="Ada Lovelace", email="ada@example.com", text="Misdirected mail.")
    )


def test_staff_without_the_permission_see_the_complaint_but_not_what_the_person_wrote(client):
    complaint = _complaint()
    client.force_login(_staff())

    page = client.get(reverse("admin:complaints_complaint_change", args=[complaint.pk])).content.decode()

    assert complaint.reference in page
    assert "Misdirected mail." not in page and "ada@example.com" not in page
    assert "hidden: needs permission" in page


def test_staff_with_the_permission_read_the_complaint_but_cannot_change_it(client):
    complaint = _complaint()
    client.force_login(_staff("view_complainant_data"))

    page = client.get(reverse("admin:complaints_complaint_change", args=[complaint.pk])).content.decode()

    assert "Misdirected mail." in page and "ada@example.com" in page
    assert 'name="_save"' not in page
    assert client.get(reverse("admin:complaints_complaint_add")).status_code == 403
