"""Logging in and out, and the failed-login throttle (per username and client address)."""

import pytest
from django.core.cache import cache

from twincity.accounts.forms import ThrottledAuthenticationForm
from twincity.testing import PASSWORD

LIMIT = 5


@pytest.fixture(autouse=True)
def _fresh_throttle(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LOGIN_FAILURE_LIMIT = LIMIT
    cache.clear()
    yield
    cache.clear()


def _login(client, username, password, address="203.0.113.7"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def _error_codes(response) -> list[str]:
    return [error.code for error in response.context["form"].non_field_errors().as_data()]


def _logged_in_as(client):
    return client.get("/api/accounts/me").json().get("username")


def test_alice_logs_in_and_out(client, cast):
    response = _login(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert _logged_in_as(client) == "alice"

    logout = client.post("/accounts/logout/")

    assert logout.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/api/accounts/me").status_code == 401


def test_a_wrong_password_is_refused(client, cast):
    response = _login(client, "alice", "wrong")
    assert response.status_code == 200
    assert _error_codes(response) == ["invalid_login"]
    assert client.get("/api/accounts/me").status_code == 401


def test_after_five_failures_even_the_right_password_is_refused(client, cast):
    for _ in range(LIMIT):
        assert _error_codes(_login(client, "alice", "wrong")) == ["invalid_login"]

    response = _login(client, "alice", PASSWORD)

    assert response.status_code == 200
    assert _error_codes(response) == ["throttled"]
    assert str(ThrottledAuthenticationForm.error_messages["throttled"]) in response.content.decode()
    assert client.get("/api/accounts/me").status_code == 401


def test_four_failures_do_not_throttle(client, cast):
    for _ in range(LIMIT - 1):
        _login(client, "alice", "wrong")
    assert _login(client, "alice", PASSWORD).status_code == 302


def test_the_throttle_is_per_address_and_per_username(client, cast):
    for _ in range(LIMIT):
        _login(client, "alice", "wrong", address="203.0.113.7")

    assert _login(client, "bob", PASSWORD, address="203.0.113.7").status_code == 302
    client.post("/accounts/logout/")
    assert _login(client, "alice", PASSWORD, address="198.51.100.9").status_code == 302


def test_the_username_case_does_not_escape_the_throttle(client, cast):
    for _ in range(LIMIT):
        _login(client, "alice", "wrong")
    assert _error_codes(_login(client, "ALICE", PASSWORD)) == ["throttled"]


def test_a_successful_login_clears_the_failure_count(client, cast):
    for _ in range(LIMIT - 1):
        _login(client, "alice", "wrong")
    assert _login(client, "alice", PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    # Without the reset these would be failures 5 to 8, and the last login below would be throttled.
    for _ in range(LIMIT - 1):
        _login(client, "alice", "wrong")
    response = _login(client, "alice", PASSWORD)

    assert response.status_code == 302
    assert _logged_in_as(client) == "alice"


def test_logout_needs_post(client, cast):
    client.force_login(cast.alice)
    assert client.get("/accounts/logout/").status_code == 405
    assert _logged_in_as(client) == "alice"
