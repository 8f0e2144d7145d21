"""The HTML forms that register an enterprise and edit its profile."""

import pytest

from twincity.core.models import AuditEntry
from twincity.enterprises.models import Enterprise

HUAWEI = "914403001922038216"
HUAWEI_WRONG_CHECK = "914403001922038217"


def form_data(**overrides):
    data = {"credit_code": HUAWEI, "name": "华为技术有限公司", "city": "chongqing", "district": "高新区",
            "industry_cluster": "ict", "industry_code": "C3921", "size_class": "large",
            "resident": "unknown", "prohibited": "unknown", "compliant": "unknown", "is_sme": "unknown",
            "sei": "unknown", "innov_title": "unknown", "nat_award_5y_top3": "unknown", "sci_award_3y": "unknown",
            "led_standard_5y": "unknown", "maker_top500_3y": "unknown"}
    data.update(overrides)
    return data


def test_the_form_refuses_a_wrong_check_character_with_a_clear_message(client, cast):
    client.force_login(cast.olivia)
    before = Enterprise.objects.count()
    response = client.post("/enterprises/new/", form_data(credit_code=HUAWEI_WRONG_CHECK))
    assert response.status_code == 200
    assert "统一社会信用代码校验位错误" in response.content.decode()
    assert Enterprise.objects.count() == before
    assert not AuditEntry.objects.filter(object_type="enterprises.enterprise").exists()


def test_the_form_registers_a_real_company_and_audits_it(client, cast):
    client.force_login(cast.olivia)
    response = client.post("/enterprises/new/", form_data())
    assert response.status_code == 302
    assert response["Location"] == f"/enterprises/{HUAWEI}/"
    huawei = Enterprise.objects.get(credit_code=HUAWEI)
    assert (huawei.name, huawei.city, huawei.industry_cluster, huawei.resident) == ("华为技术有限公司", "chongqing", "ict", None)
    entry = AuditEntry.objects.get(object_type="enterprises.enterprise", object_id=str(huawei.pk))
    assert entry.actor == cast.olivia
    assert entry.changes["name"] == {"before": None, "after": "华为技术有限公司"}


def test_the_form_refuses_a_code_already_registered(client, cast):
    client.force_login(cast.olivia)
    response = client.post("/enterprises/new/", form_data(credit_code=cast.alice_co.credit_code))
    assert response.status_code == 200
    assert Enterprise.objects.filter(credit_code=cast.alice_co.credit_code).count() == 1


@pytest.mark.parametrize("username", ["alice", "bella", "charlie"])
def test_only_administrators_register_enterprises(client, cast, username):
    client.force_login(getattr(cast, username))
    assert client.get("/enterprises/new/").status_code == 403
    assert client.post("/enterprises/new/", form_data()).status_code == 403
    assert not Enterprise.objects.filter(credit_code=HUAWEI).exists()


def test_alice_edits_her_profile_and_the_change_is_audited(client, cast):
    client.force_login(cast.alice)
    url = f"/enterprises/{cast.alice_co.credit_code}/edit/"
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    # Her form holds her contact details and what she declares; never the registered name or district.
    assert "name" not in form.fields and "district" not in form.fields and "contact_person" in form.fields
    data = {name: ("" if value is None else value) for name, value in form.initial.items() if name in form.fields}
    data.update({"contact_person": "王小明", "ip_II": "20",
                 **{k: "unknown" for k in ("sei", "innov_title", "nat_award_5y_top3", "sci_award_3y",
                                           "led_standard_5y", "maker_top500_3y")}})
    response = client.post(url, data)
    assert response.status_code == 302
    cast.alice_co.refresh_from_db()
    assert (cast.alice_co.contact_person, cast.alice_co.ip_II) == ("王小明", 20)
    entry = AuditEntry.objects.get(object_type="enterprises.enterprise", action="update")
    assert entry.actor == cast.alice
    assert entry.changes == {"contact_person": {"before": "", "after": "王小明"}, "ip_II": {"before": 14, "after": 20}}


def test_alice_posting_her_registered_name_changes_nothing(client, cast):
    client.force_login(cast.alice)
    url = f"/enterprises/{cast.alice_co.credit_code}/edit/"
    form = client.get(url).context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items() if name in form.fields}
    data.update({k: "unknown" for k in ("sei", "innov_title", "nat_award_5y_top3", "sci_award_3y",
                                        "led_standard_5y", "maker_top500_3y")}, name="冒名公司")
    response = client.post(url, data)
    assert response.status_code == 302  # the field is not hers: the form ignores it
    cast.alice_co.refresh_from_db()
    assert cast.alice_co.name == "重庆金凤微电子科技有限公司"
    assert not AuditEntry.objects.exists()


def test_bob_cannot_open_or_post_alice_profile_form(client, cast):
    client.force_login(cast.bob)
    url = f"/enterprises/{cast.alice_co.credit_code}/edit/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "bob was here", "city": "chengdu", "industry_cluster": "ict"}).status_code == 404
    cast.alice_co.refresh_from_db()
    assert cast.alice_co.name == "重庆金凤微电子科技有限公司"
