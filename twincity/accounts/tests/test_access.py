"""Who sees what: bob never sees alice's company, banks never see each other, charlie sees only public pages.

The isolation tests walk every route (the HTML URLconf and the API's OpenAPI document), so a page or
endpoint added later is covered without touching this file.
"""

import json
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from config.api import api
from twincity.accounts.models import ApiToken
from twincity.accounts.services import api_token_create
from twincity.core.models import AuditEntry
from twincity.enterprises.models import AnnualDeclaration, Enterprise
from twincity.enterprises.services import declaration_upsert
from twincity.testing import ALICE_CODE

ALICE_NAME = "重庆金凤微电子科技有限公司"
YEAR = 2025
WRITE_METHODS = {"post", "put", "patch", "delete"}
# Searches would find alice's company by this prefix of its code if the access rule were missing; pages echo
# the query, so it is not the full code the responses are checked for.
ALICE_CODE_PREFIX = ALICE_CODE[:12]


@pytest.fixture
def alice_data(cast):
    """Alice's company with a filed declaration, and an API token acting as alice."""
    declaration_upsert(actor=cast.alice, enterprise=cast.alice_co, fiscal_year=YEAR,
                       figures={"employees": 40, "rd_staff": 12, "sales": "1234.5"})
    token, _key = api_token_create(actor=cast.olivia, user=cast.alice, name="alice's ERP")
    return {"credit_code": ALICE_CODE, "fiscal_year": YEAR, "token_id": token.pk, "fact": "market_top3_cn"}


def _state():
    """Everything of alice's that bob might try to change."""
    return {
        "enterprises": list(Enterprise.objects.order_by("pk").values()),
        "declarations": list(AnnualDeclaration.objects.order_by("pk").values()),
        "tokens": list(ApiToken.objects.order_by("pk").values()),
        # Making one's own calendar-feed address (POST /instruments/calendar-token) is bob's own business.
        "audit_entries": AuditEntry.objects.exclude(object_type="instruments.calendartoken").count(),
    }


def _fill(route: str, values: dict[str, object]) -> str:
    """Put alice's ids into a route's parameters, `{name}` (OpenAPI) or `<conv:name>` (Django)."""

    def value(match: re.Match) -> str:
        return str(values.get(match.group("name"), 1))

    route = re.sub(r"\{(?P<name>\w+)\}", value, route)
    return re.sub(r"<(?:\w+:)?(?P<name>\w+)>", value, route)


def _api_operations():
    paths = api.get_openapi_schema()["paths"]
    return [(path, method) for path, operations in paths.items() for method in operations]


def _html_routes(patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _html_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and not (route.startswith("api/") and pattern.name not in {
            "openapi-json", "openapi-view", "api-root"
        }):
            yield "/" + route


# Bodies that would change alice's data if the access rule were missing; anything else gets {}.
BODIES = {
    ("patch", "/api/enterprises/{credit_code}"): {"name": "被鲍勃改名的公司"},
    ("put", "/api/enterprises/{credit_code}/declarations/{fiscal_year}"): {"figures": {"employees": 1}},
    ("post", "/api/enterprises/"): {"credit_code": "914403001922038216", "name": "华为技术有限公司",
                                    "city": "shenzhen"},
    ("post", "/api/accounts/tokens"): {"username": "alice", "name": "bob's way in"},
}


def _names_alice_objects(route: str) -> bool:
    return any(name in route for name in ("credit_code", "fiscal_year", "token_id"))


def _refused_by_the_schema(response) -> bool:
    """A 422 for a malformed body never reached the view, so it tells nothing about alice's objects."""
    if response.status_code != 422:
        return False
    errors = response.json()["extra"].get("errors", [])
    return bool(errors) and all(error["loc"][0] == "body" for error in errors)


def _assert_nothing_of_alice(response):
    body = response.content.decode(errors="replace")
    assert ALICE_CODE not in body
    assert ALICE_NAME not in body


@pytest.mark.parametrize(("path", "method"), _api_operations(), ids=lambda v: str(v))
def test_bob_cannot_read_or_change_alice_data_through_any_api_operation(client, cast, alice_data, path, method):
    client.force_login(cast.bob)
    before = _state()
    url = _fill(path, alice_data)
    kwargs = {}
    if method in WRITE_METHODS:
        kwargs = {"data": json.dumps(BODIES.get((method, path), {})), "content_type": "application/json"}
    else:
        url += f"?q={ALICE_CODE_PREFIX}&credit_code={ALICE_CODE_PREFIX}"

    response = getattr(client, method)(url, **kwargs)

    assert response.status_code < 500
    if _names_alice_objects(path) and not _refused_by_the_schema(response):
        assert response.status_code in (403, 404), response.content
    _assert_nothing_of_alice(response)
    assert _state() == before


@pytest.mark.parametrize("route", list(_html_routes()))
@pytest.mark.parametrize("method", ["get", "post"])
def test_bob_cannot_read_or_change_alice_data_through_any_page(client, cast, alice_data, route, method):
    client.force_login(cast.bob)
    before = _state()
    url = _fill(route, alice_data)
    if method == "get":
        url += f"?q={ALICE_CODE_PREFIX}"

    response = getattr(client, method)(url, follow=True)

    # /healthz answers 503 by design here: no task worker runs beside the test suite (twincity/core/tests).
    assert response.status_code < 500 or (route == "/healthz" and response.status_code == 503)
    if _names_alice_objects(route):
        assert response.status_code in (403, 404, 405)
    _assert_nothing_of_alice(response)
    assert _state() == before


def test_every_route_is_walked():
    routes = list(_html_routes())
    assert "/enterprises/<str:credit_code>/" in routes
    assert "/accounts/tokens/<int:token_id>/revoke" in routes
    assert ("/api/enterprises/{credit_code}/declarations/{fiscal_year}", "put") in _api_operations()


def test_bob_cannot_read_alice_enterprise_page(client, cast):
    client.force_login(cast.bob)
    assert client.get(f"/enterprises/{ALICE_CODE}/").status_code == 404
    assert client.get(f"/enterprises/{cast.bob_co.credit_code}/").status_code == 200


def test_bob_cannot_change_or_delete_alice_enterprise_through_the_api(client, cast, alice_data):
    client.force_login(cast.bob)

    patched = client.patch(f"/api/enterprises/{ALICE_CODE}", json.dumps({"name": "鲍勃公司"}),
                           content_type="application/json")
    deleted = client.delete(f"/api/enterprises/{ALICE_CODE}")
    put = client.put(f"/api/enterprises/{ALICE_CODE}/declarations/{YEAR}",
                     json.dumps({"figures": {"employees": 1}}), content_type="application/json")
    deleted_year = client.delete(f"/api/enterprises/{ALICE_CODE}/declarations/{YEAR}")

    assert [r.status_code for r in (patched, deleted, put, deleted_year)] == [404, 404, 404, 404]
    assert patched.json() == {"message": "企业不存在或无权查看 (no such enterprise)", "code": "not_found", "extra": {}}
    assert Enterprise.objects.get(credit_code=ALICE_CODE).name == ALICE_NAME
    assert AnnualDeclaration.objects.get(enterprise=cast.alice_co, fiscal_year=YEAR).employees == 40


def test_bob_lists_only_his_own_company(client, cast):
    client.force_login(cast.bob)

    api_list = client.get("/api/enterprises/").json()
    page = client.get("/enterprises/")

    assert api_list["count"] == 1
    assert [e["credit_code"] for e in api_list["items"]] == [cast.bob_co.credit_code]
    assert [e.credit_code for e in page.context["page"].object_list] == [cast.bob_co.credit_code]
    assert ALICE_NAME not in page.content.decode()


def test_alice_sees_her_own_declarations(client, cast, alice_data):
    # The other side of the isolation tests: the same requests work for the company's own user.
    client.force_login(cast.alice)

    response = client.get(f"/api/enterprises/{ALICE_CODE}/declarations/{YEAR}")

    assert response.status_code == 200
    assert response.json()["employees"] == 40


# --- banks ----------------------------------------------------------------------------------------------


def _organisation_ids(client) -> set[int]:
    response = client.get("/api/accounts/organisations")
    assert response.status_code == 200
    return {organisation["id"] for organisation in response.json()["items"]}


def test_bella_sees_her_bank_and_its_branches_only(client, cast):
    client.force_login(cast.bella)
    assert _organisation_ids(client) == {cast.bank_a.pk, cast.bank_a_branch.pk}


def test_bruno_sees_his_bank_and_its_branches_only(client, cast):
    client.force_login(cast.bruno)
    assert _organisation_ids(client) == {cast.bank_b.pk, cast.bank_b_branch.pk}


def test_bella_home_page_does_not_name_the_other_bank(client, cast):
    client.force_login(cast.bella)
    content = client.get("/").content.decode()
    assert cast.bank_a_branch.name in content
    assert cast.bank_b.name not in content
    assert cast.bank_b_branch.name not in content


@pytest.mark.parametrize("officer", ["bella", "bruno"])
def test_bank_officers_cannot_list_or_issue_tokens_or_read_the_audit(client, cast, officer):
    api_token_create(actor=cast.olivia, user=cast.bella, name="bank A core system")
    api_token_create(actor=cast.olivia, user=cast.bruno, name="bank B core system")
    client.force_login(getattr(cast, officer))

    tokens = client.get("/api/accounts/tokens")
    issued = client.post("/api/accounts/tokens", json.dumps({"username": officer, "name": "mine"}),
                         content_type="application/json")

    assert tokens.status_code == 403  # one answer for "not allowed": the same as for runs and the audit
    assert tokens.json()["code"] == "forbidden"
    assert issued.status_code == 403
    assert issued.json()["code"] == "forbidden"
    assert ApiToken.objects.count() == 2
    assert client.get("/api/audit/").status_code == 403
    assert client.get("/accounts/tokens/").status_code == 403
    assert client.get("/audit/").status_code == 403


def test_bank_officers_cannot_read_declarations(client, cast, alice_data):
    client.force_login(cast.bella)
    assert client.get(f"/api/enterprises/{ALICE_CODE}").status_code == 200  # the registry profile is shared
    # She may see the company, not its finances: 403, on the list and on a year alike.
    response = client.get(f"/api/enterprises/{ALICE_CODE}/declarations")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert client.get(f"/api/enterprises/{ALICE_CODE}/declarations/{YEAR}").status_code == 403
    assert "employees" not in response.content.decode()


# --- charlie, no role -----------------------------------------------------------------------------------


def test_charlie_home_page_names_no_company(client, cast):
    client.force_login(cast.charlie)
    response = client.get("/")
    assert response.status_code == 200
    content = response.content.decode()
    for enterprise in Enterprise.objects.all():
        assert enterprise.name not in content
        assert enterprise.credit_code not in content


def test_anonymous_home_page_names_no_company(client, cast):
    response = Client().get("/")
    assert response.status_code == 200
    assert ALICE_NAME not in response.content.decode()
    assert cast.bob_co.name not in response.content.decode()


def test_charlie_may_not_open_the_enterprise_list(client, cast):
    client.force_login(cast.charlie)
    response = client.get("/enterprises/")
    assert response.status_code == 403
    assert ALICE_NAME not in response.content.decode()


@pytest.mark.parametrize(("url", "status"), [("/api/enterprises/", 403), ("/api/accounts/tokens", 403),
                                             ("/api/points/runs", 403)])
def test_charlie_may_not_use_lists_he_has_no_part_in(client, cast, url, status):
    client.force_login(cast.charlie)
    response = client.get(url)
    assert response.status_code == status
    assert response.json()["code"] == "forbidden"


def test_charlie_sees_no_organisation(client, cast):
    client.force_login(cast.charlie)
    assert client.get("/api/accounts/organisations").json() == {"items": [], "count": 0}


def test_charlie_cannot_open_a_company_or_the_audit(client, cast):
    client.force_login(cast.charlie)
    assert client.get(f"/enterprises/{ALICE_CODE}/").status_code == 404
    assert client.get(f"/api/enterprises/{ALICE_CODE}").status_code == 404
    assert client.get("/enterprises/mine/").status_code == 404
    assert client.get("/audit/").status_code == 403
    response = client.get("/api/audit/")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_anonymous_visitors_are_sent_to_log_in(client, cast):
    response = client.get("/enterprises/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/api/enterprises/").status_code == 401
