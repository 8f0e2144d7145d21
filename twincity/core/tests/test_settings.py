"""Production settings pass Django's deploy checks; SQLite is configured for concurrent writers."""

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=environment, capture_output=True, text=True,
        timeout=120,
    )


def _secret_key() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(50))


def test_check_deploy_reports_nothing_with_production_settings():
    result = _manage("check", "--deploy", DEBUG="0", SECRET_KEY=_secret_key(), ALLOWED_HOSTS="example.org")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout + result.stderr


def test_check_deploy_refuses_the_development_key():
    # The other side: without a SECRET_KEY the development key is used, and the deploy check says so.
    result = _manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="0", ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert "twincity.W001" in result.stdout + result.stderr


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite settings only")
def test_sqlite_takes_the_write_lock_up_front_and_waits_when_busy():
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert "busy_timeout" in options["init_command"]
    assert options["timeout"] >= 5


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite settings only")
@pytest.mark.django_db
def test_the_sqlite_connection_has_a_busy_timeout():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000


def test_production_defaults_are_strict_when_debug_is_off():
    script = (
        "import django, os; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS > 0, s.X_FRAME_OPTIONS)"
    )
    environment = {key: value for key, value in os.environ.items() if key != "DEBUG"}
    environment.update(DEBUG="0", DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run([sys.executable, "-c", script], cwd=BASE_DIR, env=environment, capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.split() == ["False", "True", "True", "True", "True", "DENY"], result.stderr


def test_the_platform_speaks_chinese_first_in_shanghai_time():
    assert (settings.LANGUAGE_CODE, settings.TIME_ZONE, settings.USE_TZ) == ("zh-hans", "Asia/Shanghai", True)
