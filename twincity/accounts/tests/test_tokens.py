"""API tokens: issued by administrators, shown once, stored as a hash, refused once revoked."""

import hashlib
import json

import pytest

from twincity.accounts.models import ApiToken
from twincity.core.models import AuditEntry

ERROR_KEYS = {"message", "code", "extra"}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _issue(client, cast, username="bella", name="bank A core system"):
    client.force_login(cast.olivia)
    response = client.post("/api/accounts/tokens", json.dumps({"username": username, "name": name}),
                           content_type="application/json")
    assert response.status_code == 201
    return response.json()


def test_olivia_issues_a_token_whose_key_is_shown_once_and_stored_as_a_hash(client, cast):
    issued = _issue(client, cast)

    key = issued["key"]
    token = ApiToken.objects.get()
    assert key.startswith("tc_") and len(key) > 40
    assert issued["id"] == token.pk
    assert issued["username"] == "bella"
    assert issued["key_prefix"] == key[:8] == token.key_prefix
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert (token.user, token.created_by, token.name) == (cast.bella, cast.olivia, "bank A core system")
    # The raw key is nowhere in the database: not in the token row, not in the audit trail.
    assert key not in repr(list(ApiToken.objects.values()))
    assert key not in repr(list(AuditEntry.objects.values()))
    # ...and never shown again.
    listed = client.get("/api/accounts/tokens").json()
    assert listed["count"] == 1
    assert "key" not in listed["items"][0]
    assert key not in json.dumps(listed)


def test_a_token_authenticates_its_user_and_stops_working_when_revoked(client, cast):
    issued = _issue(client, cast)
    auth = {"Authorization": f"Bearer {issued['key']}"}
    client.logout()

    me = client.get("/api/accounts/me", headers=auth)
    assert me.status_code == 200
    assert me.json()["username"] == "bella"
    assert me.json()["organisation"]["id"] == cast.bank_a_branch.pk
    assert ApiToken.objects.get().last_used_at is not None

    client.force_login(cast.olivia)
    revoked = client.delete(f"/api/accounts/tokens/{issued['id']}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert ApiToken.objects.get().revoked_at is not None
    client.logout()

    refused = client.get("/api/accounts/me", headers=auth)
    assert refused.status_code == 401
    assert set(refused.json()) == ERROR_KEYS
    assert refused.json()["code"] == "unauthenticated"
    assert refused.json()["extra"] == {}


def test_a_revoked_token_is_refused_with_401_on_writes_too(client, cast):
    # A machine client without a session must hear "unauthenticated", not a CSRF complaint.
    issued = _issue(client, cast, username="olivia", name="admin script")
    client.delete(f"/api/accounts/tokens/{issued['id']}")
    client.logout()

    response = client.post("/api/accounts/tokens", json.dumps({"username": "bella", "name": "x"}),
                           content_type="application/json", headers={"Authorization": f"Bearer {issued['key']}"})

    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert ApiToken.objects.count() == 1


def test_a_token_of_a_deactivated_user_is_refused(client, cast):
    issued = _issue(client, cast)
    cast.bella.is_active = False
    cast.bella.save()
    client.logout()
    assert client.get("/api/accounts/me", headers={"Authorization": f"Bearer {issued['key']}"}).status_code == 401


@pytest.mark.parametrize("key", ["tc_not-a-real-key", "not-even-prefixed", ""])
def test_an_unknown_key_is_refused(client, cast, key):
    response = client.get("/api/accounts/me", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401
    assert set(response.json()) == ERROR_KEYS


def test_revoking_is_audited(client, cast):
    issued = _issue(client, cast)
    client.delete(f"/api/accounts/tokens/{issued['id']}")
    actions = list(
        AuditEntry.objects.filter(object_type="accounts.apitoken", object_id=str(issued["id"]))
        .order_by("id").values_list("action", flat=True)
    )
    assert actions == ["create", "update"]


@pytest.mark.parametrize("who", ["alice", "bella", "clara", "charlie"])
def test_only_administrators_issue_or_revoke_tokens(client, cast, who):
    issued = _issue(client, cast)
    client.force_login(getattr(cast, who))

    created = client.post("/api/accounts/tokens", json.dumps({"username": who, "name": "mine"}),
                          content_type="application/json")
    revoked = client.delete(f"/api/accounts/tokens/{issued['id']}")

    assert created.status_code == 403
    assert created.json() == {"message": "只有管理员可以管理API令牌 (administrators only)", "code": "forbidden",
                              "extra": {}}
    assert revoked.status_code == 404  # tokens are objects only administrators see
    assert revoked.json()["code"] == "not_found"
    assert ApiToken.objects.count() == 1
    assert ApiToken.objects.get().revoked_at is None


def test_revoking_an_unknown_token_is_404(client, cast):
    client.force_login(cast.olivia)
    response = client.delete("/api/accounts/tokens/999999")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- the token page -------------------------------------------------------------------------------------


def test_olivia_issues_and_revokes_a_token_on_the_token_page(client, cast):
    client.force_login(cast.olivia)
    assert client.get("/accounts/tokens/").status_code == 200

    created = client.post("/accounts/tokens/", {"name": "bank A core system", "user": cast.bella.pk})

    assert created.status_code == 200
    token = ApiToken.objects.get()
    key = created.context["new_key"]
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key in created.content.decode()  # shown once...
    assert key not in client.get("/accounts/tokens/").content.decode()  # ...and never again

    revoked = client.post(f"/accounts/tokens/{token.pk}/revoke")

    assert revoked.status_code == 302
    assert revoked["Location"] == "/accounts/tokens/"
    token.refresh_from_db()
    assert token.revoked_at is not None
    client.logout()
    assert client.get("/api/accounts/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_the_token_page_refuses_a_user_it_does_not_offer(client, cast):
    client.force_login(cast.olivia)
    response = client.post("/accounts/tokens/", {"name": "x", "user": 999999})
    assert response.status_code == 200
    assert "user" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_the_token_page_is_forbidden_to_bella(client, cast):
    issued = _issue(client, cast)
    client.force_login(cast.bella)

    assert client.get("/accounts/tokens/").status_code == 403
    assert client.post("/accounts/tokens/", {"name": "mine", "user": cast.bella.pk}).status_code == 403
    assert client.post(f"/accounts/tokens/{issued['id']}/revoke").status_code == 404
    assert ApiToken.objects.count() == 1
    assert ApiToken.objects.get().revoked_at is None


def test_revoke_on_the_token_page_needs_post(client, cast):
    issued = _issue(client, cast)
    assert client.get(f"/accounts/tokens/{issued['id']}/revoke").status_code == 405
    assert ApiToken.objects.get().revoked_at is None


def test_revoking_an_unknown_token_on_the_page_is_404(client, cast):
    client.force_login(cast.olivia)
    assert client.post("/accounts/tokens/999999/revoke").status_code == 404
