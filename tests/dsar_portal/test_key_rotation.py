"""Rotating the encryption key: old data stays readable, and the command moves it to the new key."""

import pytest
from django.core.management import call_command
from django.db import connection

from dsar_portal.crypto import generate_key, parse_key_list
from requests_app.models import DataSubjectRequest
from tests.factories import submitted_request

pytestmark = pytest.mark.django_db


def _raw_name(request_id: int) -> str:
    table = DataSubjectRequest._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT requester_name FROM {table} WHERE id = %s", [request_id])  # noqa: S608
        return cursor.fetchone()[0]


def test_rotation_re_encrypts_personal_data_under_the_new_key(settings):
    old = parse_key_list(f"old:{generate_key()}")
    settings.FIELD_ENCRYPTION_KEYS = old
    request = submitted_request(name="Rosalind Franklin")
    assert _raw_name(request.pk).startswith("v1:old:")

    settings.FIELD_ENCRYPTION_KEYS = {**parse_key_list(f"new:{generate_key()}"), **old}
    # Still readable before rotation: old keys decrypt.
    assert DataSubjectRequest.objects.get(pk=request.pk).requester_name == "Rosalind Franklin"

    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))

    assert _raw_name(request.pk).startswith("v1:new:")
    # The old key can now be retired.
    settings.FIELD_ENCRYPTION_KEYS = {"new": settings.FIELD_ENCRYPTION_KEYS["new"]}
    assert DataSubjectRequest.objects.get(pk=request.pk).requester_name == "Rosalind Franklin"
