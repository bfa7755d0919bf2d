"""Staff sign in with a password and a mandatory second factor (django-allauth MFA), step up for evidence,
are throttled when they guess, and are signed out when idle (GDPR Art. 32(1)(b))."""

import io
import time

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from dsar_portal import crypto
from dsar_portal.crypto import generate_key, parse_key_list
from dsar_portal.middleware import LAST_SEEN_SESSION_KEY
from dsar_portal.staff_auth import FACTOR_GIVEN_AT_SESSION_KEY, totp_authenticator_add
from identity import services as identity_services
from requests_app.models import DocumentPurpose
from tests.factories import StaffUserFactory, document_asked_request, give_second_factor, png_upload

pytestmark = pytest.mark.django_db

PASSWORD = "a long staff passphrase 42"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _staff(*perms: str, second_factor: bool = True):
    user = StaffUserFactory(second_factor=False)
    user.set_password(PASSWORD)
    user.save()
    # Every member of staff here may open the staff area (the queue, and the case pages with their identity panel).
    for codename in (*perms, "view_staff_area"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    if second_factor:
        totp_authenticator_add(user=user, secret=SECRET)
    return type(user).objects.get(pk=user.pk)


def _password(client, user, next_url="/admin/"):
    return client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD, "next": next_url})


def _code(offset_seconds: int = 0) -> str:
    return pyotp.TOTP(SECRET).at(time.time() + offset_seconds)


def test_a_staff_account_without_a_second_factor_is_sent_to_set_one_up_before_any_staff_page(client):
    user = _staff("decide_verification", second_factor=False)
    assert _password(client, user)["Location"] == "/admin/"

    for url in ("/admin/", reverse("casework:queue")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")

    # The set-up page opens straight after the password (there is no factor yet to ask for) ...
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    secret = client.session["mfa.totp.secret"]
    response = client.post(reverse("mfa_activate_totp"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    # ... and once the authenticator app is added, the staff pages open.
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert client.get("/admin/").status_code == 200
    assert client.get(reverse("casework:queue")).status_code == 200


def test_with_an_authenticator_app_the_password_alone_opens_nothing_and_a_wrong_code_is_refused(client):
    user = _staff("decide_verification")
    response = _password(client, user)
    assert response["Location"] == reverse("mfa_authenticate")
    # Between the password and the code the person is not signed in.
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert client.get(reverse("casework:queue"))["Location"].startswith(reverse("account_login"))

    wrong = "000000" if _code() != "000000" else "111111"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert "_auth_user_id" not in client.session

    response = client.post(reverse("mfa_authenticate"), {"code": _code()})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get(reverse("casework:queue")).status_code == 200


def test_the_admin_login_page_sends_people_to_the_sign_in_with_a_second_factor(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    # Its own form cannot be used to get round the second factor.
    user = _staff()
    response = client.post("/admin/login/", {"username": user.username, "password": PASSWORD, "next": "/admin/"})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 302


def test_sign_up_is_closed(client):
    response = client.get(reverse("account_signup"))
    assert "Sign Up Closed" in response.content.decode()
    client.post(reverse("account_signup"), {"username": "intruder", "password1": PASSWORD, "password2": PASSWORD})
    assert not StaffUserFactory._meta.model.objects.filter(username="intruder").exists()
    assert "sign up" not in client.get(reverse("account_login")).content.decode().lower()


def test_the_totp_secret_is_stored_encrypted_under_the_portals_keys():
    user = _staff()
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT data FROM {Authenticator._meta.db_table} WHERE id = %s", [authenticator.pk])
        raw = cursor.fetchone()[0]
    raw = raw if isinstance(raw, str) else str(raw)
    assert SECRET not in raw
    assert crypto.decrypt(authenticator.data["secret"]) == SECRET


def test_viewing_evidence_asks_for_a_factor_again_once_the_step_up_window_has_passed(client, settings):
    request = document_asked_request(email="stranger@example.com")
    document = identity_services.request_evidence_upload(
        request=request, document=png_upload(), purpose=DocumentPurpose.IDENTITY_EVIDENCE
    )
    url = reverse("casework:evidence_document", args=[request.reference, document.storage_key.removesuffix(".bin")])
    user = _staff("decide_verification", "view_evidence")
    _password(client, user, next_url=url)
    client.post(reverse("mfa_authenticate"), {"code": _code()})
    # Just signed in with a factor: the evidence opens.
    assert client.get(url).status_code == 200

    # Later than the window: a factor is asked for again, and the password is not enough.
    session = client.session
    session[FACTOR_GIVEN_AT_SESSION_KEY] = time.time() - settings.ACCOUNT_REAUTHENTICATION_TIMEOUT - 1
    session.save()
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert client.get(reverse("account_reauthenticate")).status_code == 403

    # A wrong code is refused; the next code from the app opens it again.
    client.post(reverse("mfa_reauthenticate"), {"code": "000000" if _code(30) != "000000" else "111111"})
    assert client.get(url).status_code == 302
    client.post(reverse("mfa_reauthenticate"), {"code": _code(30)})
    assert client.get(url).status_code == 200


def test_failed_sign_ins_are_throttled_even_for_the_right_password(client):
    user = _staff()
    for _ in range(5):
        response = client.post(reverse("account_login"), {"login": user.username, "password": "wrong guess"})
        assert response.status_code == 200
    response = _password(client, user)
    assert response.status_code in (200, 429)
    assert response.get("Location") != reverse("mfa_authenticate")


def test_an_idle_staff_session_ends_and_asks_for_a_new_sign_in(client, settings):
    user = _staff("decide_verification")
    client.force_login(user)
    give_second_factor(client)
    queue = reverse("casework:queue")
    assert client.get(queue).status_code == 200

    session = client.session
    session[LAST_SEEN_SESSION_KEY] = time.time() - settings.DSAR_STAFF_IDLE_MINUTES * 60 - 1
    session.save()
    response = client.get(queue)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    assert client.get(queue)["Location"].startswith(reverse("account_login"))


def test_a_staff_session_in_use_stays_signed_in(client):
    user = _staff("decide_verification")
    client.force_login(user)
    for _ in range(3):
        assert client.get(reverse("casework:queue")).status_code == 200


def test_rotating_the_encryption_key_re_seals_totp_secrets_and_the_code_still_works(client, settings):
    old = parse_key_list(f"old:{generate_key()}")
    settings.FIELD_ENCRYPTION_KEYS = old
    user = _staff()
    assert Authenticator.objects.get(user=user).data["secret"].startswith("v1:old:")

    settings.FIELD_ENCRYPTION_KEYS = {**parse_key_list(f"new:{generate_key()}"), **old}
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    assert Authenticator.objects.get(user=user).data["secret"].startswith("v1:new:")

    # The old key is retired; signing in with the app's code still works.
    settings.FIELD_ENCRYPTION_KEYS = {"new": settings.FIELD_ENCRYPTION_KEYS["new"]}
    _password(client, user)
    assert client.post(reverse("mfa_authenticate"), {"code": _code()})["Location"] == "/admin/"
