"""The deployment of README's Production section: `check --deploy` is clean with its environment, HTTPS is set from
the environment, and what answers someone in particular is never stored by a cache."""

import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from hiboo_connect.environment import env_proxy_header
from tests.api.conftest import ApiClient, new_api_key
from tests.services import production_settings


def readme_production_environment() -> dict[str, str]:
    """The variables of the README's ```env block, the production environment it documents."""
    readme = (settings.BASE_DIR / "README.md").read_text()
    (block,) = re.findall(r"```env\n(.*?)```", readme, flags=re.DOTALL)
    pairs = (line.split("=", 1) for line in block.splitlines() if line.strip() and not line.startswith("#"))
    return dict(pairs)


def test_check_deploy_is_clean_with_the_readme_production_environment(tmp_path):
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "TEST_"))},
        **readme_production_environment(),
        "SECRET_KEY": secrets.token_urlsafe(50),  # the README's is a placeholder
        "VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_https_settings_come_from_the_environment(monkeypatch):
    production = production_settings(
        monkeypatch,
        SECURE_SSL_REDIRECT="true",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        SECURE_HSTS_PRELOAD="true",
    )
    assert production.SECURE_SSL_REDIRECT is True
    assert production.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    assert (production.SECURE_HSTS_SECONDS, production.SECURE_HSTS_INCLUDE_SUBDOMAINS) == (31536000, True)
    assert production.SECURE_HSTS_PRELOAD is True


def test_https_settings_are_off_unless_set(monkeypatch):
    for name in ("SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    production = production_settings(monkeypatch)
    assert (production.SECURE_SSL_REDIRECT, production.SECURE_PROXY_SSL_HEADER) == (False, None)
    assert production.SECURE_HSTS_SECONDS == 0


def test_an_empty_database_url_means_the_embedded_default(monkeypatch, tmp_path):
    """`DATABASE_URL=` (set but empty, as an env file or a shell often leaves it) is the SQLite file under VAR_DIR,
    not a URL that cannot be read."""
    production = production_settings(monkeypatch, DATABASE_URL="", VAR_DIR=str(tmp_path))
    database = production.DATABASES["default"]
    assert (database["ENGINE"], str(database["NAME"])) == ("django.db.backends.sqlite3", str(tmp_path / "db.sqlite3"))


def test_a_database_url_without_a_scheme_stops_the_start(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL must be a URL"):
        production_settings(monkeypatch, DATABASE_URL="localhost:5432/share")


@pytest.mark.parametrize("raw", ["X-Forwarded-Proto", "X-Forwarded-Proto:", ": https", "X Forwarded: https"])
def test_a_malformed_proxy_header_stops_the_start(monkeypatch, raw):
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", raw)
    with pytest.raises(ImproperlyConfigured, match="SECURE_PROXY_SSL_HEADER"):
        env_proxy_header("SECURE_PROXY_SSL_HEADER")


def stored_nowhere(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


@pytest.fixture
def logged_in(client, owner_admin):
    client.force_login(owner_admin)
    return client


def test_a_logged_in_page_is_not_stored(logged_in):
    assert stored_nowhere(logged_in.get(reverse("home")))


def test_the_share_centre_export_is_not_stored(logged_in):
    assert stored_nowhere(logged_in.get(reverse("sharing:export")))


def test_a_machine_export_is_not_stored(logged_in, machine):
    assert stored_nowhere(logged_in.get(reverse("fleet:machine_export", args=[machine.pk])))


def test_the_page_that_shows_a_new_api_key_is_not_stored(logged_in):
    response = logged_in.post(reverse("accounts:api_keys"), {"name": "ERP sync", "role": "admin"})
    assert response.status_code == 201
    assert stored_nowhere(response)


def test_api_answers_are_not_stored(client, owner_org):
    api = ApiClient(new_api_key(owner_org, "ERP sync")[1], client)
    assert stored_nowhere(api.get("sharings"))


def test_api_refusals_are_not_stored(client, db):
    assert stored_nowhere(ApiClient(None, client).get("sharings"))
