"""Sessions: a new id at login, logout ends the session, a password change ends the others.
Also: Argon2 hashes passwords, and production settings pass `check --deploy`."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from vinculo.accounts.models import User
from vinculo.accounts.testing import PASSWORD

NEW_PASSWORD = "an entirely new passphrase 99"
BASE_DIR = Path(__file__).resolve().parents[3]


def session_cookie(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def log_in(client: Client, email: str, password: str = PASSWORD) -> None:
    response = client.post(reverse("accounts:login"), {"email": email, "password": password})
    assert response.status_code == 302


def is_logged_in(client: Client, org) -> bool:
    response = client.get(reverse("org:settings", args=[org.slug]))
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_login_gives_a_new_session_id(actor, org):
    client = Client()
    anonymous = client.session  # an anonymous session, e.g. one an attacker planted
    anonymous["planted"] = True
    anonymous.save()
    before = session_cookie(client)

    log_in(client, actor.user.email)

    after = session_cookie(client)
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert Session.objects.get(session_key=after).get_decoded()[SESSION_KEY] == str(actor.user.pk)
    # the old id does not carry the login
    planted = Client()
    planted.cookies[settings.SESSION_COOKIE_NAME] = before
    assert not is_logged_in(planted, org)


def test_logout_invalidates_the_session(actor, org):
    client = Client()
    log_in(client, actor.user.email)
    old = session_cookie(client)
    assert is_logged_in(client, org)

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert not Session.objects.filter(session_key=old).exists()
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old
    assert not is_logged_in(replay, org)
    assert not is_logged_in(client, org)


def test_logout_needs_post(actor, org):
    client = Client()
    log_in(client, actor.user.email)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert is_logged_in(client, org)


def test_password_change_ends_other_sessions_and_keeps_this_one(actor, org):
    laptop, phone = Client(), Client()
    log_in(laptop, actor.user.email)
    log_in(phone, actor.user.email)
    laptop_before = session_cookie(laptop)

    response = laptop.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert is_logged_in(laptop, org)
    assert session_cookie(laptop) != laptop_before  # and it got a fresh id too
    assert not is_logged_in(phone, org)
    assert User.objects.get(pk=actor.user.pk).check_password(NEW_PASSWORD)
    log_in(Client(), actor.user.email, NEW_PASSWORD)


def test_password_change_with_bad_input_changes_nothing(actor, org):
    client = Client()
    log_in(client, actor.user.email)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "wrong old password", "new_password1": "short", "new_password2": "other"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_old_password_error"' in html
    assert 'id="id_new_password2_error"' in html
    assert User.objects.get(pk=actor.user.pk).check_password(PASSWORD)
    assert is_logged_in(client, org)


def test_passwords_are_hashed_with_argon2(db):
    import config.settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    client = Client()
    client.post(
        reverse("accounts:signup"),
        {
            "full_name": "Ada",
            "email": "ada@example.com",
            "password": NEW_PASSWORD,
            "organization_name": "Ada Ltd",
            "language": "en",
        },
    )
    user = User.objects.get(email="ada@example.com")
    assert user.password.startswith("argon2$argon2id$")
    assert NEW_PASSWORD not in user.password


def _check_deploy(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "DATABASE_URL",
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "VINCULO_ALLOW_PRIVATE_TARGETS",
        }
    }
    env.update(
        VINCULO_HTTPS="1",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="crm.example.com",
        VINCULO_VAR_DIR=str(tmp_path),
        **extra,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_check_deploy(tmp_path):
    result = _check_deploy(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_with_debug_on(tmp_path):
    """The test above would catch a regression: with DEBUG on, the same check fails."""
    result = _check_deploy(tmp_path, DEBUG="1")
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr


@pytest.mark.parametrize("path", ["accounts:login", "accounts:signup"])
def test_auth_pages_are_not_framed(db, path):
    response = Client().get(reverse(path))
    assert response["X-Frame-Options"] == "DENY"
