"""Staff sign in with a password and a second factor in Chromium; the sign-in and MFA pages pass axe."""

import re
import time

import pyotp
from playwright.sync_api import expect

from dsar_portal.staff_auth import totp_authenticator_add
from tests.factories import StaffUserFactory

from .support import assert_accessible

PASSWORD = "a long staff passphrase 42"


def _staff(username: str):
    user = StaffUserFactory(username=username, second_factor=False, is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def _sign_in_with_password(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff sign-in")
    assert_accessible(page, "staff sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_the_dpo_signs_in_with_a_password_and_a_code_from_the_authenticator_app(page, live_server):
    secret = pyotp.random_base32()
    totp_authenticator_add(user=_staff("dpo"), secret=secret)

    _sign_in_with_password(page, live_server, "dpo")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    assert_accessible(page, "second factor")

    page.get_by_label("Code").fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.get_by_role("button", name=re.compile("Sign In", re.I)).click()
    expect(page.get_by_text("Incorrect code")).to_be_visible()
    assert_accessible(page, "second factor, wrong code")

    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=re.compile("Sign In", re.I)).click()
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()


def test_a_new_staff_member_sets_up_an_authenticator_app_before_any_staff_page(page, live_server):
    _staff("newcomer")
    _sign_in_with_password(page, live_server, "newcomer")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
    assert_accessible(page, "authenticator set-up")

    secret = page.get_by_label("Authenticator secret").input_value()
    page.get_by_label("Authenticator code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activate").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/"))
    assert_accessible(page, "two-factor overview")

    page.goto(f"{live_server.url}/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()


def test_adding_a_passkey_asks_for_the_factor_again_and_its_page_keeps_the_csp(page, live_server):
    """allauth's passkey page runs its scripts as static files (the CSP allows no inline script); axe passes."""
    secret = pyotp.random_base32()
    totp_authenticator_add(user=_staff("keyholder"), secret=secret)
    _sign_in_with_password(page, live_server, "keyholder")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=re.compile("Sign In", re.I)).click()
    expect(page).to_have_url(f"{live_server.url}/admin/")

    page.goto(f"{live_server.url}/accounts/2fa/webauthn/add/")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/reauthenticate/"))
    assert_accessible(page, "step-up")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/webauthn/add/"))
    assert_accessible(page, "add a passkey")
