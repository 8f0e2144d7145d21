"""Organisations and people's accounts: administrators create and change them (page and API share the services),
each role acts for an organisation of its kind, nothing in use is deleted, every change is audited."""

import json

import pytest

from twincity.accounts.models import Organisation, User
from twincity.accounts.services import organisation_create, user_role_set
from twincity.core.errors import Conflict, Forbidden, InvalidInput
from twincity.core.models import AuditEntry

ERROR_KEYS = {"message", "code", "extra"}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _post(client, url, body, method="post"):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def _audit(object_type, object_id):
    return list(AuditEntry.objects.filter(object_type=object_type, object_id=str(object_id))
                .order_by("id").values_list("action", "changes", "actor__username"))


# --- organisations -------------------------------------------------------------------------------------------


def test_olivia_creates_a_bank_and_its_branch_over_the_api_audited(client, cast):
    client.force_login(cast.olivia)
    bank = _post(client, "/api/accounts/organisations", {"name": "  重庆三峡银行 ", "kind": "bank"})
    assert bank.status_code == 201
    assert bank.json() == {"id": bank.json()["id"], "name": "重庆三峡银行", "kind": "bank", "city": "",
                           "parent_id": None}
    branch = _post(client, "/api/accounts/organisations",
                   {"name": "重庆三峡银行科学城支行", "kind": "bank", "city": "chongqing", "parent_id": bank.json()["id"]})
    assert branch.status_code == 201
    head = Organisation.objects.get(pk=bank.json()["id"])
    assert list(head.branches.values_list("name", flat=True)) == ["重庆三峡银行科学城支行"]
    assert _audit("accounts.organisation", head.pk) == [
        ("create", {"city": {"before": None, "after": ""}, "kind": {"before": None, "after": "bank"},
                    "name": {"before": None, "after": "重庆三峡银行"}}, "olivia"),
    ]
    shown = client.get(f"/api/accounts/organisations/{head.pk}").json()
    assert (shown["member_count"], shown["branch_count"]) == (0, 1)


def test_a_duplicate_name_is_a_conflict_and_a_wrong_parent_is_refused_writing_nothing(client, cast):
    client.force_login(cast.olivia)
    before = Organisation.objects.count()
    duplicate = _post(client, "/api/accounts/organisations", {"name": cast.bank_a.name, "kind": "bank"})
    assert duplicate.status_code == 409 and set(duplicate.json()) == ERROR_KEYS
    assert duplicate.json()["code"] == "organisation_exists"
    other_kind = _post(client, "/api/accounts/organisations",
                       {"name": "某担保支行", "kind": "guarantor", "parent_id": cast.bank_a.pk})
    assert other_kind.status_code == 422 and "parent" in other_kind.json()["extra"]["fields"]
    under_branch = _post(client, "/api/accounts/organisations",
                         {"name": "二级支行", "kind": "bank", "parent_id": cast.bank_a_branch.pk})
    assert under_branch.status_code == 422
    unknown_parent = _post(client, "/api/accounts/organisations",
                           {"name": "孤儿支行", "kind": "bank", "parent_id": 999999})
    assert unknown_parent.status_code == 422 and unknown_parent.json()["extra"]["fields"] == {
        "parent_id": ["999999"]}
    assert Organisation.objects.count() == before
    assert not AuditEntry.objects.filter(object_type="accounts.organisation").exists()


def test_only_administrators_manage_organisations(client, cast):
    client.force_login(cast.bella)
    refused = _post(client, "/api/accounts/organisations", {"name": "影子银行", "kind": "bank"})
    assert refused.status_code == 403
    # bella sees her own bank's tree, but may not rename it; a bank she cannot see does not exist for her.
    rename = _post(client, f"/api/accounts/organisations/{cast.bank_a.pk}", {"name": "改名"}, method="patch")
    assert rename.status_code == 403
    assert _post(client, f"/api/accounts/organisations/{cast.bank_b.pk}", {"name": "改名"},
                 method="patch").status_code == 404
    assert client.delete(f"/api/accounts/organisations/{cast.bank_b.pk}").status_code == 404
    assert client.get("/accounts/organisations/").status_code == 403
    assert not Organisation.objects.filter(name__in=["影子银行", "改名"]).exists()
    with pytest.raises(Forbidden):
        organisation_create(actor=cast.bella, name="影子银行", kind="bank")


def test_renaming_is_audited_with_before_and_after_and_an_unchanged_save_writes_nothing(client, cast):
    client.force_login(cast.olivia)
    url = f"/api/accounts/organisations/{cast.institute.pk}"
    renamed = _post(client, url, {"name": "重庆大学分析测试中心（虎溪）"}, method="patch")
    assert renamed.status_code == 200 and renamed.json()["name"] == "重庆大学分析测试中心（虎溪）"
    again = _post(client, url, {"name": "重庆大学分析测试中心（虎溪）"}, method="patch")
    assert again.status_code == 200
    assert [(a, list(c)) for a, c, _who in _audit("accounts.organisation", cast.institute.pk)] == [
        ("update", ["name"])]


def test_an_organisation_in_use_is_not_deleted_an_empty_one_is(client, cast):
    client.force_login(cast.olivia)
    in_use = client.delete(f"/api/accounts/organisations/{cast.bank_a_branch.pk}")  # bella works there
    assert in_use.status_code == 409 and in_use.json()["code"] == "organisation_in_use"
    with_branches = client.delete(f"/api/accounts/organisations/{cast.bank_a.pk}")
    assert with_branches.status_code == 409
    linked = client.delete(f"/api/accounts/organisations/{cast.alice_org.pk}")  # alice's company record
    assert linked.status_code == 409
    assert Organisation.objects.filter(pk__in=[cast.bank_a_branch.pk, cast.bank_a.pk, cast.alice_org.pk]).count() == 3
    assert not AuditEntry.objects.filter(object_type="accounts.organisation", action="delete").exists()

    empty = Organisation.objects.create(name="已撤销的办事处", kind="government")
    gone = client.delete(f"/api/accounts/organisations/{empty.pk}")
    assert gone.status_code == 204
    assert not Organisation.objects.filter(pk=empty.pk).exists()
    assert _audit("accounts.organisation", empty.pk)[0][0] == "delete"


# --- people ---------------------------------------------------------------------------------------------------


def test_olivia_creates_an_account_whose_role_fits_its_organisation(client, cast):
    client.force_login(cast.olivia)
    wrong = _post(client, "/api/accounts/users",
                  {"username": "dora", "role": "bank_officer", "organisation_id": cast.guarantor.pk})
    assert wrong.status_code == 422 and wrong.json()["extra"]["fields"] == {"organisation": [str(cast.guarantor.pk)]}
    homeless = _post(client, "/api/accounts/users", {"username": "dora", "role": "clerk"})
    assert homeless.status_code == 422
    assert not User.objects.filter(username="dora").exists()

    created = _post(client, "/api/accounts/users", {
        "username": "dora", "display_name": "Dora 朵拉", "email": "dora@example.org", "role": "bank_officer",
        "organisation_id": cast.bank_a_branch.pk, "password": "a-long-enough-passphrase-2026"})
    assert created.status_code == 201
    body = created.json()
    assert {k: body[k] for k in ("username", "display_name", "role", "organisation_id", "is_active")} == {
        "username": "dora", "display_name": "Dora 朵拉", "role": "bank_officer",
        "organisation_id": cast.bank_a_branch.pk, "is_active": True}
    dora = User.objects.get(username="dora")
    assert dora.check_password("a-long-enough-passphrase-2026")
    changes = _audit("accounts.user", dora.pk)[0][1]
    assert "password" not in json.dumps(changes) and changes["role"] == {"before": None, "after": "bank_officer"}
    taken = _post(client, "/api/accounts/users", {"username": "DORA"})
    assert taken.status_code == 409 and taken.json()["code"] == "username_taken"

    client.logout()
    assert client.login(username="dora", password="a-long-enough-passphrase-2026")


def test_an_account_created_without_a_password_cannot_log_in(client, cast):
    client.force_login(cast.olivia)
    assert _post(client, "/api/accounts/users", {"username": "erin"}).status_code == 201
    assert not User.objects.get(username="erin").has_usable_password()
    weak = _post(client, "/api/accounts/users", {"username": "fay", "password": "123"})
    assert weak.status_code == 422 and "password" in weak.json()["extra"]["fields"]


def test_changing_a_role_is_audited_and_a_deactivated_person_cannot_log_in(client, cast):
    cast.bella.set_password("bella-passphrase-2026")
    cast.bella.save()
    client.force_login(cast.olivia)
    moved = _post(client, "/api/accounts/users/bella/role",
                  {"role": "bank_officer", "organisation_id": cast.bank_b_branch.pk}, method="put")
    assert moved.status_code == 200 and moved.json()["organisation_id"] == cast.bank_b_branch.pk
    off = _post(client, "/api/accounts/users/bella/role",
                {"role": "bank_officer", "organisation_id": cast.bank_b_branch.pk, "is_active": False}, method="put")
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert [c for _a, c, _w in _audit("accounts.user", cast.bella.pk)] == [
        {"organisation_id": {"before": cast.bank_a_branch.pk, "after": cast.bank_b_branch.pk}},
        {"is_active": {"before": True, "after": False}},
    ]
    client.logout()
    assert not client.login(username="bella", password="bella-passphrase-2026")
    assert _post(client, "/api/accounts/users/nobody/role", {"role": ""}, method="put").status_code == 401


def test_an_administrator_cannot_remove_their_own_administration(client, cast):
    with pytest.raises(Conflict):
        user_role_set(actor=cast.olivia, user=cast.olivia, role="clerk", organisation=cast.office)
    with pytest.raises(Conflict):
        user_role_set(actor=cast.olivia, user=cast.olivia, role="administrator", organisation=cast.committee,
                      is_active=False)
    cast.olivia.refresh_from_db()
    assert (cast.olivia.role, cast.olivia.is_active) == ("administrator", True)
    with pytest.raises(InvalidInput):
        user_role_set(actor=cast.olivia, user=cast.bella, role="no-such-role", organisation=None)


def test_users_are_listed_and_filtered_for_administrators_only(client, cast):
    client.force_login(cast.olivia)
    banks = client.get("/api/accounts/users?role=bank_officer").json()
    assert [u["username"] for u in banks["items"]] == ["bella", "bruno"]
    assert client.get(f"/api/accounts/users?organisation_id={cast.alice_org.pk}").json()["count"] == 1
    client.force_login(cast.bella)
    assert client.get("/api/accounts/users").status_code == 403
    assert client.get("/api/accounts/users/bruno").status_code == 403


# --- pages ----------------------------------------------------------------------------------------------------


def test_the_pages_create_and_change_through_the_same_services(client, cast):
    client.force_login(cast.olivia)
    listed = client.get("/accounts/organisations/?kind=bank")
    assert listed.status_code == 200
    table = listed.content.decode().split('<table class="organisations">')[1].split("</table>")[0]
    assert cast.bank_a.name in table and cast.alice_org.name not in table

    created = client.post("/accounts/organisations/", {"name": "成都科学城服务中心", "kind": "government",
                                                        "city": "chengdu", "parent": ""})
    office = Organisation.objects.get(name="成都科学城服务中心")
    assert created.status_code == 302 and created["Location"] == f"/accounts/organisations/{office.pk}/"
    duplicate = client.post("/accounts/organisations/", {"name": "成都科学城服务中心", "kind": "government"})
    assert duplicate.status_code == 200 and "机构名称已存在" in duplicate.content.decode()

    person = client.post("/accounts/users/", {"username": "gina", "role": "clerk", "organisation": office.pk})
    assert person.status_code == 302
    gina = User.objects.get(username="gina")
    assert (gina.role, gina.organisation, gina.has_usable_password()) == ("clerk", office, False)
    mismatch = client.post("/accounts/users/gina/", {"role": "bank_officer", "organisation": office.pk,
                                                     "is_active": "on"})
    assert mismatch.status_code == 200 and "角色与机构类型不符" in mismatch.content.decode()
    gina.refresh_from_db()
    assert gina.role == "clerk"

    in_use = client.post(f"/accounts/organisations/{office.pk}/delete")
    assert in_use.status_code == 302 and Organisation.objects.filter(pk=office.pk).exists()
    client.post("/accounts/users/gina/", {"role": "", "organisation": "", "is_active": "on"})
    assert client.post(f"/accounts/organisations/{office.pk}/delete").status_code == 302
    assert not Organisation.objects.filter(pk=office.pk).exists()
    assert AuditEntry.objects.filter(object_type="accounts.organisation", object_id=str(office.pk)).count() == 2


def test_the_navigation_offers_the_page_to_administrators_only(client, cast):
    client.force_login(cast.olivia)
    assert 'href="/accounts/organisations/"' in client.get("/").content.decode()
    client.force_login(cast.bella)
    assert 'href="/accounts/organisations/"' not in client.get("/").content.decode()
    assert client.get("/accounts/users/").status_code == 403
    assert client.get("/accounts/users/olivia/").status_code == 403


def test_every_demo_persona_has_a_role_that_fits_its_organisation():
    from twincity.accounts.services import ROLE_ORGANISATION_KINDS
    from twincity.demo.personas import ORGANISATIONS, PERSONAS

    kinds = {spec.key: spec.kind for spec in ORGANISATIONS}
    for persona in PERSONAS:
        allowed = ROLE_ORGANISATION_KINDS.get(persona.role)
        if allowed is not None:
            assert kinds[persona.organisation] in allowed, persona.username
