"""The kernel's signed codes: a token names (kind, id, version) and verifies only as signed; the public page
dispatches by kind to the resolver a domain registered, and never answers 500."""

import pytest
from django.core import signing

from twincity.core import verification
from twincity.core.verification import CodeInvalid, Verification, code_read, code_sign, code_url, qr_svg

OBJECTS = {"42": Verification("valid", 3, "测试证照有效", (("名称", "示例"),)),
           "7": Verification("suspended", 1, "测试证照", (("名称", "隐藏"),), "已暂停")}


@pytest.fixture(autouse=True)
def _kind():
    verification.verification_register("test.thing", "测试证照", OBJECTS.get)
    yield
    verification._RESOLVERS.pop("test.thing", None)


def test_a_token_round_trips():
    token = code_sign(kind="test.thing", object_id="42", version=3)
    assert code_read(token) == verification.CodeClaim("test.thing", "42", 3)
    assert len(token) < 80


def test_any_change_to_a_token_is_rejected():
    token = code_sign(kind="test.thing", object_id="42", version=3)
    for i in range(len(token)):
        changed = token[:i] + ("a" if token[i] != "a" else "b") + token[i + 1:]
        with pytest.raises(CodeInvalid):
            code_read(changed)


def test_a_value_signed_for_another_purpose_is_rejected():
    other = signing.Signer(salt="django.core.signing").sign_object(["1", "test.thing", "42", 3], compress=True)
    with pytest.raises(CodeInvalid):
        code_read(other)


def test_signing_an_unregistered_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        code_sign(kind="nobody.registered", object_id="1", version=1)


def test_the_page_answers_each_outcome(client, db):
    valid = client.get(code_url(code_sign(kind="test.thing", object_id="42", version=3)))
    assert valid.status_code == 200 and "示例" in valid.content.decode()
    old = client.get(code_url(code_sign(kind="test.thing", object_id="42", version=2)))
    assert old.status_code == 410 and "示例" not in old.content.decode()
    suspended = client.get(code_url(code_sign(kind="test.thing", object_id="7", version=1)))
    assert suspended.status_code == 410 and "隐藏" not in suspended.content.decode()
    missing = client.get(code_url(code_sign(kind="test.thing", object_id="9", version=1)))
    assert missing.status_code == 404
    assert client.get("/verify/not-a-token/").status_code == 400
    assert client.get("/verify/" + "x" * 500 + "/").status_code == 400
    verification._RESOLVERS.pop("test.thing")
    assert client.get(valid.request["PATH_INFO"]).status_code == 400  # a kind no longer known


def test_the_qr_code_is_an_svg_element():
    svg = qr_svg("https://example.org/verify/abc/", title="卡")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>") and "<title>卡</title>" in svg
