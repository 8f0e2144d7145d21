"""Unified social credit codes (GB 32100-2015): a wrong check character is refused everywhere."""

import json

import pytest
from django.core.exceptions import ValidationError

from twincity.core.errors import InvalidInput
from twincity.core.models import AuditEntry
from twincity.enterprises.models import Enterprise
from twincity.enterprises.services import enterprise_create
from twincity.enterprises.validators import credit_code_problem, validate_credit_code

# Real companies' codes, as published in the national enterprise credit information system.
REAL_COMPANIES = [
    ("914403001922038216", "华为技术有限公司", "shenzhen"),
    ("91440300708461136T", "深圳市腾讯计算机系统有限公司", "shenzhen"),
    ("91110000802100433B", "北京百度网讯科技有限公司", "beijing"),
]
# Huawei's code with its check character changed from 6 to 7.
WRONG_CHECK_CHARACTER = "914403001922038217"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.parametrize("code", [code for code, _name, _city in REAL_COMPANIES])
def test_real_codes_are_valid(code):
    assert credit_code_problem(code) is None
    validate_credit_code(code)  # does not raise


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        (WRONG_CHECK_CHARACTER, "统一社会信用代码校验位错误"),
        ("91440300708461136X", "统一社会信用代码校验位错误"),
        ("9144030070846113", "统一社会信用代码应为18位"),
        ("9144030070846113600", "统一社会信用代码应为18位"),
        ("91440300708461I36T", "统一社会信用代码含有非法字符或格式错误"),  # I is not in the alphabet
    ],
)
def test_invalid_codes_are_explained(code, problem):
    assert credit_code_problem(code)[0] == problem
    with pytest.raises(ValidationError) as raised:
        validate_credit_code(code)
    assert raised.value.code == "invalid_credit_code"


def test_the_model_refuses_a_wrong_check_character():
    enterprise = Enterprise(credit_code=WRONG_CHECK_CHARACTER, name="华为技术有限公司", city="shenzhen")
    with pytest.raises(ValidationError) as raised:
        enterprise.full_clean()
    assert "credit_code" in raised.value.message_dict
    assert "校验位" in raised.value.message_dict["credit_code"][0]


def test_the_service_refuses_a_wrong_check_character(cast):
    with pytest.raises(InvalidInput) as raised:
        enterprise_create(actor=cast.olivia, credit_code=WRONG_CHECK_CHARACTER, name="华为技术有限公司",
                          city="shenzhen")
    assert raised.value.code == "invalid_credit_code"
    assert "校验位" in raised.value.message
    assert raised.value.extra == {"fields": {"credit_code": ["统一社会信用代码校验位错误"]}}
    assert not Enterprise.objects.filter(credit_code=WRONG_CHECK_CHARACTER).exists()
    assert not AuditEntry.objects.filter(object_type="enterprises.enterprise").exists()


def test_the_api_refuses_a_wrong_check_character(client, cast):
    client.force_login(cast.olivia)
    body = {"credit_code": WRONG_CHECK_CHARACTER, "name": "华为技术有限公司", "city": "shenzhen"}

    response = client.post("/api/enterprises/", json.dumps(body), content_type="application/json")

    assert response.status_code == 422
    error = response.json()
    assert set(error) == {"message", "code", "extra"}
    assert error["code"] == "invalid_credit_code"
    assert "校验位" in error["message"]
    assert error["extra"] == {"fields": {"credit_code": ["统一社会信用代码校验位错误"]}}
    assert Enterprise.objects.count() == 2  # only the cast's companies


@pytest.mark.parametrize(("code", "name", "city"), REAL_COMPANIES, ids=[code for code, _n, _c in REAL_COMPANIES])
def test_the_api_registers_real_companies(client, cast, code, name, city):
    client.force_login(cast.olivia)

    response = client.post("/api/enterprises/", json.dumps({"credit_code": code, "name": name, "city": city}),
                           content_type="application/json")

    assert response.status_code == 201
    assert response.json()["credit_code"] == code
    assert response.json()["name"] == name
    enterprise = Enterprise.objects.get(credit_code=code)
    assert (enterprise.name, enterprise.city) == (name, city)


@pytest.mark.parametrize(("code", "name", "city"), REAL_COMPANIES, ids=[code for code, _n, _c in REAL_COMPANIES])
def test_the_service_registers_real_companies(cast, code, name, city):
    enterprise = enterprise_create(actor=cast.olivia, credit_code=code, name=name, city=city)
    assert Enterprise.objects.get(credit_code=code) == enterprise
    entry = AuditEntry.objects.get(object_type="enterprises.enterprise", object_id=str(enterprise.pk))
    assert entry.action == AuditEntry.Action.CREATE
    assert entry.changes["credit_code"] == {"before": None, "after": code}


def test_a_code_is_stored_in_its_canonical_form(cast):
    enterprise = enterprise_create(actor=cast.olivia, credit_code=" 91440300708461136t ", name="腾讯", city="shenzhen")
    assert enterprise.credit_code == "91440300708461136T"


def test_a_registered_code_cannot_be_registered_twice(client, cast):
    client.force_login(cast.olivia)
    body = {"credit_code": cast.alice_co.credit_code, "name": "冒名公司", "city": "chongqing"}

    response = client.post("/api/enterprises/", json.dumps(body), content_type="application/json")

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_credit_code"
    assert Enterprise.objects.get(credit_code=cast.alice_co.credit_code).name == cast.alice_co.name
