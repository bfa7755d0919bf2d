"""The portal's shell: pages load, headers protect visitors, nothing loads from another host."""

import re
import subprocess
import sys

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_start_page_names_the_organisation_and_its_privacy_contact(client):
    response = client.get(reverse("requests_app:start"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert 'href="#main-content"' in html and 'id="main-content"' in html
    assert "Example Organisation Ltd" in html
    assert "mailto:privacy@example.org" in html


def test_security_headers_are_sent(client):
    response = client.get(reverse("requests_app:start"))
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "default-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "url_name,args",
    [
        ("requests_app:start", []),
        ("requests_app:request_create", ["access"]),
        ("requests_app:status_lost_link", []),
    ],
)
def test_pages_load_nothing_from_another_host(client, url_name, args):
    html = client.get(reverse(url_name, args=args)).content.decode()
    for match in re.finditer(r'(?:src|href)="([^"]+)"', html):
        url = match.group(1)
        assert not url.startswith(("http://", "https://", "//")), url
    assert "<style" not in html and " style=" not in html  # CSP allows no inline styles


def test_bootstrap_is_served_by_the_portal_itself(client):
    from django.contrib.staticfiles import finders

    assert finders.find("vendor/bootstrap/css/bootstrap.min.css"), "run npm ci (make setup)"


def _settings_import(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django; from django.conf import settings; settings.SECRET_KEY"],
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "dsar_portal.settings", **env},
        capture_output=True,
        text=True,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _settings_import({"DJANGO_DEBUG": "0", "DSAR_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_encryption_keys(tmp_path):
    result = _settings_import({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "x" * 60, "DSAR_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr


def test_production_settings_pass_the_deploy_check(tmp_path):
    from dsar_portal.crypto import generate_key

    env = {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": generate_key() + generate_key(),
        "DJANGO_ALLOWED_HOSTS": "dsar.example.org",
        "FIELD_ENCRYPTION_KEYS": f"k1:{generate_key()}",
        "FIELD_HASH_KEY": generate_key(),
        "DSAR_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_healthz(client):
    assert client.get("/healthz").json()["status"] == "ok"


def test_a_form_sent_without_its_security_token_gets_a_styled_page_that_says_what_to_do():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/request/access/", {"name": "Ada"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "reload the page and send the form again" in html
    assert " style=" not in html and "<style" not in html  # nothing the CSP would block
