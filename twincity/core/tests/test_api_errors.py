"""Every 4xx the API gives has the one error shape {"message", "code", "extra"}."""

import json

import pytest
from django.test import Client

from twincity.testing import ALICE_CODE

ERROR_KEYS = {"message", "code", "extra"}
DECLARATION_URL = f"/api/enterprises/{ALICE_CODE}/declarations/2024"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["extra"], dict)
    return body


@pytest.fixture
def olivia(client, cast):
    client.force_login(cast.olivia)
    return client


@pytest.mark.parametrize(
    ("method", "url", "raw_body"),
    [
        ("post", "/api/enterprises/", "{not json"),
        ("put", DECLARATION_URL, '{"figures": {"employees": 1}'),
        ("patch", f"/api/enterprises/{ALICE_CODE}", "\xff\xfe"),
    ],
)
def test_a_malformed_json_body_is_400(olivia, method, url, raw_body):
    response = getattr(olivia, method)(url, raw_body, content_type="application/json")
    assert_error(response, 400, "http_error")


def test_an_upload_without_its_boundary_is_400_in_the_error_shape(olivia):
    # Found by the contract fuzz: Django answered its HTML 400 page.
    response = olivia.post("/api/imports/enterprises", b"--x\r\n", content_type="multipart/form-data")
    assert_error(response, 400, "bad_upload")


@pytest.mark.parametrize(
    ("method", "url", "body", "loc"),
    [
        ("post", "/api/enterprises/", {"credit_code": 914403001922038216, "name": "x", "city": "shenzhen"},
         ["body", "payload", "credit_code"]),
        ("patch", f"/api/enterprises/{ALICE_CODE}", {"ip_II": "many"}, ["body", "payload", "ip_II"]),
        ("patch", f"/api/enterprises/{ALICE_CODE}", {"registered_on": "yesterday"},
         ["body", "payload", "registered_on"]),
        ("put", DECLARATION_URL, {"figures": {"employees": 1.5}}, ["body", "payload", "figures", "employees"]),
        ("put", DECLARATION_URL, {"figures": []}, ["body", "payload", "figures"]),
        ("post", "/api/accounts/tokens", {"username": ["bella"], "name": "x"}, ["body", "payload", "username"]),
    ],
)
def test_a_wrong_type_is_422_with_its_location(olivia, method, url, body, loc):
    response = getattr(olivia, method)(url, json.dumps(body), content_type="application/json")
    error = assert_error(response, 422, "invalid")
    assert loc in [e["loc"] for e in error["extra"]["errors"]]


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("post", "/api/enterprises/", {"credit_code": "914403001922038216", "name": "x", "city": "shenzhen",
                                       "is_admin": True}, "is_admin"),
        ("patch", f"/api/enterprises/{ALICE_CODE}", {"credit_code": "914403001922038216"}, "credit_code"),
        ("patch", f"/api/enterprises/{ALICE_CODE}", {"organisation": 1}, "organisation"),
        ("put", DECLARATION_URL, {"figures": {"employees": 1}, "submitted_by": 1}, "submitted_by"),
        ("put", DECLARATION_URL, {"figures": {"employees": 1, "bonus": 9}}, "bonus"),
    ],
)
def test_an_extra_field_is_refused(olivia, method, url, body, field):
    response = getattr(olivia, method)(url, json.dumps(body), content_type="application/json")
    error = assert_error(response, 422, "invalid")
    assert [(e["loc"][-1], e["type"]) for e in error["extra"]["errors"]] == [(field, "extra_forbidden")]


@pytest.mark.parametrize(
    "url",
    ["/api/enterprises/914403001922038216", "/api/enterprises/914403001922038216/declarations",
     "/api/enterprises/914403001922038216/history", f"{DECLARATION_URL[:-4]}1999"],
)
def test_an_unknown_object_is_404(olivia, url):
    body = assert_error(olivia.get(url), 404, "not_found")
    assert body["extra"] == {}


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", "/api/accounts/me"), ("get", "/api/enterprises/"), ("get", f"/api/enterprises/{ALICE_CODE}"),
     ("get", "/api/audit/"), ("post", "/api/enterprises/"), ("put", DECLARATION_URL),
     ("delete", f"/api/enterprises/{ALICE_CODE}")],
)
def test_no_credentials_is_401(db, method, url):
    # A real browser client: CSRF is enforced, and still there is no session, so the answer is 401.
    client = Client(enforce_csrf_checks=True)
    if method == "get":
        response = client.get(url)
    else:
        response = getattr(client, method)(url, "{}", content_type="application/json")
    assert_error(response, 401, "unauthenticated")


def test_a_session_write_without_the_csrf_token_is_403(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.alice)

    response = client.patch(f"/api/enterprises/{ALICE_CODE}", json.dumps({"name": "x"}),
                            content_type="application/json")

    assert_error(response, 403, "csrf_failed")
    cast.alice_co.refresh_from_db()
    assert cast.alice_co.name == "重庆金凤微电子科技有限公司"


def test_a_session_write_with_the_csrf_token_works(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.alice)
    client.get("/")  # the page sets the CSRF cookie, as a browser would get it
    token = client.cookies["csrftoken"].value

    response = client.patch(f"/api/enterprises/{ALICE_CODE}", json.dumps({"contact_phone": "023-6500 0000"}),
                            content_type="application/json", headers={"X-CSRFToken": token})

    assert response.status_code == 200
    cast.alice_co.refresh_from_db()
    assert cast.alice_co.contact_phone == "023-6500 0000"


def test_a_session_read_needs_no_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.alice)
    assert client.get("/api/accounts/me").status_code == 200


def test_forbidden_is_403(client, cast):
    client.force_login(cast.alice)
    body = assert_error(client.get("/api/audit/"), 403, "forbidden")
    assert body["extra"] == {}


def test_a_service_error_keeps_its_code_and_extra(olivia):
    body = {"credit_code": "914403001922038217", "name": "华为", "city": "shenzhen"}
    error = assert_error(olivia.post("/api/enterprises/", json.dumps(body), content_type="application/json"),
                         422, "invalid_credit_code")
    assert error["extra"] == {"fields": {"credit_code": ["统一社会信用代码校验位错误"]}}


@pytest.mark.parametrize("query", ["limit=abc", "offset=-1", "limit=5000", "since=not-a-date"])
def test_a_bad_query_parameter_is_422(olivia, query):
    url = "/api/audit/" if query.startswith("since") else "/api/enterprises/"
    assert_error(olivia.get(f"{url}?{query}"), 422, "invalid")


def test_a_bad_path_parameter_is_422(olivia):
    error = assert_error(olivia.get(f"/api/enterprises/{ALICE_CODE}/declarations/last-year"), 422, "invalid")
    assert error["extra"]["errors"][0]["loc"] == ["path", "fiscal_year"]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/enterprises/%00", None),
        ("get", "/api/enterprises/?q=%00", None),
        ("get", "/api/audit/?actor=a%00b", None),
        ("patch", f"/api/enterprises/{ALICE_CODE}", '{"district": "a\\u0000b"}'),
        ("put", DECLARATION_URL, '{"figures": {}, "provenance": {"sales\\u0000": {}}}'),
    ],
)
def test_a_nul_character_is_422_not_a_database_error(olivia, cast, method, url, body):
    # Found by the fuzz run on PostgreSQL, whose text columns cannot hold U+0000.
    if body is None:
        response = olivia.get(url)
    else:
        response = getattr(olivia, method)(url, body, content_type="application/json")
    assert_error(response, 422, "invalid")
    cast.alice_co.refresh_from_db()
    assert cast.alice_co.district == "高新区"


def test_an_unknown_api_path_answers_the_error_shape(client):
    response = client.get("/api/no-such-endpoint")
    assert response.status_code == 404
    assert response.json() == {"message": "未找到 (not found)", "code": "not_found", "extra": {}}


def test_a_method_the_route_does_not_take_answers_the_error_shape(client, cast):
    client.force_login(cast.olivia)
    response = client.post("/api/accounts/me")
    assert response.status_code == 405
    assert response.json() == {
        "message": "不支持该请求方法 (method not allowed)",
        "code": "method_not_allowed",
        "extra": {"allow": ["GET"]},
    }
    assert response["Allow"] == "GET"
